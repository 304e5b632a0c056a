import Foundation
import Testing
import TensorCore
import _TestSupport

/// A safetensors buffer from a header and data bytes; `declaredLength` overrides the prefix.
private func crafted(_ header: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var out = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(header.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    out.append(contentsOf: data)
    return out
}

private func crafted(_ header: String, data: [UInt8] = []) -> Data {
    crafted(Array(header.utf8), data: data)
}

private func parseError(_ data: Data) -> SafeTensorsError? {
    do {
        _ = try SafeTensors.parse(data, path: "crafted")
        return nil
    } catch {
        return error
    }
}

/// The enum case name of an error, for cases whose payload holds free-form text.
private func caseName(_ error: SafeTensorsError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

private func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

@Test func writeAndReadFloatAndIntegerArrays() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("mixed.safetensors")
    let weight = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .infinity, -0.0, 0x1p-140])
    try SafeTensors.write(
        arrays: [
            ("weight", .float32(weight)),
            ("scalar", .float32(Tensor(7))),
            ("frames", .uint8([0, 128, 255, 3], shape: [1, 2, 2])),
            ("labels", .int64([-5, 0, 1 << 40], shape: [3])),
        ],
        metadata: ["note": "mixed"], to: url)

    let file = try SafeTensors.read(contentsOf: url)
    #expect(file.names == ["weight", "scalar", "frames", "labels"])
    #expect(file.metadata == ["note": "mixed"])
    #expect(file.entry(named: "frames") == SafeTensorsEntry(name: "frames", dtype: .uint8, shape: [1, 2, 2], dataOffsets: 28..<32))
    let read = try file.tensor(named: "weight")
    #expect(read.shape == [2, 3])
    #expect(read.scalars.map(\.bitPattern) == weight.scalars.map(\.bitPattern))
    #expect(try file.tensor(named: "scalar") == Tensor(7))
    #expect(try file.uint8s(named: "frames") == ([1, 2, 2], [0, 128, 255, 3]))
    #expect(try file.integers(named: "frames").values == [0, 128, 255, 3])
    #expect(try file.integers(named: "labels") == ([3], [-5, 0, 1 << 40]))
    #expect(try file.floatTensors().map(\.0) == ["weight", "scalar"])
    #expect(try file.rawBytes(named: "labels") == Data(littleEndian([Int64(-5), 0, 1 << 40])))
}

@Test func encodedHeaderIsCompactPaddedAndOrdered() throws {
    let data = try SafeTensors.encode(
        arrays: [("b", .float32(Tensor([1, 2]))), ("a", .uint8([9], shape: []))], metadata: ["k": "v"])
    let header = #"{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}"#
    let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
    let length = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    #expect(length == UInt64(padded.utf8.count) && length % 8 == 0)
    #expect(String(decoding: data.dropFirst(8).prefix(Int(length)), as: UTF8.self) == padded)
    #expect(Array(data.suffix(9)) == littleEndian([Float(1).bitPattern, Float(2).bitPattern]) + [9])
}

@Test func writeReplacesAtomicallyWithoutLeftovers() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("w.safetensors")
    try SafeTensors.write([("x", Tensor([1]))], to: url)
    try SafeTensors.write([("y", Tensor([2, 3]))], to: url)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["w.safetensors"])
    #expect(try SafeTensors.read(contentsOf: url).tensor(named: "y") == Tensor([2, 3]))
    let missingDirectory = directory.appendingPathComponent("absent/w.safetensors")
    #expect(throws: SafeTensorsError.self) { try SafeTensors.write([("x", Tensor([1]))], to: missingDirectory) }
}

@Test func writerRejectsDuplicateAndReservedNames() {
    #expect(throws: SafeTensorsError.duplicateName(path: "<memory>", name: "a")) {
        try SafeTensors.encode(arrays: [("a", .float32(Tensor([1]))), ("a", .float32(Tensor([2])))])
    }
    #expect(throws: SafeTensorsError.invalidName(path: "<memory>", name: "__metadata__")) {
        try SafeTensors.encode(arrays: [("__metadata__", .float32(Tensor([1])))])
    }
}

@Test func namesWithEscapesRoundTrip() throws {
    let names = ["quote\"d", "back\\slash", "tab\tnew\nline", "caf\u{E9}", "\u{1F3AC}", "ctl\u{01}"]
    let data = try SafeTensors.encode(arrays: names.map { ($0, .float32(Tensor([1]))) }, metadata: ["\u{E9}": "\"x\""])
    let file = try SafeTensors.parse(data, path: "escapes")
    #expect(file.names == names)
    #expect(file.metadata == ["\u{E9}": "\"x\""])
    // Escaped forms a foreign writer may use: \u escapes, a surrogate pair and \/.
    let foreign = crafted(#"{"caf\u00e9\ud83c\udfac\/":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [4])
    #expect(try SafeTensors.parse(foreign, path: "foreign").names == ["caf\u{E9}\u{1F3AC}/"])
}

@Test func pythonWrittenFixture() throws {
    // Produced by Scripts/reference/make_safetensors_fixture.py (values documented there).
    let url = try #require(Bundle.module.url(forResource: "python_written", withExtension: "safetensors", subdirectory: "Fixtures"))
    let file = try SafeTensors.read(contentsOf: url)
    #expect(file.metadata == ["format": "pt", "produced_by": "Scripts/reference/make_safetensors_fixture.py"])
    #expect(Set(file.names) == [
        "f32_arange", "f32_scalar", "f32_empty", "f16_values", "bf16_values", "f64_values",
        "f8_e4m3", "f8_e5m2", "i64_labels", "i32_values", "u8_frames", "bool_mask",
    ])
    #expect(try file.tensor(named: "f32_arange") == Tensor(shape: [2, 3], scalars: [-1, -0.5, 0, 0.5, 1, 1.5]))
    #expect(try file.tensor(named: "f32_scalar") == Tensor(3.25))
    #expect(try file.tensor(named: "f32_empty") == Tensor(zeros: [0, 3]))
    let half = try file.tensor(named: "f16_values")
    #expect(half.scalars.map(\.bitPattern) == [1, -2.5, 65504, 0x1p-14, 0x1p-24, -0.0, .infinity, -.infinity].map { (v: Float) in v.bitPattern })
    #expect(try file.tensor(named: "bf16_values") == Tensor(shape: [2, 4], scalars: [-1.5, -0.75, 0, 0.75, 3.140625, 0x1p100, 0x1p-130, .infinity]))
    #expect(try file.tensor(named: "f64_values") == Tensor([Float(0.1), Float(-1e-3), Float(1e10)]))
    #expect(try file.tensor(named: "f8_e4m3") == Tensor([0.5, -1.75, 448, 0x1p-9]))
    #expect(try file.tensor(named: "f8_e5m2") == Tensor([0.5, -1.75, 57344, 0x1p-16]))
    #expect(try file.integers(named: "i64_labels") == ([4], [-1, 0, 7, 1 << 40]))
    #expect(try file.integers(named: "i32_values") == ([2], [Int(Int32.min), Int(Int32.max)]))
    #expect(try file.uint8s(named: "u8_frames") == ([2, 2, 3], (0..<12).map { UInt8($0 * 23 % 256) }))
    #expect(try file.integers(named: "bool_mask") == ([3], [1, 0, 1]))
}

@Test func swiftWrittenFixture() throws {
    // Checked from Python by Scripts/reference/check_safetensors_roundtrip.py; regenerate with
    // VIDEOSSL_WRITE_FIXTURES=1 swift test --filter swiftWrittenFixture
    var arrays = formulaModel().stateDict().map { ($0.0, SafeTensorsArray.float32($0.1)) }
    arrays.append(("frames", .uint8((0..<12).map { UInt8($0 * 37 % 256) }, shape: [2, 2, 3])))
    arrays.append(("labels", .int64([-3, 0, 5, 1 << 40], shape: [4])))
    let bytes = try SafeTensors.encode(arrays: arrays, metadata: ["format": "pt", "produced_by": "SafeTensorsTests"])
    if ProcessInfo.processInfo.environment["VIDEOSSL_WRITE_FIXTURES"] == "1" {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/swift_written.safetensors")
        try SafeTensors.write(arrays: arrays, metadata: ["format": "pt", "produced_by": "SafeTensorsTests"], to: source)
        #expect(try Data(contentsOf: source) == bytes)
        return
    }
    let url = try #require(Bundle.module.url(forResource: "swift_written", withExtension: "safetensors", subdirectory: "Fixtures"))
    #expect(try Data(contentsOf: url) == bytes)
}

@Test func float16ConversionIsExactForEveryBitPattern() throws {
    let patterns = (0...UInt16.max).map { $0 }
    let header = #"{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#
    let values = try SafeTensors.parse(crafted(header, data: littleEndian(patterns)), path: "f16").tensor(named: "h").scalars
    let mismatches = patterns.indices.filter { i in
        let expected = halfReference(patterns[i])
        return expected.isNaN ? !values[i].isNaN : values[i].bitPattern != expected.bitPattern
    }
    let firstMismatches = Array(mismatches.prefix(5))
    #expect(mismatches.count == 0, "first mismatching patterns: \(firstMismatches)")
}

/// Reference half → float: the hardware type where the platform has it, else the IEEE formula.
private func halfReference(_ bits: UInt16) -> Float {
    #if !(os(macOS) && arch(x86_64))
    return Float(Float16(bitPattern: bits))
    #else
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int(bits >> 10 & 0x1F), mantissa = Float(bits & 0x3FF)
    if exponent == 0 { return sign * mantissa * 0x1p-24 }
    if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
    return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    #endif
}

@Test func bfloat16AndFloat64Conversion() throws {
    let bf16: [UInt16] = [0x3F80, 0xC049, 0x7F80, 0x0001, 0x8000, 0x7FC0]
    let f64: [Double] = [0.1, -1e300, 1e-50, 3.0000001]
    let header = #"{"b":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]},"d":{"dtype":"F64","shape":[4],"data_offsets":[12,44]}}"#
    let file = try SafeTensors.parse(crafted(header, data: littleEndian(bf16) + littleEndian(f64.map(\.bitPattern))), path: "bf")
    let b = try file.tensor(named: "b").scalars
    #expect(b.prefix(5).map(\.bitPattern) == [1, -3.140625, .infinity, 0x1p-133, -0.0].map { (v: Float) in v.bitPattern })
    #expect(b[5].isNaN)
    #expect(try file.tensor(named: "d").scalars == [Float(0.1), -.infinity, 0, Float(3.0000001)])
}

@Test func accessErrorsNameTheTensor() throws {
    let header = #"{"f":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"U64","shape":[1],"data_offsets":[4,12]}}"#
    let file = try SafeTensors.parse(crafted(header, data: [0, 0, 128, 63] + [UInt8](repeating: 255, count: 8)), path: "p")
    #expect(try file.tensor(named: "f") == Tensor([1]))
    #expect(throws: SafeTensorsError.tensorNotFound(path: "p", name: "g")) { try file.tensor(named: "g") }
    #expect(throws: SafeTensorsError.wrongKind(path: "p", name: "f", dtype: "F32", requested: "Int")) { try file.integers(named: "f") }
    #expect(throws: SafeTensorsError.wrongKind(path: "p", name: "u", dtype: "U64", requested: "Float32")) { try file.tensor(named: "u") }
    #expect(throws: SafeTensorsError.wrongKind(path: "p", name: "u", dtype: "U64", requested: "UInt8")) { try file.uint8s(named: "u") }
    #expect(throws: SafeTensorsError.valueOutOfRange(path: "p", name: "u")) { try file.integers(named: "u") }
}

@Test func fileErrorsCarryThePath() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("truncated.safetensors")
    let full = try SafeTensors.encode(arrays: [("w", .float32(Tensor([1, 2, 3])))])
    try full.prefix(20).write(to: url)
    #expect(throws: SafeTensorsError.headerExceedsFile(path: url.path, headerLength: UInt64(full.count - 20), fileSize: 20)) {
        try SafeTensors.read(contentsOf: url)
    }
    let absent = directory.appendingPathComponent("absent.safetensors")
    #expect { try SafeTensors.read(contentsOf: absent) } throws: { error in
        guard case let .unreadable(path, _) = error as? SafeTensorsError else { return false }
        return path == absent.path && error.localizedDescription.hasPrefix(absent.path)
    }
}

@Test func everyTruncationAndCorruptionThrowsInsteadOfCrashing() throws {
    let full = try SafeTensors.encode(
        arrays: [("a", .float32(Tensor([1, 2]))), ("b", .int64([7], shape: [1, 1]))], metadata: ["m": "v"])
    for length in 0..<full.count {
        #expect(parseError(full.prefix(length)) != nil, "prefix of \(length) bytes parsed")
    }
    // Random byte flips anywhere: each either parses or throws a typed error; none may trap.
    var generator = RandomGenerator(seed: 11)
    var thrown = 0
    for _ in 0..<500 {
        var bytes = [UInt8](full)
        bytes[generator.nextInt(below: bytes.count)] = UInt8(generator.nextInt(below: 256))
        if parseError(Data(bytes)) != nil { thrown += 1 }
    }
    #expect(thrown > 100)
}

/// One hand-made malformed buffer and the error it must raise.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: Data
    /// The exact error, when its payload is predictable; otherwise only `kind` is checked.
    var expected: SafeTensorsError?
    var kind: String
    var testDescription: String { label }

    init(_ label: String, _ bytes: Data, _ expected: SafeTensorsError) {
        self.label = label
        self.bytes = bytes
        self.expected = expected
        self.kind = caseName(expected)
    }

    init(_ label: String, _ bytes: Data, kind: String) {
        self.label = label
        self.bytes = bytes
        self.expected = nil
        self.kind = kind
    }
}

private func entry(_ name: String, _ dtype: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
    #""\#(name)":{"dtype":"\#(dtype)","shape":[\#(shape)],"data_offsets":[\#(begin),\#(end)]}"#
}

private let eight = [UInt8](repeating: 0, count: 8)

let malformedCases: [MalformedCase] = [
    .init("shorter than 8 bytes", Data([1, 2, 3]), .fileTooShort(path: "crafted", byteCount: 3)),
    .init("absurd header length", crafted([], declaredLength: .max), .headerTooLarge(path: "crafted", headerLength: .max)),
    .init("header just over the limit", crafted([], declaredLength: 100_000_001), .headerTooLarge(path: "crafted", headerLength: 100_000_001)),
    .init("header longer than file", crafted(Array("{}".utf8), declaredLength: 100), .headerExceedsFile(path: "crafted", headerLength: 100, fileSize: 10)),
    .init("header not UTF-8", crafted([0x7B, 0xFF, 0x7D]), .headerNotUTF8(path: "crafted")),
    .init("truncated JSON", crafted(#"{"a":"#), kind: "invalidJSON"),
    .init("header is an array", crafted("[1]"), kind: "invalidJSON"),
    .init("text after the object", crafted("{} x"), kind: "invalidJSON"),
    .init("empty header", crafted(""), kind: "invalidJSON"),
    .init("deep nesting", crafted(String(repeating: "[", count: 5000)), kind: "invalidJSON"),
    .init("bad escape", crafted(#"{"a\q":1}"#), kind: "invalidJSON"),
    .init("lone surrogate", crafted(#"{"\ud800":1}"#), kind: "invalidJSON"),
    .init("duplicate name", crafted("{" + entry("a", "F32", "1", 0, 4) + "," + entry("a", "F32", "1", 4, 8) + "}", data: eight), .duplicateName(path: "crafted", name: "a")),
    .init("missing dtype", crafted(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("missing offsets", crafted(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("entry not an object", crafted(#"{"a":[0,4]}"#), kind: "invalidEntry"),
    .init("negative extent", crafted("{" + entry("a", "F32", "-1", 0, 4) + "}", data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("fractional extent", crafted("{" + entry("a", "F32", "1.0", 0, 4) + "}", data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("three offsets", crafted(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("shape overflows", crafted("{" + entry("a", "F32", "4611686018427387904,4", 0, 4) + "}", data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("dtype given twice", crafted(#"{"a":{"dtype":"F32","dtype":"U8","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), kind: "invalidEntry"),
    .init("unknown dtype", crafted("{" + entry("a", "Q7", "1", 0, 4) + "}", data: [0, 0, 0, 0]), .unknownDType(path: "crafted", name: "a", dtype: "Q7")),
    .init("span differs from shape", crafted("{" + entry("a", "F32", "3", 0, 8) + "}", data: eight), .sizeMismatch(path: "crafted", name: "a", expectedBytes: 12, spanBytes: 8)),
    .init("offsets past the buffer", crafted("{" + entry("a", "F32", "4", 0, 16) + "}", data: eight), .offsetsOutOfBounds(path: "crafted", name: "a", begin: 0, end: 16, bufferSize: 8)),
    .init("offsets reversed", crafted("{" + entry("a", "F32", "2", 8, 0) + "}", data: eight), .offsetsOutOfBounds(path: "crafted", name: "a", begin: 8, end: 0, bufferSize: 8)),
    .init("overlapping tensors", crafted("{" + entry("a", "F32", "2", 0, 8) + "," + entry("b", "F32", "2", 4, 12) + "}", data: eight + [0, 0, 0, 0]), .overlappingData(path: "crafted", first: "a", second: "b")),
    .init("gap between tensors", crafted("{" + entry("a", "F32", "1", 0, 4) + "," + entry("b", "F32", "1", 8, 12) + "}", data: eight + [0, 0, 0, 0]), .uncoveredData(path: "crafted", begin: 4, end: 8)),
    .init("trailing bytes", crafted("{" + entry("a", "F32", "1", 0, 4) + "}", data: eight), .uncoveredData(path: "crafted", begin: 4, end: 8)),
    .init("metadata value not a string", crafted(#"{"__metadata__":{"k":1}}"#), kind: "invalidMetadata"),
    .init("metadata not an object", crafted(#"{"__metadata__":"x"}"#), kind: "invalidMetadata"),
]

@Test(arguments: malformedCases)
func malformedFileThrowsSpecificError(_ testCase: MalformedCase) {
    let error = parseError(testCase.bytes)
    guard let error else {
        Issue.record("\(testCase.label): parsed without error")
        return
    }
    #expect(caseName(error) == testCase.kind, "\(error)")
    if let expected = testCase.expected { #expect(error == expected) }
    #expect("\(error)".hasPrefix("crafted: "), "\(error)")
}

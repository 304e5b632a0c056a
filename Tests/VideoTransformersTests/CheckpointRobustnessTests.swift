import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// A minimal uncompressed zip writer, so tests can wrap hand-built pickles in valid archives
/// (with correct CRCs) and reach the unpickler with arbitrary bytes.
private enum StoredZip {
    static func make(_ records: [(String, [UInt8])]) -> Data {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, bytes) in records {
            let nameBytes = Array(name.utf8)
            let crc = crc32(bytes)
            let offset = out.count
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0)
                + le32(crc) + le32(bytes.count) + le32(bytes.count) + le16(nameBytes.count) + le16(0)
                + nameBytes + bytes
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0)
                + le32(crc) + le32(bytes.count) + le32(bytes.count) + le16(nameBytes.count)
                + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + nameBytes
        }
        let start = out.count
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(records.count) + le16(records.count)
            + le32(central.count) + le32(start) + le16(0)
        return Data(out)
    }

    private static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    private static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
    private static func le32(_ v: UInt32) -> [UInt8] { le32(Int(v)) }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

private func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

/// `{"w": _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict())}`
/// as torch.save would pickle it (protocol 2, with memo puts).
private func tensorPickle(numel: Int = 4, offset: Int = 0, size: [Int] = [2, 2], stride: [Int] = [1, 2]) -> [UInt8] {
    func unicode(_ s: String) -> [UInt8] { [0x58] + withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian) { Array($0) } + Array(s.utf8) }
    func ints(_ xs: [Int]) -> [UInt8] { [0x28] + xs.flatMap { [0x4B, UInt8($0)] } + [0x74] }
    var p: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28]
    p += unicode("w")
    p += Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x71, 0x01]
    p += [0x28, 0x28] + unicode("storage") + Array("ctorch\nFloatStorage\n".utf8) + unicode("0") + unicode("cpu")
    p += [0x4B, UInt8(numel), 0x74, 0x51]
    p += [0x4B, UInt8(offset)] + ints(size) + ints(stride)
    p += [0x89] + Array("ccollections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x74, 0x52]
    p += [0x75, 0x2E]
    return p
}

private func archive(pickle: [UInt8], storage: [UInt8] = floatBytes([1, 2, 3, 4]), byteorder: String = "little") -> Data {
    StoredZip.make([("t/data.pkl", pickle), ("t/byteorder", Array(byteorder.utf8)), ("t/data/0", storage)])
}

private func parseError(_ data: Data) -> CheckpointError? {
    checkpointError { _ = try Checkpoint.parse(data, path: "crafted") }
}

@Test func handBuiltPickleGathersTransposedView() throws {
    let checkpoint = try Checkpoint.parse(archive(pickle: tensorPickle()), path: "crafted")
    #expect(checkpoint.names == ["w"])
    // Storage [1, 2, 3, 4] with strides (1, 2) is the transpose of [[1, 2], [3, 4]].
    #expect(checkpoint.tensor(named: "w") == Tensor(shape: [2, 2], scalars: [1, 3, 2, 4]))
    let offset = try Checkpoint.parse(archive(pickle: tensorPickle(offset: 1, size: [3], stride: [1])), path: "crafted")
    #expect(offset.tensor(named: "w") == Tensor([2, 3, 4]))
}

@Test func inconsistentTensorsAndArchivesAreRefused() {
    guard case .invalidTensor = parseError(archive(pickle: tensorPickle(size: [2, 2], stride: [2, 2]))) else {
        Issue.record("a view past the end of its storage must be refused")
        return
    }
    guard case .invalidTensor = parseError(archive(pickle: tensorPickle(), storage: floatBytes([1, 2, 3]))) else {
        Issue.record("a storage record shorter than numel must be refused")
        return
    }
    guard case .unsupportedArchive = parseError(archive(pickle: tensorPickle(), byteorder: "big")) else {
        Issue.record("big-endian archives must be refused")
        return
    }
    let noPickle = StoredZip.make([("t/data/0", floatBytes([1]))])
    #expect(parseError(noPickle) == .missingRecord(path: "crafted", record: "<archive>/data.pkl"))
    let noStorage = StoredZip.make([("t/data.pkl", tensorPickle())])
    #expect(parseError(noStorage) == .missingRecord(path: "crafted", record: "t/data/0"))
}

@Test func unsafeOpcodesAndGlobalsAreRefused() {
    // NEWOBJ (0x81) builds arbitrary objects; only argparse.Namespace() (the run arguments DINO and
    // SVT save beside their weights) is read, as an inert record.
    #expect(parseError(archive(pickle: [0x80, 0x02, 0x29, 0x29, 0x81, 0x2E]))
        == .unsupportedOpcode(path: "crafted", opcode: 0x81, offset: 4))
    // STACK_GLOBAL with builtins.eval is refused before anything could call it.
    let eval: [UInt8] = [0x80, 0x04, 0x8C, 0x08] + Array("builtins".utf8) + [0x8C, 0x04] + Array("eval".utf8) + [0x93, 0x2E]
    #expect(parseError(archive(pickle: eval)) == .forbiddenGlobal(path: "crafted", module: "builtins", name: "eval"))
    // A whitelisted storage class used as a callable is refused too.
    let call: [UInt8] = [0x80, 0x02] + Array("ctorch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2E]
    guard case .malformedPickle = parseError(archive(pickle: call)) else {
        Issue.record("calling a storage class must be refused")
        return
    }
    #expect(parseError(archive(pickle: [0x80, 0x02, 0x6A, 9, 0, 0, 0, 0x2E]))
        == .malformedPickle(path: "crafted", offset: 2, reason: "memo slot 9 is empty"))
}

/// Every truncation and every single-byte corruption of the pickle (re-zipped with a valid CRC, so
/// the unpickler itself sees the damage) must end in a typed error or a well-formed result.
@Test func corruptPicklesNeverCrash() {
    let pickle = tensorPickle()
    for length in 0..<pickle.count {
        #expect(parseError(archive(pickle: Array(pickle.prefix(length)))) != nil, "prefix \(length)")
    }
    for position in 0..<pickle.count {
        for replacement: UInt8 in [0x00, 0xFF, pickle[position] ^ 0x01] where replacement != pickle[position] {
            var damaged = pickle
            damaged[position] = replacement
            do {
                let checkpoint = try Checkpoint.parse(archive(pickle: damaged), path: "crafted")
                #expect(checkpoint.tensors.allSatisfy { $0.1.count == Tensor.elementCount($0.1.shape) })
            } catch {
                _ = error.description
            }
        }
    }
}

/// Every truncation and many byte flips of a real torch.save archive end in a typed error or a
/// well-formed result. Stored records are CRC-checked, so values change only when a flip renames
/// one record into another (a consistent, if different, archive); names and shapes never do.
/// (Checked once over every byte with four masks; the test samples to stay fast.)
@Test func truncatedAndFlippedArchivesThrowTypedErrors() throws {
    let data = try Data(contentsOf: checkpointFixture("plain.pth"))
    let original = try Checkpoint.parse(data, path: "plain")
    for length in stride(from: 0, to: data.count, by: 7) {
        #expect(parseError(data.prefix(length)) != nil, "prefix \(length)")
    }
    for position in stride(from: 0, to: data.count, by: 5) {
        var damaged = data
        damaged[position] ^= 0xFF
        do {
            let checkpoint = try Checkpoint.parse(damaged, path: "crafted")
            #expect(checkpoint.names == original.names, "flip at \(position)")
            #expect(checkpoint.tensors.map(\.1.shape) == original.tensors.map(\.1.shape), "flip at \(position)")
        } catch {
            _ = error.description
        }
    }
}

/// A 100 KB pickle of lists, tuples or dicts nested 50,000 deep is refused with a typed error
/// instead of overflowing the stack when the half-built value is freed.
@Test(arguments: ["list", "tuple", "dict"])
func deeplyNestedPicklesAreRefused(kind: String) {
    var p: [UInt8] = [0x80, 0x02]
    let depth = 50_000
    switch kind {
    case "list": p += [UInt8](repeating: 0x5D, count: depth) + [UInt8](repeating: 0x61, count: depth - 1)  // EMPTY_LIST…, APPEND…
    case "tuple": p += [0x29] + [UInt8](repeating: 0x85, count: depth)  // EMPTY_TUPLE, TUPLE1…
    default:  // EMPTY_DICT, then (BININT1 1, EMPTY_DICT)…, then SETITEM…: {1: {1: {…}}}
        p += [0x7D] + (1..<depth).flatMap { _ in [UInt8]([0x4B, 0x01, 0x7D]) } + [UInt8](repeating: 0x73, count: depth - 1)
    }
    p += [0x2E]
    guard case .malformedPickle(_, _, let reason)? = parseError(archive(pickle: p)) else {
        Issue.record("a \(kind) nested \(depth) deep must be refused")
        return
    }
    #expect(reason.contains("nested deeper than 100"), "\(reason)")
}

/// A safetensors file whose 8-byte header length begins 0x80 0x02 (a 640-byte header) looks like a
/// pickle's PROTO 2 opcode; it is still read as safetensors, not called a legacy torch.save file.
@Test func aSafeTensorsHeaderOfLength640IsNotTakenForAPickle() throws {
    var header = Array("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".utf8)
    header += [UInt8](repeating: 0x20, count: 640 - header.count)
    let bytes: [UInt8] = [0x80, 0x02, 0, 0, 0, 0, 0, 0] + header + [0, 0, 0x80, 0x3F]
    #expect(bytes[0] == 0x80 && bytes[1] == 2)
    let checkpoint = try Checkpoint.parse(Data(bytes), path: "deep.safetensors")
    #expect(checkpoint.tensor(named: "a") == Tensor([1]))
    // A real legacy pickle is still named as such.
    #expect(parseError(Data([0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E])) == .legacyPyTorchFormat(path: "crafted"))
}

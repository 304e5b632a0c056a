import Foundation

/// The description of one tensor in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's name (a state-dict key).
    public let name: String
    /// The element type stored in the file.
    public let dtype: SafeTensorsDType
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The byte range of the tensor in the data buffer (after the header).
    public let dataOffsets: Range<Int>

    /// Creates an entry description.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// The number of elements.
    public var elementCount: Int { Tensor.elementCount(shape) }
}

/// An opened, validated safetensors file.
///
/// Opening checks the whole header (see ``SafeTensorsError``); the data stays memory-mapped and
/// each tensor is converted only when read, so looking up one tensor of a large checkpoint is cheap.
public struct SafeTensorsFile: Sendable {
    /// The path the file was read from (or the label of an in-memory buffer).
    public let path: String
    /// The string metadata stored under `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, in the order its data appears in the file.
    public let entries: [SafeTensorsEntry]

    private let data: Data
    private let dataStart: Int
    private let index: [String: Int]

    init(path: String, metadata: [String: String], entries: [SafeTensorsEntry], data: Data, dataStart: Int) {
        self.path = path
        self.metadata = metadata
        self.entries = entries
        self.data = data
        self.dataStart = dataStart
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The tensor names, in file order.
    public var names: [String] { entries.map(\.name) }

    /// The entry for `name`, or nil when the file has no such tensor.
    public func entry(named name: String) -> SafeTensorsEntry? {
        index[name].map { entries[$0] }
    }

    /// Reads a floating-point tensor (`F32`, or `F16`, `BF16`, `F64`, `F8_*` converted to Float32).
    public func tensor(named name: String) throws(SafeTensorsError) -> Tensor {
        let entry = try lookup(name)
        guard entry.dtype.isFloatingPoint else {
            throw .wrongKind(path: path, name: name, dtype: entry.dtype.rawValue, requested: "Float32")
        }
        return withBytes(of: entry) { raw in
            Tensor(shape: entry.shape) { out in
                #if _endian(little)
                // The common case is a plain copy; the file's bytes already are host Floats.
                if entry.dtype == .float32 {
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
                    return
                }
                #endif
                for i in 0..<out.count { out[i] = entry.dtype.float(in: raw, at: i) }
            }
        }
    }

    /// Reads every floating-point tensor as Float32, in file order. Integer and boolean tensors are
    /// left out; read them with ``integers(named:)``.
    public func floatTensors() throws(SafeTensorsError) -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        for entry in entries where entry.dtype.isFloatingPoint {
            result.append((entry.name, try tensor(named: entry.name)))
        }
        return result
    }

    /// Reads an integer or boolean tensor (`I8`…`I64`, `U8`…`U64`, `BOOL`) as `Int` values.
    public func integers(named name: String) throws(SafeTensorsError) -> (shape: [Int], values: [Int]) {
        let entry = try lookup(name)
        guard !entry.dtype.isFloatingPoint else {
            throw .wrongKind(path: path, name: name, dtype: entry.dtype.rawValue, requested: "Int")
        }
        let values: [Int]? = withBytes(of: entry) { raw in
            var out: [Int] = []
            out.reserveCapacity(entry.elementCount)
            for i in 0..<entry.elementCount {
                guard let v = entry.dtype.integer(in: raw, at: i) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let values else { throw .valueOutOfRange(path: path, name: name) }
        return (entry.shape, values)
    }

    /// Reads a `U8` or `BOOL` tensor as bytes, the compact form for video frames.
    public func uint8s(named name: String) throws(SafeTensorsError) -> (shape: [Int], values: [UInt8]) {
        let entry = try lookup(name)
        guard entry.dtype == .uint8 || entry.dtype == .bool else {
            throw .wrongKind(path: path, name: name, dtype: entry.dtype.rawValue, requested: "UInt8")
        }
        return (entry.shape, withBytes(of: entry) { [UInt8]($0) })
    }

    /// The raw little-endian bytes of any tensor.
    public func rawBytes(named name: String) throws(SafeTensorsError) -> Data {
        let entry = try lookup(name)
        return data.subdata(in: dataStart + entry.dataOffsets.lowerBound..<dataStart + entry.dataOffsets.upperBound)
    }

    private func lookup(_ name: String) throws(SafeTensorsError) -> SafeTensorsEntry {
        guard let entry = entry(named: name) else { throw .tensorNotFound(path: path, name: name) }
        return entry
    }

    private func withBytes<R>(of entry: SafeTensorsEntry, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        data.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[
                (dataStart + entry.dataOffsets.lowerBound)..<(dataStart + entry.dataOffsets.upperBound)]))
        }
    }
}

/// The validated contents of a header: metadata and entries sorted by data offset.
struct SafeTensorsLayout {
    var metadata: [String: String] = [:]
    var entries: [SafeTensorsEntry] = []

    init(header: HeaderJSON, bufferSize: Int, path: String) throws(SafeTensorsError) {
        guard case let .object(members) = header else {
            throw .invalidJSON(path: path, reason: "the header is not a JSON object")
        }
        var names = Set<String>()
        var sawMetadata = false
        for (name, value) in members {
            if name == "__metadata__" {
                guard !sawMetadata else { throw .invalidMetadata(path: path, reason: "appears more than once") }
                sawMetadata = true
                metadata = try Self.metadata(value, path: path)
                continue
            }
            guard names.insert(name).inserted else { throw .duplicateName(path: path, name: name) }
            entries.append(try Self.entry(name: name, value: value, bufferSize: bufferSize, path: path))
        }
        // Stable sort: header order breaks ties between empty tensors at the same offset.
        entries = entries.enumerated()
            .sorted { ($0.element.dataOffsets.lowerBound, $0.element.dataOffsets.upperBound, $0.offset)
                < ($1.element.dataOffsets.lowerBound, $1.element.dataOffsets.upperBound, $1.offset) }
            .map(\.element)
        // Like the reference reader: tensors tile the buffer exactly, no overlap, no gap, no tail.
        var covered = 0
        var previous: String?
        for entry in entries {
            let begin = entry.dataOffsets.lowerBound
            if begin < covered, let previous {
                throw .overlappingData(path: path, first: previous, second: entry.name)
            }
            if begin > covered { throw .uncoveredData(path: path, begin: covered, end: begin) }
            covered = entry.dataOffsets.upperBound
            previous = entry.name
        }
        if covered < bufferSize { throw .uncoveredData(path: path, begin: covered, end: bufferSize) }
    }

    private static func metadata(_ value: HeaderJSON, path: String) throws(SafeTensorsError) -> [String: String] {
        guard case let .object(pairs) = value else {
            throw .invalidMetadata(path: path, reason: "is not an object of strings")
        }
        var result: [String: String] = [:]
        for (key, value) in pairs {
            guard case let .string(text) = value else {
                throw .invalidMetadata(path: path, reason: "value for '\(key)' is not a string")
            }
            guard result.updateValue(text, forKey: key) == nil else {
                throw .invalidMetadata(path: path, reason: "key '\(key)' appears more than once")
            }
        }
        return result
    }

    private static func entry(
        name: String, value: HeaderJSON, bufferSize: Int, path: String
    ) throws(SafeTensorsError) -> SafeTensorsEntry {
        guard case let .object(fields) = value else {
            throw .invalidEntry(path: path, name: name, reason: "description is not an object")
        }
        func field(_ key: String) throws(SafeTensorsError) -> HeaderJSON {
            let matches = fields.filter { $0.0 == key }
            guard matches.count == 1 else {
                throw .invalidEntry(path: path, name: name, reason: matches.isEmpty ? "missing \(key)" : "\(key) given twice")
            }
            return matches[0].1
        }
        func integers(_ key: String) throws(SafeTensorsError) -> [Int] {
            guard case let .array(items) = try field(key) else {
                throw .invalidEntry(path: path, name: name, reason: "\(key) is not an array")
            }
            let values = items.compactMap(\.integer)
            guard values.count == items.count, values.allSatisfy({ $0 >= 0 }) else {
                throw .invalidEntry(path: path, name: name, reason: "\(key) must hold non-negative integers")
            }
            return values
        }

        guard case let .string(dtypeName) = try field("dtype") else {
            throw .invalidEntry(path: path, name: name, reason: "dtype is not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, name: name, dtype: dtypeName)
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else {
            throw .invalidEntry(path: path, name: name, reason: "data_offsets must hold two integers")
        }
        guard offsets[0] <= offsets[1], offsets[1] <= bufferSize else {
            throw .offsetsOutOfBounds(path: path, name: name, begin: offsets[0], end: offsets[1], bufferSize: bufferSize)
        }
        var byteCount = dtype.byteCount
        for extent in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw .invalidEntry(path: path, name: name, reason: "shape \(shape) is too large") }
            byteCount = product
        }
        guard byteCount == offsets[1] - offsets[0] else {
            throw .sizeMismatch(path: path, name: name, expectedBytes: byteCount, spanBytes: offsets[1] - offsets[0])
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the safetensors format.
///
/// A file is an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON describing each
/// tensor (`dtype`, `shape`, `data_offsets` relative to the data buffer) plus optional string
/// `__metadata__`, then the data buffer. Files written here load in Python with
/// `safetensors.torch.load_file`, and files written there load here.
public enum SafeTensors {
    /// The largest header accepted, as in the reference implementation; anything larger is taken
    /// for a file of another format rather than allocated.
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// Opens a safetensors file and validates its header.
    ///
    /// The file is memory-mapped, so tensors are converted only when asked for.
    public static func read(contentsOf url: URL) throws(SafeTensorsError) -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, path: url.path)
    }

    /// Validates an in-memory safetensors buffer; `path` labels it in errors.
    public static func parse(_ data: Data, path: String) throws(SafeTensorsError) -> SafeTensorsFile {
        // Rebase so that offsets below are plain integers from zero.
        let data = data.startIndex == 0 ? data : Data(data)
        guard data.count >= 8 else { throw .fileTooShort(path: path, byteCount: data.count) }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= maximumHeaderLength else {
            throw .headerTooLarge(path: path, headerLength: headerLength)
        }
        guard 8 + Int(headerLength) <= data.count else {
            throw .headerExceedsFile(path: path, headerLength: headerLength, fileSize: data.count)
        }
        let headerBytes = [UInt8](data[8..<8 + Int(headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
        let json: HeaderJSON
        do {
            json = try HeaderJSONParser.parse(headerBytes)
        } catch {
            throw .invalidJSON(path: path, reason: error.reason)
        }
        let dataStart = 8 + Int(headerLength)
        let layout = try SafeTensorsLayout(header: json, bufferSize: data.count - dataStart, path: path)
        return SafeTensorsFile(path: path, metadata: layout.metadata, entries: layout.entries, data: data, dataStart: dataStart)
    }

    /// Writes Float32 tensors, in the given order, atomically (see ``write(arrays:metadata:to:)``).
    public static func write(
        _ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL
    ) throws(SafeTensorsError) {
        try write(arrays: tensors.map { ($0.0, SafeTensorsArray.float32($0.1)) }, metadata: metadata, to: url)
    }

    /// Writes arrays of any dtype, in the given order, atomically: the bytes go to a temporary file
    /// in the destination directory, which is flushed and then renamed over `url`, so a reader never
    /// sees a half-written file and a crash leaves the previous file intact.
    public static func write(
        arrays: [(String, SafeTensorsArray)], metadata: [String: String] = [:], to url: URL
    ) throws(SafeTensorsError) {
        let bytes = try encode(arrays: arrays, metadata: metadata, path: url.path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try bytes.write(to: temporary)
            let handle = try FileHandle(forUpdating: temporary)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .writeFailed(path: url.path, reason: error.localizedDescription)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .writeFailed(path: url.path, reason: reason)
        }
    }

    /// The bytes of a safetensors file holding `arrays` in the given order.
    ///
    /// The header is compact JSON with `__metadata__` first (keys sorted) and is padded with spaces
    /// to a multiple of 8 bytes, as the reference writer does, so the output is deterministic and
    /// the data buffer starts aligned. `path` labels errors.
    public static func encode(
        arrays: [(String, SafeTensorsArray)], metadata: [String: String] = [:], path: String = "<memory>"
    ) throws(SafeTensorsError) -> Data {
        var out = try header(for: arrays.map { ($0.0, $0.1.dtype, $0.1.shape) }, metadata: metadata, path: path)
        for (_, array) in arrays { out.append(array.bytes) }
        return out
    }

    /// The 8-byte length and the header of a file holding arrays of these names, dtypes and shapes
    /// in this order (what ``encode(arrays:metadata:path:)`` writes before the data, and what
    /// ``SafeTensorsStreamWriter`` starts a file with).
    static func header(
        for arrays: [(String, SafeTensorsDType, [Int])], metadata: [String: String], path: String
    ) throws(SafeTensorsError) -> Data {
        var seen = Set<String>()
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }
                .map { HeaderJSONWriter.quoted($0.key) + ":" + HeaderJSONWriter.quoted($0.value) }
            members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, dtype, shape) in arrays {
            guard name != "__metadata__" else { throw .invalidName(path: path, name: name) }
            guard seen.insert(name).inserted else { throw .duplicateName(path: path, name: name) }
            let end = offset + Tensor.elementCount(shape) * dtype.byteCount
            members.append(
                HeaderJSONWriter.quoted(name) + ":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":["
                    + shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var headerBytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
        headerBytes += Array(repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)
        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        return out
    }
}

/// One array to write: a dtype, a shape and its little-endian element bytes.
///
/// Use ``float32(_:)`` for tensors, ``uint8(_:shape:)`` for video frames and ``int64(_:shape:)``
/// for labels (PyTorch's `long`).
public struct SafeTensorsArray: Sendable {
    /// The element type recorded in the header.
    public let dtype: SafeTensorsDType
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The elements, row-major, little-endian.
    public let bytes: Data

    /// Wraps raw little-endian element bytes.
    ///
    /// - Precondition: `bytes.count` is the element count of `shape` times `dtype.byteCount`.
    public init(dtype: SafeTensorsDType, shape: [Int], bytes: Data) {
        precondition(
            shape.allSatisfy { $0 >= 0 } && bytes.count == Tensor.elementCount(shape) * dtype.byteCount,
            "SafeTensorsArray: \(bytes.count) bytes do not hold shape \(shape) of \(dtype.rawValue)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A Float32 array with the tensor's shape and values (autograd state is not stored).
    public static func float32(_ tensor: Tensor) -> SafeTensorsArray {
        let bytes = tensor.withUnsafeBufferPointer { values in
            littleEndianBytes(count: values.count, width: 4) { raw, i in
                raw.storeBytes(of: values[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        return SafeTensorsArray(dtype: .float32, shape: tensor.shape, bytes: bytes)
    }

    /// A `U8` array.
    ///
    /// - Precondition: `values.count` equals the element count of `shape`.
    public static func uint8(_ values: [UInt8], shape: [Int]) -> SafeTensorsArray {
        SafeTensorsArray(dtype: .uint8, shape: shape, bytes: Data(values))
    }

    /// An `I64` array.
    ///
    /// - Precondition: `values.count` equals the element count of `shape`.
    public static func int64(_ values: [Int], shape: [Int]) -> SafeTensorsArray {
        let bytes = littleEndianBytes(count: values.count, width: 8) { raw, i in
            raw.storeBytes(of: Int64(values[i]).littleEndian, toByteOffset: 8 * i, as: Int64.self)
        }
        return SafeTensorsArray(dtype: .int64, shape: shape, bytes: bytes)
    }

    private static func littleEndianBytes(
        count: Int, width: Int, _ store: (UnsafeMutableRawBufferPointer, Int) -> Void
    ) -> Data {
        var data = Data(count: count * width)
        data.withUnsafeMutableBytes { raw in
            for i in 0..<count { store(raw, i) }
        }
        return data
    }
}

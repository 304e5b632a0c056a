import Foundation

/// Writes a safetensors file whose arrays are too large to hold in memory together: the header is
/// written first from the declared dtypes and shapes, then each array's bytes are appended in
/// order, in as many pieces as the caller likes. The file appears at its path only when
/// ``finish()`` has checked that every declared byte arrived (a temporary file is renamed into
/// place), so an interrupted writer never leaves a truncated file behind.
public final class SafeTensorsStreamWriter {
    private let url: URL
    private let temporary: URL
    private let handle: FileHandle
    private let sizes: [(name: String, bytes: Int)]
    private var index = 0
    private var written = 0
    private var finished = false

    /// Starts the file with the header for `arrays` (name, dtype, shape), in that order.
    ///
    /// - Throws: ``SafeTensorsError`` for a bad name, or when the temporary file cannot be created.
    public init(url: URL, arrays: [(String, SafeTensorsDType, [Int])], metadata: [String: String] = [:])
        throws(SafeTensorsError)
    {
        self.url = url
        temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        sizes = arrays.map { ($0.0, Tensor.elementCount($0.2) * $0.1.byteCount) }
        let header = try SafeTensors.header(for: arrays, metadata: metadata, path: url.path)
        guard FileManager.default.createFile(atPath: temporary.path, contents: header),
              let handle = try? FileHandle(forWritingTo: temporary) else {
            throw .writeFailed(path: url.path, reason: "cannot create \(temporary.path)")
        }
        try? handle.seekToEnd()
        self.handle = handle
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    /// Appends the next bytes of the current array (moving to the next array when it is full).
    ///
    /// - Precondition: no more bytes than the arrays declared.
    public func append(_ bytes: Data) throws(SafeTensorsError) {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            precondition(index < sizes.count, "SafeTensorsStreamWriter: more bytes than the declared arrays hold")
            let room = sizes[index].bytes - written
            let piece = remaining.prefix(room)
            do { try handle.write(contentsOf: piece) } catch {
                throw .writeFailed(path: url.path, reason: error.localizedDescription)
            }
            written += piece.count
            remaining = remaining.dropFirst(piece.count)
            if written == sizes[index].bytes { index += 1; written = 0 }
        }
        while index < sizes.count && sizes[index].bytes == 0 { index += 1 }
    }

    /// Checks that every array is complete, flushes and moves the file into place.
    ///
    /// - Throws: ``SafeTensorsError/writeFailed(path:reason:)`` when bytes are missing or the file
    ///   cannot be completed; nothing is left at the path then.
    public func finish() throws(SafeTensorsError) {
        while index < sizes.count && sizes[index].bytes == 0 { index += 1 }
        guard index == sizes.count else {
            throw .writeFailed(path: url.path, reason: "array \(sizes[index].name) has \(written) of \(sizes[index].bytes) bytes")
        }
        do {
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            throw .writeFailed(path: url.path, reason: "cannot finish: \(error.localizedDescription)")
        }
        finished = true
    }
}

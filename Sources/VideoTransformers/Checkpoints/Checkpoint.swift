import Foundation
import TensorCore

/// Loading foreign checkpoints by content, whatever the file is called.
public enum Checkpoint {
    /// Reads a checkpoint, choosing the reader from the file's first bytes: a zip local-file
    /// header means a `torch.save` archive (``PyTorchCheckpoint``), a pickle protocol byte means the
    /// unsupported legacy PyTorch format, anything else is tried as safetensors.
    public static func load(contentsOf url: URL) throws(CheckpointError) -> ImportedCheckpoint {
        let head: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            head = try handle.read(upToCount: 9) ?? Data()
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        switch sniff(head) {
        case .zip: return try PyTorchCheckpoint.read(contentsOf: url)
        case .legacyPickle: throw .legacyPyTorchFormat(path: url.path)
        case .other: return try safeTensors(url)
        }
    }

    /// Reads an in-memory checkpoint, dispatching like ``load(contentsOf:)``; `path` labels errors.
    public static func parse(_ data: Data, path: String) throws(CheckpointError) -> ImportedCheckpoint {
        switch sniff(data.prefix(9)) {
        case .zip: return try PyTorchCheckpoint.parse(data, path: path)
        case .legacyPickle: throw .legacyPyTorchFormat(path: path)
        case .other:
            do {
                return try imported(try SafeTensors.parse(data, path: path))
            } catch {
                throw wrap(error, path: path)
            }
        }
    }

    private enum Kind { case zip, legacyPickle, other }

    private static func sniff(_ head: Data) -> Kind {
        let bytes = [UInt8](head)
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .zip }
        // A pickle starts with PROTO (0x80) and a protocol number; a safetensors file whose header
        // length happens to start with 0x80 is told apart by the `{` its header opens with.
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]), !(bytes.count >= 9 && bytes[8] == UInt8(ascii: "{")) {
            return .legacyPickle
        }
        return .other
    }

    private static func safeTensors(_ url: URL) throws(CheckpointError) -> ImportedCheckpoint {
        do {
            return try imported(try SafeTensors.read(contentsOf: url))
        } catch {
            throw wrap(error, path: url.path)
        }
    }

    /// A file too short or with an absurd header length was most likely never safetensors.
    private static func wrap(_ error: SafeTensorsError, path: String) -> CheckpointError {
        switch error {
        case .fileTooShort, .headerTooLarge: return .unknownFormat(path: path)
        default: return .safeTensors(error)
        }
    }

    private static func imported(_ file: SafeTensorsFile) throws(SafeTensorsError) -> ImportedCheckpoint {
        var integers: [IntegerTensor] = []
        for entry in file.entries where !entry.dtype.isFloatingPoint {
            let (shape, values) = try file.integers(named: entry.name)
            integers.append(IntegerTensor(name: entry.name, shape: shape, values: values))
        }
        return ImportedCheckpoint(
            path: file.path, format: .safeTensors, tensors: try file.floatTensors(), integerTensors: integers,
            entries: file.metadata.mapValues { CheckpointValue.string($0) })
    }
}

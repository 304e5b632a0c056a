import Foundation
import TensorCore

/// A problem importing a foreign checkpoint (PyTorch `.pth`/`.pyth` archive or safetensors file).
///
/// Every case names the file, so a malformed, truncated or hostile checkpoint is reported rather
/// than crashing the process or running code from it.
public enum CheckpointError: Error, Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file is neither a zip archive nor a safetensors file.
    case unknownFormat(path: String)
    /// The file is a pre-1.6 PyTorch pickle (not a zip archive), which is not supported.
    case legacyPyTorchFormat(path: String)
    /// The zip container is damaged (bad directory, checksum mismatch, truncation).
    case corruptArchive(path: String, reason: String)
    /// A record the archive must hold (`data.pkl`, `data/<key>`) is absent.
    case missingRecord(path: String, record: String)
    /// The archive stores tensors in an encoding this reader does not handle (e.g. big-endian).
    case unsupportedArchive(path: String, reason: String)
    /// The pickle stream is malformed at `offset` (truncated, stack underflow, unknown memo…).
    case malformedPickle(path: String, offset: Int, reason: String)
    /// The pickle uses an opcode a state dict never needs; nothing past it was interpreted.
    case unsupportedOpcode(path: String, opcode: UInt8, offset: Int)
    /// The pickle refers to a Python global outside the state-dict whitelist; it was not called.
    case forbiddenGlobal(path: String, module: String, name: String)
    /// The pickle decoded, but holds no state dict (a mapping from names to tensors).
    case notAStateDict(path: String, reason: String)
    /// A tensor's storage, offset, shape or strides are inconsistent.
    case invalidTensor(path: String, key: String, reason: String)
    /// The safetensors reader refused the file.
    case safeTensors(SafeTensorsError)
    /// A key map was given tensors it cannot convert (e.g. inflating an already-video checkpoint).
    case keyMapRefused(map: String, reason: String)
}

extension CheckpointError: CustomStringConvertible {
    /// A one-line message naming the file and the problem, with a hint where one helps.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read checkpoint (\(reason))"
        case let .unknownFormat(path):
            return "\(path): not a PyTorch zip archive nor a safetensors file"
        case let .legacyPyTorchFormat(path):
            return "\(path): legacy (pre-1.6, non-zip) torch.save format is not supported; "
                + "re-save it with torch.save(torch.load(path), path) in a recent PyTorch"
        case let .corruptArchive(path, reason):
            return "\(path): damaged zip archive (\(reason)); the file may be truncated"
        case let .missingRecord(path, record):
            return "\(path): archive has no record '\(record)'; is this a torch.save file?"
        case let .unsupportedArchive(path, reason):
            return "\(path): unsupported archive (\(reason))"
        case let .malformedPickle(path, offset, reason):
            return "\(path): malformed pickle at byte \(offset) (\(reason))"
        case let .unsupportedOpcode(path, opcode, offset):
            return "\(path): pickle opcode 0x\(String(opcode, radix: 16)) at byte \(offset) "
                + "is not used by state dicts; refusing to interpret it"
        case let .forbiddenGlobal(path, module, name):
            return "\(path): pickle refers to \(module).\(name), which is not allowed in a state dict; "
                + "nothing was executed (save model.state_dict(), not the model object)"
        case let .notAStateDict(path, reason):
            return "\(path): no state dict found (\(reason))"
        case let .invalidTensor(path, key, reason):
            return "\(path): tensor '\(key)': \(reason)"
        case let .safeTensors(error):
            return error.description
        case let .keyMapRefused(map, reason):
            return "\(map): \(reason)"
        }
    }
}

extension CheckpointError: LocalizedError {
    /// The same message as ``description``, so `localizedDescription` is informative too.
    public var errorDescription: String? { description }
}

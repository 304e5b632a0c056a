import Foundation

/// A problem reading or writing a safetensors file.
///
/// Every case names the file (`path`, or the label given to an in-memory buffer) and what is wrong
/// with it, so a malformed or truncated checkpoint is reported, never a crash.
public enum SafeTensorsError: Error, Equatable, Sendable {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file could not be written or moved into place.
    case writeFailed(path: String, reason: String)
    /// The file is shorter than the 8-byte header-length prefix.
    case fileTooShort(path: String, byteCount: Int)
    /// The header length is beyond any sane header (the reference library's 100 MB limit).
    case headerTooLarge(path: String, headerLength: UInt64)
    /// The header length points past the end of the file.
    case headerExceedsFile(path: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(path: String)
    /// The header is not a valid JSON object.
    case invalidJSON(path: String, reason: String)
    /// The `__metadata__` entry is not an object of strings.
    case invalidMetadata(path: String, reason: String)
    /// A tensor name appears twice (in a header, or in the tensors given to the writer).
    case duplicateName(path: String, name: String)
    /// A tensor name cannot be used (empty, or the reserved `__metadata__`).
    case invalidName(path: String, name: String)
    /// A tensor entry lacks a field or has one of the wrong type.
    case invalidEntry(path: String, name: String, reason: String)
    /// A tensor's dtype is not one this reader knows.
    case unknownDType(path: String, name: String, dtype: String)
    /// A tensor's byte span does not match its shape and dtype.
    case sizeMismatch(path: String, name: String, expectedBytes: Int, spanBytes: Int)
    /// A tensor's data offsets fall outside the data buffer (or end before they begin).
    case offsetsOutOfBounds(path: String, name: String, begin: Int, end: Int, bufferSize: Int)
    /// Two tensors claim the same bytes.
    case overlappingData(path: String, first: String, second: String)
    /// Bytes of the data buffer belong to no tensor (a gap, or trailing bytes).
    case uncoveredData(path: String, begin: Int, end: Int)
    /// No tensor of that name is in the file.
    case tensorNotFound(path: String, name: String)
    /// The tensor's dtype cannot be read as the requested kind (e.g. `I64` as Float32).
    case wrongKind(path: String, name: String, dtype: String, requested: String)
    /// An integer value does not fit in `Int` (a `U64` above `Int.max`).
    case valueOutOfRange(path: String, name: String)
}

extension SafeTensorsError: CustomStringConvertible {
    /// A one-line message naming the file and the problem.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read safetensors file (\(reason))"
        case let .writeFailed(path, reason):
            return "\(path): cannot write safetensors file (\(reason))"
        case let .fileTooShort(path, count):
            return "\(path): file has \(count) bytes, fewer than the 8-byte header length"
        case let .headerTooLarge(path, length):
            return "\(path): header length \(length) is implausibly large; is this a safetensors file?"
        case let .headerExceedsFile(path, length, size):
            return "\(path): header length \(length) exceeds the file size \(size); the file may be truncated"
        case let .headerNotUTF8(path):
            return "\(path): header is not valid UTF-8"
        case let .invalidJSON(path, reason):
            return "\(path): header is not valid JSON (\(reason))"
        case let .invalidMetadata(path, reason):
            return "\(path): __metadata__ \(reason)"
        case let .duplicateName(path, name):
            return "\(path): tensor name '\(name)' appears more than once"
        case let .invalidName(path, name):
            return "\(path): '\(name)' cannot be used as a tensor name"
        case let .invalidEntry(path, name, reason):
            return "\(path): tensor '\(name)': \(reason)"
        case let .unknownDType(path, name, dtype):
            return "\(path): tensor '\(name)' has unknown dtype '\(dtype)'"
        case let .sizeMismatch(path, name, expected, span):
            return "\(path): tensor '\(name)' needs \(expected) bytes for its shape and dtype but spans \(span)"
        case let .offsetsOutOfBounds(path, name, begin, end, size):
            return "\(path): tensor '\(name)' data offsets [\(begin), \(end)] are outside the \(size)-byte data buffer"
        case let .overlappingData(path, first, second):
            return "\(path): tensors '\(first)' and '\(second)' overlap in the data buffer"
        case let .uncoveredData(path, begin, end):
            return "\(path): data bytes \(begin)..<\(end) belong to no tensor; the file may be corrupt"
        case let .tensorNotFound(path, name):
            return "\(path): no tensor named '\(name)'"
        case let .wrongKind(path, name, dtype, requested):
            return "\(path): tensor '\(name)' has dtype \(dtype) and cannot be read as \(requested)"
        case let .valueOutOfRange(path, name):
            return "\(path): tensor '\(name)' holds a value that does not fit in Int"
        }
    }
}

extension SafeTensorsError: LocalizedError {
    /// The same message as ``description``, so `localizedDescription` is informative too.
    public var errorDescription: String? { description }
}

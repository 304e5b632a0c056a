import Foundation

/// Problems with the files evaluation reads or writes.
public enum EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file could not be read.
    case unreadable(path: String, reason: String)
    /// A class-subset file is not a JSON object of strings.
    case malformedSubsets(path: String, reason: String)
    /// A class-subset file names a class the dataset does not have.
    case unknownClass(path: String, name: String, known: [String])
    /// A video's label has no class in the model's logits.
    case labelOutOfRange(label: Int, classCount: Int, path: String)
    /// A result could not be written.
    case writeFailed(path: String, reason: String)
    /// No video of the dataset could be evaluated.
    case nothingEvaluated(count: Int)
    /// The model's outputs for some videos hold NaN or infinite values, so no accuracy can be
    /// given (a diverged or damaged model); `first` is the first such video.
    case nonFiniteOutputs(videos: Int, first: String)

    /// A one-line explanation with the path and a hint.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read (\(reason))"
        case .malformedSubsets(let path, let reason):
            return "\(path): \(reason); expected a JSON object such as {\"moving_left\": \"temporal\", \"red_square\": \"static\"}"
        case .unknownClass(let path, let name, let known):
            let hint = known.isEmpty
                ? "the dataset has no class names: pass a classes file, or use class indices as keys"
                : "known classes: \(known.prefix(12).joined(separator: ", "))\(known.count > 12 ? ", …" : "")"
            return "\(path): unknown class `\(name)`; \(hint)"
        case .labelOutOfRange(let label, let classCount, let path):
            return "\(path): label \(label) but the model has \(classCount) classes; check num_classes or the list"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write (\(reason))"
        case .nothingEvaluated(let count):
            return "none of the \(count) videos could be read; check the list's paths and the --root folder"
        case .nonFiniteOutputs(let videos, let first):
            return "the model's outputs are NaN or infinite for \(videos) video(s), first \(first); no accuracy is "
                + "reported (are the weights diverged or damaged?)"
        }
    }

    /// Writes `data` atomically, mapping Foundation's error to ``writeFailed(path:reason:)``.
    static func write(_ data: Data, to path: String) throws(EvaluationError) {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, reason: error.localizedDescription)
        }
    }
}

/// Why a training checkpoint (a `checkpoint-<step>` folder of a run) could not be written or read.
///
/// Foreign checkpoints imported as weights report ``VideoTransformers/CheckpointError`` instead.
public enum TrainingCheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No complete checkpoint (one with its marker file) exists under the folder.
    case noCompleteCheckpoint(directory: String)
    /// The folder lacks the marker written last, so its files may be partial.
    case incomplete(path: String)
    /// A file could not be written.
    case writeFailed(path: String, reason: String)
    /// A file could not be read or parsed.
    case unreadable(path: String, reason: String)
    /// The checkpoint does not fit the model, optimizer or loader being resumed.
    case mismatch(path: String, reason: String)
    /// A file's size or SHA-256 differs from the checkpoint's manifest (a damaged or altered file).
    case damaged(path: String, reason: String)

    /// The problem with its path and a hint.
    public var description: String {
        switch self {
        case .noCompleteCheckpoint(let directory):
            return "no complete checkpoint under \(directory) (a folder counts once its COMPLETE marker exists)"
        case .incomplete(let path):
            return "checkpoint \(path) is incomplete (no COMPLETE marker: the writer was interrupted); resume from the run folder to use the last complete one"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .unreadable(let path, let reason):
            return "cannot read checkpoint file \(path): \(reason)"
        case .mismatch(let path, let reason):
            return "checkpoint \(path) does not fit this run: \(reason) (was it written with another recipe?)"
        case .damaged(let path, let reason):
            return "checkpoint \(path) is damaged: \(reason)"
        }
    }
}

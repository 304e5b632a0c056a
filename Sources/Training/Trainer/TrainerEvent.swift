import VideoIO

/// Where training stands after an optimizer step, for progress displays.
public struct TrainingProgress: Sendable {
    /// Optimizer steps taken.
    public var step: Int
    /// The step the run stops at.
    public var totalSteps: Int
    /// The epoch of the step's last batch.
    public var epoch: Int
    /// Each loss term averaged over the step's micro-batches, in the objective's order.
    public var terms: [(name: String, value: Double)]
    /// The total loss averaged over the step's micro-batches.
    public var loss: Double
    /// The learning rate the step used.
    public var learningRate: Double
    /// Top-1 accuracy of the class logits on the step's training clips.
    public var trainTop1: Double
    /// Clips per second over the step.
    public var clipsPerSecond: Double
    /// The share of the step spent waiting for data.
    public var dataWaitShare: Double
    /// Estimated seconds until ``totalSteps``.
    public var etaSeconds: Double
}

/// What a ``Trainer`` reports while it runs; the command line turns these into a progress bar or
/// plain lines, the library itself prints nothing.
public enum TrainerEvent: Sendable {
    /// An optimizer step finished.
    case step(TrainingProgress)
    /// An epoch finished, with its mean training metrics and any evaluation results.
    case epochEnded(epoch: Int, metrics: [String: Double])
    /// A checkpoint was completed.
    case checkpointWritten(path: String, step: Int)
}

/// Why training stopped early.
public enum TrainerError: Error, Sendable, CustomStringConvertible {
    /// The loss became NaN or infinite; nothing was written after it. `lastCheckpoint` is the
    /// newest checkpoint whose loss was within the sane band (not merely finite).
    case nonFiniteLoss(step: Int, terms: [String: Double], lastCheckpoint: String?)
    /// The dataset and the recipe disagree (too few clips for a step, labels beyond the classes).
    case dataMismatch(String)

    /// The problem in words.
    public var description: String {
        switch self {
        case .nonFiniteLoss(let step, let terms, let last):
            let parts = terms.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "training stopped: the loss is not finite at step \(step + 1) (\(parts)); "
                + (last.map { "the last checkpoint of sane loss is \($0)" } ?? "no checkpoint was written yet")
                + ". Try a lower optimizer.lr or train.clip_grad_norm."
        case .dataMismatch(let reason):
            return "training data: \(reason)"
        }
    }
}

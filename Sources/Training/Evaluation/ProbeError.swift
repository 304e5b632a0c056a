import TensorCore

/// Inputs that frozen-feature evaluation (``KNNClassifier``, ``RidgeProbe``, ``LinearProbe``)
/// cannot work with.
public enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A set has no rows; `role` is `train` or `validation`.
    case emptySet(role: String)
    /// The train and validation features have different widths.
    case widthMismatch(train: Int, validation: Int)
    /// A feature row holds NaN or an infinite value.
    case nonFiniteFeatures(role: String, row: Int)
    /// `k` is not in `1…trainCount`.
    case kOutOfRange(k: Int, trainCount: Int)
    /// A setting outside its range: `name` (as the command line spells it), the value and what is allowed.
    case invalidSetting(name: String, value: String, allowed: String)
    /// The ridge system could not be solved.
    case unsolvable(reason: String)
    /// The SGD probe's training loss became NaN or infinite in `epoch` (1-based).
    case diverged(epoch: Int, learningRate: Double)

    /// A one-line explanation with a hint.
    public var description: String {
        switch self {
        case let .emptySet(role):
            return "the \(role) feature set has no rows; extract features of at least one video"
        case let .widthMismatch(train, validation):
            return "train features have width \(train) but validation features \(validation); "
                + "extract both with the same model"
        case let .nonFiniteFeatures(role, row):
            return "\(role) feature row \(row) holds NaN or infinite values; are the model's weights damaged?"
        case let .kOutOfRange(k, trainCount):
            return "k = \(k) but the train set has \(trainCount) rows; choose k in 1…\(trainCount)"
        case let .invalidSetting(name, value, allowed):
            return "\(name) \(value) is invalid: \(allowed)"
        case let .unsolvable(reason):
            return "the ridge system cannot be solved: \(reason)"
        case let .diverged(epoch, learningRate):
            return "the linear probe's loss became NaN or infinite in epoch \(epoch) (lr \(learningRate)); lower --lr"
        }
    }

    /// Checks that `train` and `validation` can be compared: both have rows, of one width, and
    /// only finite values.
    public static func check(train: FeatureSet, validation: FeatureSet) throws(ProbeError) {
        try check(train.features, role: "train")
        try check(validation.features, role: "validation")
        guard train.width == validation.width else { throw .widthMismatch(train: train.width, validation: validation.width) }
    }

    /// Checks that `features` `[R, C]` has rows and holds only finite values.
    static func check(_ features: Tensor, role: String) throws(ProbeError) {
        precondition(features.rank == 2, "ProbeError.check: \(role) features must be [N, C], got \(features.shape)")
        guard features.shape[0] > 0 else { throw .emptySet(role: role) }
        let width = features.shape[1]
        let bad: Int? = features.withUnsafeBufferPointer { v in
            guard let i = v.firstIndex(where: { !$0.isFinite }) else { return nil }
            return i / Swift.max(width, 1)
        }
        if let bad { throw .nonFiniteFeatures(role: role, row: bad) }
    }
}

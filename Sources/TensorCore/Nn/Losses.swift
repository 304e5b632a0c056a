import Foundation

/// How a loss turns its per-element (or per-sample) values into the returned tensor.
public enum LossReduction: Sendable, Hashable {
    /// No reduction: the per-sample (or per-element) losses.
    case none
    /// The mean over every value (PyTorch's default `'mean'`).
    case mean
    /// The sum of every value.
    case sum
    /// The sum divided by the size of the first dimension (PyTorch's `kl_div(reduction='batchmean')`,
    /// the mathematically correct KL divergence per sample). For per-sample losses it equals `.mean`.
    case batchMean
}

extension Tensor {
    /// Applies a reduction to a tensor of unreduced loss values.
    fileprivate func reduced(_ reduction: LossReduction) -> Tensor {
        switch reduction {
        case .none: return self
        case .mean: return mean()
        case .sum: return sum()
        case .batchMean: return sum() * (1 / Float(Swift.max(rank == 0 ? 1 : shape[0], 1)))
        }
    }
}

/// Cross-entropy between class logits `[N, K]` and integer labels, with optional label
/// smoothing, as `F.cross_entropy(logits, labels, label_smoothing=ε)`.
///
/// The target of sample `i` is `q = (1 − ε)·onehot(labels[i]) + ε/K` and its loss is
/// `−Σ_k q_k·log_softmax(logits_i)_k`; this is also timm's `LabelSmoothingCrossEntropy`. With
/// `.none` the result has shape `[N]`, otherwise it is a scalar.
///
/// - Precondition: `logits` is `[N, K]`, there are `N` labels, each in `0..<K`, and
///   `labelSmoothing` is in `[0, 1]`.
public func crossEntropy(
    logits: Tensor, labels: [Int], labelSmoothing: Float = 0, reduction: LossReduction = .mean
) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, K], got \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == n, "crossEntropy: \(labels.count) labels for logits \(logits.shape)")
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
                 "crossEntropy: label smoothing \(labelSmoothing) outside [0, 1] for logits \(logits.shape)")
    if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
        preconditionFailure("crossEntropy: label \(bad) out of range 0..<\(k) for logits \(logits.shape)")
    }
    let offValue = labelSmoothing / Float(k)
    let onValue = 1 - labelSmoothing + offValue
    let target = Tensor(shape: [n, k]) { q in
        q.initialize(repeating: offValue)
        for (i, label) in labels.enumerated() { q[i * k + label] = onValue }
    }
    return softTargetCrossEntropy(logits: logits, targets: target, reduction: reduction)
}

/// Cross-entropy against soft targets (mixup/cutmix, distillation), as timm's
/// `SoftTargetCrossEntropy`: `−Σ targets·log_softmax(logits)` over the last axis, then the mean over
/// the remaining positions by default.
///
/// With `.none` the result has the shape of `logits` without its last axis.
///
/// - Precondition: `logits` and `targets` have the same shape, of rank ≥ 1.
public func softTargetCrossEntropy(
    logits: Tensor, targets: Tensor, reduction: LossReduction = .mean
) -> Tensor {
    precondition(logits.rank >= 1 && logits.shape == targets.shape,
                 "softTargetCrossEntropy: logits \(logits.shape) and targets \(targets.shape) differ")
    let perSample = -(targets * logits.logSoftmax(axis: -1)).sum(axis: -1)
    return perSample.reduced(reduction)
}

/// Kullback–Leibler divergence `KL(target ‖ input)` with `input` given as log-probabilities and
/// `target` as probabilities, as `F.kl_div(input, target, reduction=...)`.
///
/// Pointwise loss: `target·(log target − input)`, taken as 0 where `target` is 0. Note that
/// PyTorch's default `'mean'` averages over every element; `.batchMean` divides the sum by the batch
/// size and is the reduction that matches the mathematical definition.
///
/// - Precondition: the two tensors have the same shape.
public func klDivergence(
    logProbabilities input: Tensor, targetProbabilities target: Tensor,
    reduction: LossReduction = .mean
) -> Tensor {
    precondition(input.shape == target.shape,
                 "klDivergence: input \(input.shape) and target \(target.shape) differ")
    let pointwise = Tensor.broadcastApply(input, target, op: "klDivergence") { x, t in
        t > 0 ? t * (Foundation.log(t) - x) : 0
    }
    let (xd, td) = (input.detached(), target.detached())
    // VJP of t·(log t − x): −t for the input; log t + 1 − x for the target, 0 where t is 0
    // (PyTorch masks the target gradient there too).
    let value = Tensor.record("klDivergence", pointwise, inputs: [input, target]) { needs in
        { g in
            [needs[0] ? Tensor.broadcastApply(g, td, op: "klDivergence") { g, t in -g * t } : nil,
             needs[1] ? g * Tensor.broadcastApply(xd, td, op: "klDivergence") { x, t in
                t > 0 ? Foundation.log(t) + 1 - x : 0
             } : nil]
        }
    }
    return value.reduced(reduction)
}

/// Mean squared error `(input − target)²`, as `F.mse_loss(input, target, reduction=...)`.
///
/// - Precondition: the two tensors have the same shape.
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: LossReduction = .mean) -> Tensor {
    precondition(input.shape == target.shape, "mseLoss: input \(input.shape) and target \(target.shape) differ")
    return (input - target).squared().reduced(reduction)
}

import Foundation

/// Half-cosine annealing from `base` to `end` over `maxEpoch` epochs — SlowFast's `lr_func_cosine`.
///
/// `lr(e) = end + (base − end) · (cos(π (e − offset) / (maxEpoch − offset)) + 1) / 2`. The
/// `offset` is SlowFast's `COSINE_AFTER_WARMUP` (set it to the warm-up length so the cosine starts
/// after the warm-up); it is 0 by default, as in SlowFast.
public struct CosineSchedule: LearningRateSchedule {
    /// The learning rate at `offset`.
    public var base: Double
    /// The learning rate reached at `maxEpoch`.
    public var end: Double
    /// The epoch at which the schedule reaches `end`.
    public var maxEpoch: Double
    /// The epoch at which the cosine starts.
    public var offset: Double

    /// Creates the schedule; SlowFast requires `end < base`, here `end <= base`.
    public init(base: Double, end: Double = 0, maxEpoch: Double, offset: Double = 0) {
        precondition(end <= base, "CosineSchedule: end \(end) exceeds base \(base)")
        precondition(maxEpoch > offset, "CosineSchedule: max epoch \(maxEpoch) must exceed offset \(offset)")
        self.base = base
        self.end = end
        self.maxEpoch = maxEpoch
        self.offset = offset
    }

    /// The annealed learning rate at `epoch`.
    public func learningRate(atEpoch epoch: Double) -> Double {
        end + (base - end) * (cos(Double.pi * (epoch - offset) / (maxEpoch - offset)) + 1.0) * 0.5
    }
}

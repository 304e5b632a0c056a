/// A piecewise-constant schedule: `base · relativeLRs[i]` from `steps[i]` until the next step —
/// SlowFast's `steps_with_relative_lrs` policy.
///
/// TIME's SSv2 recipe is `StepsWithRelativeLRs(base: 1e-4, steps: [0, 20, 30], relativeLRs: [1, 0.1, 0.01])`
/// (1e-4 for epochs [0, 20), 1e-5 for [20, 30), 1e-6 from 30 on). As in SlowFast, the last value
/// holds past the last step (SlowFast appends `MAX_EPOCH`, which changes nothing).
public struct StepsWithRelativeLRs: LearningRateSchedule {
    /// The base learning rate.
    public var base: Double
    /// The epochs at which each value starts, increasing and starting at 0.
    public var steps: [Double]
    /// The multiplier of `base` from each step on.
    public var relativeLRs: [Double]

    /// Creates the schedule. `steps` must start at 0, increase strictly and match `relativeLRs` in count.
    public init(base: Double, steps: [Double], relativeLRs: [Double]) {
        precondition(
            steps.count == relativeLRs.count && !steps.isEmpty,
            "StepsWithRelativeLRs: \(steps.count) steps and \(relativeLRs.count) relative LRs differ or are empty")
        precondition(steps[0] == 0, "StepsWithRelativeLRs: steps \(steps) must start at 0")
        precondition(
            zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 },
            "StepsWithRelativeLRs: steps \(steps) must increase strictly")
        self.base = base
        self.steps = steps
        self.relativeLRs = relativeLRs
    }

    /// `base · relativeLRs[i]` for the last `steps[i] <= epoch`.
    public func learningRate(atEpoch epoch: Double) -> Double {
        precondition(epoch >= 0, "StepsWithRelativeLRs: epoch \(epoch) is negative")
        let index = (steps.lastIndex { $0 <= epoch })!
        return relativeLRs[index] * base
    }
}

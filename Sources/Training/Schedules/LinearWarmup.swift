/// A linear warm-up in front of another schedule — SlowFast's `get_lr_at_epoch`.
///
/// For `epoch < epochs` the rate goes linearly from `startLearningRate` to the wrapped schedule's
/// value *at the end of the warm-up* (`schedule(epochs)`), then follows the schedule.
public struct LinearWarmup<Schedule: LearningRateSchedule>: LearningRateSchedule {
    /// The schedule after the warm-up.
    public var schedule: Schedule
    /// The length of the warm-up in epochs.
    public var epochs: Double
    /// The learning rate at epoch 0.
    public var startLearningRate: Double

    /// Wraps `schedule` with a warm-up of `epochs` epochs starting at `startLearningRate`.
    public init(_ schedule: Schedule, epochs: Double, startLearningRate: Double) {
        precondition(epochs >= 0, "LinearWarmup: warm-up length \(epochs) is negative")
        self.schedule = schedule
        self.epochs = epochs
        self.startLearningRate = startLearningRate
    }

    /// The warmed-up learning rate at `epoch`.
    public func learningRate(atEpoch epoch: Double) -> Double {
        guard epoch < epochs else { return schedule.learningRate(atEpoch: epoch) }
        let end = schedule.learningRate(atEpoch: epochs)
        // SlowFast's order of operations: epoch · slope + start.
        let slope = (end - startLearningRate) / epochs
        return epoch * slope + startLearningRate
    }
}

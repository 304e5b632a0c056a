/// A learning-rate schedule: a pure function from training progress to a learning rate.
///
/// Progress is measured in epochs and may be fractional — SlowFast evaluates its schedules at
/// `epoch + iteration / iterationsPerEpoch` before every step. Set the result on an optimizer's
/// ``Optimizer/learningRate``.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate at `epoch` (at least 0).
    func learningRate(atEpoch epoch: Double) -> Double
}

extension LearningRateSchedule {
    /// The learning rate at `epoch`.
    public func callAsFunction(_ epoch: Double) -> Double { learningRate(atEpoch: epoch) }

    /// This schedule preceded by a linear warm-up from `startLearningRate` over `epochs` epochs.
    public func withWarmup(epochs: Double, from startLearningRate: Double) -> LinearWarmup<Self> {
        LinearWarmup(self, epochs: epochs, startLearningRate: startLearningRate)
    }
}

/// The same learning rate throughout.
public struct ConstantSchedule: LearningRateSchedule {
    /// The learning rate.
    public var value: Double

    /// Creates a constant schedule.
    public init(_ value: Double) { self.value = value }

    /// Returns ``value``.
    public func learningRate(atEpoch epoch: Double) -> Double { value }
}

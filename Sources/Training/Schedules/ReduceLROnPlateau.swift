/// PyTorch's `torch.optim.lr_scheduler.ReduceLROnPlateau` in `min` mode: the rate is multiplied by
/// ``factor`` once a monitored value (IIC: the validation loss) has failed to improve for more
/// than ``patience`` consecutive observations.
///
/// Unlike the other schedules this one is not a function of training progress: it keeps a small
/// ``State`` that ``step(_:)`` updates once per observation. ``Trainer`` stores that state in every
/// checkpoint (``TrainerState/plateau``), so a resumed run continues with the same rate, best value
/// and counters. A value improves on the best when it is below `best · (1 − threshold)` (`rel`) or
/// `best − threshold` (`abs`); a NaN never improves. A reduction sets the rate to
/// `max(rate · factor, minLR)`, skipped when it would change the rate by `eps` or less, and starts
/// ``cooldown`` observations during which bad observations are not counted.
public struct ReduceLROnPlateau: Sendable, Equatable {
    /// How ``threshold`` is applied.
    public enum ThresholdMode: String, Sendable, CaseIterable, Codable {
        /// Relative: better when below `best · (1 − threshold)`.
        case rel
        /// Absolute: better when below `best − threshold`.
        case abs
    }

    /// The changing part, kept in checkpoints.
    public struct State: Sendable, Equatable, Codable {
        /// The current learning rate.
        public var learningRate: Double
        /// The best value seen, or nil before the first observation that counted.
        public var best: Double?
        /// Consecutive observations without improvement (PyTorch's `num_bad_epochs`).
        public var badObservations: Int
        /// Observations left in the current cooldown.
        public var cooldownCounter: Int
        /// Observations taken so far.
        public var observations: Int
        /// The optimizer step of the latest observation, if the owner records one; lets a caller
        /// avoid observing the same evaluation twice.
        public var lastStep: Int?

        /// The state before any observation, at `learningRate`.
        public init(learningRate: Double) {
            self.learningRate = learningRate
            best = nil
            badObservations = 0
            cooldownCounter = 0
            observations = 0
            lastStep = nil
        }
    }

    /// The multiplier applied at a reduction, in (0, 1).
    public var factor: Double
    /// Observations without improvement tolerated before a reduction.
    public var patience: Int
    /// The improvement a value needs over the best to count.
    public var threshold: Double
    /// How ``threshold`` is applied.
    public var thresholdMode: ThresholdMode
    /// Observations after a reduction during which bad observations are not counted.
    public var cooldown: Int
    /// The lowest rate a reduction goes to.
    public var minLR: Double
    /// The smallest change of rate a reduction makes; smaller changes are skipped.
    public var eps: Double
    /// The changing part.
    public var state: State

    /// Creates the schedule at `learningRate` with PyTorch's defaults for everything not given.
    public init(learningRate: Double, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                thresholdMode: ThresholdMode = .rel, cooldown: Int = 0, minLR: Double = 0, eps: Double = 1e-8) {
        precondition(factor > 0 && factor < 1, "ReduceLROnPlateau: factor \(factor) must be in (0, 1)")
        precondition(patience >= 0 && cooldown >= 0, "ReduceLROnPlateau: patience and cooldown must be at least 0")
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLR = minLR
        self.eps = eps
        state = State(learningRate: learningRate)
    }

    /// The current learning rate.
    public var learningRate: Double { state.learningRate }

    /// Whether `value` improves on `best` by more than the threshold.
    public func isBetter(_ value: Double, than best: Double?) -> Bool {
        guard let best else { return value < .infinity }
        switch thresholdMode {
        case .rel: return value < best * (1 - threshold)
        case .abs: return value < best - threshold
        }
    }

    /// Records one observation of the monitored value and returns the learning rate from now on
    /// (PyTorch's `scheduler.step(metric)`).
    @discardableResult
    public mutating func step(_ value: Double) -> Double {
        state.observations += 1
        if isBetter(value, than: state.best) {
            state.best = value
            state.badObservations = 0
        } else {
            state.badObservations += 1
        }
        if state.cooldownCounter > 0 {
            state.cooldownCounter -= 1
            state.badObservations = 0
        }
        if state.badObservations > patience {
            let old = state.learningRate
            let new = Swift.max(old * factor, minLR)
            if old - new > eps { state.learningRate = new }
            state.cooldownCounter = cooldown
            state.badObservations = 0
        }
        return state.learningRate
    }
}

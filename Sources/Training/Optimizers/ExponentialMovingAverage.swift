import Foundation
import TensorCore

/// An exponential moving average of parameter values (timm's `ModelEmaV2`/`ModelEmaV3`), for
/// evaluating with smoothed weights.
///
/// Each ``update()`` sets `ema ← d·ema + (1 − d)·p` for every tracked parameter. Without warm-up
/// `d` is ``decay`` and the average starts from the values at creation (`ModelEmaV2`). With a
/// ``Warmup`` the `n`-th update uses `d = min(decay, 1 − (1 + (n − 1)/γ)^(−power))`, which is 0
/// for the first update, so the average starts from the first updated values (`ModelEmaV3`).
/// Only parameters are averaged; modules keep no other buffers.
public final class ExponentialMovingAverage {
    /// The warm-up of the decay: `1 − (1 + step/gamma)^(−power)`, capped at ``decay``.
    public struct Warmup: Sendable, Equatable {
        /// The step scale γ.
        public var gamma: Double
        /// The power; timm suggests 2/3 for long runs and 3/4 for short ones.
        public var power: Double

        /// Creates a warm-up.
        public init(gamma: Double = 1, power: Double = 2.0 / 3.0) {
            self.gamma = gamma
            self.power = power
        }
    }

    /// The decay once warmed up.
    public let decay: Double
    /// The warm-up of the decay, if any.
    public let warmup: Warmup?
    /// The number of updates so far.
    public private(set) var updateCount = 0

    private let tracked: [(key: String, parameter: Parameter)]
    private var averages: [String: [Float]]

    /// Starts averaging `parameters` (keyed, e.g. `model.namedParameters()`).
    public init(_ parameters: [(String, Parameter)], decay: Double = 0.9999, warmup: Warmup? = nil) {
        precondition((0...1).contains(decay), "ExponentialMovingAverage: decay \(decay) must lie in [0, 1]")
        tracked = parameters.map { (key: $0.0, parameter: $0.1) }
        averages = Dictionary(parameters.map { ($0.0, $0.1.value.scalars) }, uniquingKeysWith: { a, _ in
            preconditionFailure("ExponentialMovingAverage: a parameter key appears twice")
        })
        self.decay = decay
        self.warmup = warmup
    }

    /// The decay the next update will use.
    public var nextDecay: Double {
        guard let warmup else { return decay }
        let step = Double(updateCount)
        guard step > 0 else { return 0 }
        return Swift.min(decay, 1 - pow(1 + step / warmup.gamma, -warmup.power))
    }

    /// Folds the current parameter values into the average.
    public func update() {
        let d = Float(nextDecay)
        let w = 1 - d
        for (key, parameter) in tracked {
            let value = parameter.value
            precondition(
                value.count == averages[key]!.count,
                "ExponentialMovingAverage: parameter \(key) now has shape \(value.shape)")
            value.withUnsafeBufferPointer { p in
                averages[key]!.withUnsafeMutableBufferPointer { ema in
                    for i in ema.indices { ema[i] = d * ema[i] + w * p[i] }
                }
            }
        }
        updateCount += 1
    }

    /// The averaged value of the parameter with key `key`.
    public func average(forKey key: String) -> Tensor? {
        guard let values = averages[key], let entry = tracked.first(where: { $0.key == key }) else { return nil }
        return Tensor(shape: entry.parameter.shape, scalars: values)
    }

    /// Writes the averaged values into the tracked parameters (e.g. before evaluation). Keep a
    /// copy of the live values first if training continues afterwards.
    public func copyAverages() {
        for (key, parameter) in tracked {
            parameter.value = Tensor(shape: parameter.shape, scalars: averages[key]!)
        }
    }

    /// The averages keyed by parameter key, plus `num_updates` (a 0-d tensor).
    public func stateDict() -> [String: Tensor] {
        var state = ["num_updates": Tensor(shape: [], scalars: [Float(updateCount)])]
        for (key, parameter) in tracked {
            state[key] = Tensor(shape: parameter.shape, scalars: averages[key]!)
        }
        return state
    }

    /// Restores a state written by ``stateDict()``; every tracked key must be present.
    public func loadStateDict(_ state: [String: Tensor]) throws(OptimizerStateError) {
        let expected = Set(tracked.map(\.key) + ["num_updates"])
        let unexpected = state.keys.filter { !expected.contains($0) }.sorted()
        if !unexpected.isEmpty { throw .unexpectedKeys(unexpected) }
        let missing = expected.filter { state[$0] == nil }.sorted()
        if !missing.isEmpty { throw .incompleteState(parameter: "ExponentialMovingAverage", missing: missing) }
        var restored: [String: [Float]] = [:]
        for (key, parameter) in tracked {
            let tensor = state[key]!
            guard tensor.shape == parameter.shape else {
                throw .shapeMismatch(key: key, expected: parameter.shape, found: tensor.shape)
            }
            restored[key] = tensor.scalars
        }
        averages = restored
        updateCount = Int(state["num_updates"]!.scalars[0])
    }
}

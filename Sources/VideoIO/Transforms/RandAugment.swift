import Foundation
import TensorCore

/// timm's RandAugment, applied with one draw per clip so that every frame gets the same operations
/// and arguments (TIME §1.5 re-seeds each op per clip for the same effect).
///
/// Each of ``layers`` steps picks an operation uniformly from ``operations`` (with replacement, as
/// `np.random.choice` in timm), applies it with probability ``probability``, at a magnitude drawn from
/// N(``magnitude``, ``magnitudeStd``) clipped to `[0, magnitudeMax ?? 10]`, with a random sign for the
/// signed ops and a random bilinear / bicubic filter for the geometric ones.
public struct RandAugment: Sendable, Hashable {
    /// Operations drawn per clip (`n`, default 2).
    public var layers: Int
    /// Mean magnitude level (`m`, default 10).
    public var magnitude: Double
    /// Standard deviation of the magnitude (`mstd`, default 0; `.infinity` draws uniformly in `[0, m]`).
    public var magnitudeStd: Double
    /// Upper clip of the magnitude (`mmax`; `nil` means 10).
    public var magnitudeMax: Double?
    /// Probability that a drawn operation is applied (`p`, default 0.5).
    public var probability: Double
    /// The operations to draw from (the increasing set with `inc1`).
    public var operations: [RandAugmentOp]
    /// Colour of pixels that geometric operations leave uncovered.
    public var fill: RGB8Color

    /// One resolved step: the operation and the argument and filter it runs with.
    public struct Step: Sendable, Hashable {
        /// The operation.
        public var op: RandAugmentOp
        /// The argument after level mapping and sign (see ``RandAugmentOp/argument(level:negate:)``).
        public var argument: Double
        /// The resampling filter (used by geometric operations only).
        public var resample: PILResample

        /// Creates a step.
        public init(op: RandAugmentOp, argument: Double, resample: PILResample = .bicubic) {
            self.op = op
            self.argument = argument
            self.resample = resample
        }
    }

    /// Parses a timm configuration string such as `"rand-m9-n2-mstd0.5-inc1"`: sections `m` (int),
    /// `n` (int), `mstd` (float; above 100 means uniform), `mmax` (int), `inc` (0/1), `p` (float).
    ///
    /// - Throws: ``TransformError/invalidRandAugmentConfig(config:problem:)`` naming the bad section.
    public init(config: String, fill: RGB8Color = .timmFill) throws(TransformError) {
        func fail(_ problem: String) -> TransformError { .invalidRandAugmentConfig(config: config, problem: problem) }
        let sections = config.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard sections.first == "rand" else { throw fail("it must start with \"rand\"") }
        var layers = 2, magnitude = 10.0, std = 0.0, maxLevel: Double?, probability = 0.5, increasing = false
        for section in sections.dropFirst() {
            guard let digit = section.firstIndex(where: \.isNumber) else {
                throw fail("section \"\(section)\" has no value")
            }
            let key = String(section[..<digit]), value = String(section[digit...])
            func int() throws(TransformError) -> Int {
                guard let v = Int(value) else { throw fail("\(key) needs an integer, got \"\(value)\"") }
                return v
            }
            func double() throws(TransformError) -> Double {
                guard let v = Double(value), v.isFinite else { throw fail("\(key) needs a number, got \"\(value)\"") }
                return v
            }
            switch key {
            case "m": magnitude = Double(try int())
            case "n":
                layers = try int()
                guard layers >= 0 else { throw fail("n must be non-negative") }
            case "mstd":
                std = try double()
                // timm: "use uniform sampling in 0 to magnitude if mstd is > 100".
                if std > 100 { std = .infinity }
            case "mmax": maxLevel = Double(try int())
            case "inc": increasing = try int() != 0
            case "p":
                probability = try double()
                guard (0...1).contains(probability) else { throw fail("p must lie in [0, 1], got \(value)") }
            default:
                throw fail("unknown section \"\(section)\" (known: m, n, mstd, mmax, inc, p)")
            }
        }
        self.init(layers: layers, magnitude: magnitude, magnitudeStd: std, magnitudeMax: maxLevel,
                  probability: probability, operations: increasing ? RandAugmentOp.increasingSet : RandAugmentOp.standardSet,
                  fill: fill)
    }

    /// Creates a policy from explicit values.
    public init(
        layers: Int = 2, magnitude: Double = 10, magnitudeStd: Double = 0, magnitudeMax: Double? = nil,
        probability: Double = 0.5, operations: [RandAugmentOp] = RandAugmentOp.increasingSet, fill: RGB8Color = .timmFill
    ) {
        precondition(!operations.isEmpty, "RandAugment: operation list is empty")
        self.layers = layers
        self.magnitude = magnitude
        self.magnitudeStd = magnitudeStd
        self.magnitudeMax = magnitudeMax
        self.probability = probability
        self.operations = operations
        self.fill = fill
    }

    /// Draws the steps for one clip, in timm's order per layer: operation, apply-or-skip, magnitude,
    /// sign, filter. Skipped layers are left out of the result.
    public func sampleSteps(using generator: inout RandomGenerator) -> [Step] {
        var steps: [Step] = []
        for _ in 0..<layers {
            let op = operations[generator.nextInt(below: operations.count)]
            // timm skips when random() > p, so p = 1 always applies.
            if probability < 1 && generator.nextUniformDouble() > probability { continue }
            var level = magnitude
            if magnitudeStd == .infinity {
                level = magnitude * generator.nextUniformDouble()
            } else if magnitudeStd > 0 {
                level = magnitude + magnitudeStd * Double(generator.nextNormal())
            }
            level = Swift.max(0, Swift.min(level, magnitudeMax ?? 10))
            // timm negates when random() > 0.5.
            let negate = op.hasRandomSign && generator.nextUniformDouble() > 0.5
            let resample: PILResample = op.isGeometric && generator.nextInt(below: 2) == 1 ? .bicubic : .bilinear
            steps.append(Step(op: op, argument: op.argument(level: level, negate: negate), resample: resample))
        }
        return steps
    }

    /// Applies resolved steps to one image.
    public func apply(_ steps: [Step], to image: RGB8Image) -> RGB8Image {
        steps.reduce(image) { $1.op.apply(to: $0, argument: $1.argument, resample: $1.resample, fill: fill) }
    }

    /// Draws one set of steps and applies it to every frame.
    public func callAsFunction(_ frames: [RGB8Image], using generator: inout RandomGenerator) -> [RGB8Image] {
        let steps = sampleSteps(using: &generator)
        return frames.map { apply(steps, to: $0) }
    }

    /// Draws one set of steps and applies it to every decoded frame (indices and times are kept).
    public func callAsFunction(_ frames: [VideoFrame], using generator: inout RandomGenerator) -> [VideoFrame] {
        let steps = sampleSteps(using: &generator)
        return frames.map { frame in
            var out = frame
            out.pixels = apply(steps, to: RGB8Image(frame)).pixels
            return out
        }
    }
}

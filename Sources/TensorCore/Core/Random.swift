import Foundation

/// A seeded pseudo-random generator (xoshiro256**), passed explicitly wherever randomness is used.
///
/// The same seed always gives the same sequence on every platform. The generator is a value:
/// copying it forks the stream, so pass it `inout` to advance it.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The four words of internal state (exposed so that training can checkpoint it exactly).
    public var state: [UInt64]

    /// Creates a generator from a seed (expanded with SplitMix64).
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform value in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal value (Box–Muller, one value per call).
    public mutating func nextNormal() -> Float {
        Float(nextNormalDouble())
    }

    /// A standard normal `Double`, the value ``nextNormal()`` rounds to Float: `u1` is drawn with
    /// ``nextUniformDouble()`` until positive, then `u2`, and the result is `√(−2 log u1) · cos(2π u2)`.
    public mutating func nextNormalDouble() -> Double {
        var u1 = nextUniformDouble()
        while u1 <= 0 { u1 = nextUniformDouble() }
        let u2 = nextUniformDouble()
        return Foundation.sqrt(-2 * Foundation.log(u1)) * Foundation.cos(2 * Double.pi * u2)
    }

    /// A uniform integer in `0..<upperBound`.
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt: upper bound \(upperBound) must be positive")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, nextInt(below: i + 1))
            }
        }
        return p
    }
}

extension Tensor {
    /// Uniform values in `low..<high`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = low + (high - low) * generator.nextUniform() }
        }
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = mean + std * generator.nextNormal() }
        }
    }

    /// Normal values redrawn until they fall in `[a, b]` (absolute bounds, as `timm`'s
    /// `trunc_normal_(std=0.02)` with its default a = -2, b = 2).
    public static func truncatedNormal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, a: Float = -2, b: Float = 2,
        using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(a < b, "truncatedNormal: empty interval [\(a), \(b)]")
        return Tensor(shape: shape) { out in
            for i in 0..<out.count {
                var v: Float
                var tries = 0
                repeat {
                    v = mean + std * generator.nextNormal()
                    tries += 1
                } while (v < a || v > b) && tries < 1000
                out[i] = Swift.min(Swift.max(v, a), b)
            }
        }
    }

    /// Values that are 1 with probability `p` and 0 otherwise.
    public static func bernoulli(
        _ shape: [Int], probability p: Float, using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(p >= 0 && p <= 1, "bernoulli: probability \(p) outside [0, 1]")
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = generator.nextUniform() < p ? 1 : 0 }
        }
    }
}

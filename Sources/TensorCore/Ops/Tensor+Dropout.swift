/// Inverted dropout and drop-path (stochastic depth), with explicit generators.
///
/// Both multiply the input by a random mask whose kept entries are `1/(1 − p)`, so the expected
/// value is unchanged and evaluation needs no rescaling. The VJP multiplies the output gradient by
/// the same mask (dropout keeps only the 64-bit seed its mask is generated from; drop-path keeps
/// one factor per sample). Outside training, or with `p == 0`, both are the identity and draw
/// nothing from the generator, as in PyTorch.
extension Tensor {
    /// Zeroes each element independently with probability `p` and scales the kept ones by
    /// `1/(1 − p)`, as `F.dropout(x, p, training)`. Draws exactly one value from the generator.
    ///
    /// - Precondition: `p` lies in `[0, 1]`; with `p == 1` every element is zeroed.
    public func dropout(
        probability p: Float, training: Bool = true, using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(p >= 0 && p <= 1, "dropout: probability \(p) outside [0, 1] for shape \(shape)")
        guard training, p > 0, count > 0 else { return self }
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        let seed = generator.next()
        let value = Tensor.applyDropoutMask(self, seed: seed, probability: p, scale: scale)
        // The mask is a pure function of the seed, so the VJP regenerates it instead of keeping
        // an activation-sized buffer alive until backward.
        return Tensor.record("dropout", value, inputs: [self]) { _ in
            { g in [Tensor.applyDropoutMask(g, seed: seed, probability: p, scale: scale)] }
        }
    }

    /// Stochastic depth: keeps or zeroes each sample (index along axis 0) as a whole, with drop
    /// probability `p`, scaling kept samples by `1/(1 − p)`, as timm's `drop_path`.
    ///
    /// One value is drawn from the generator per sample.
    ///
    /// - Precondition: rank ≥ 1 and `p` in `[0, 1]`.
    public func dropPath(
        probability p: Float, training: Bool = true, using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(rank >= 1, "dropPath: needs rank ≥ 1, got shape \(shape)")
        precondition(p >= 0 && p <= 1, "dropPath: probability \(p) outside [0, 1] for shape \(shape)")
        guard training, p > 0 else { return self }
        let factors = Tensor.dropPathFactors(samples: shape[0], probability: p, using: &generator)
        let value = Tensor.scaleSamples(self, by: factors)
        return Tensor.record("dropPath", value, inputs: [self]) { _ in
            { g in [Tensor.scaleSamples(g, by: factors)] }
        }
    }

    /// The factor of each of `samples` samples under stochastic depth with drop probability `p`:
    /// `1/(1 − p)` for a kept sample, 0 for a dropped one; one value drawn per sample, as
    /// ``dropPath(probability:training:using:)`` draws them.
    public static func dropPathFactors(
        samples: Int, probability p: Float, using generator: inout RandomGenerator
    ) -> [Float] {
        precondition(p >= 0 && p <= 1, "dropPathFactors: probability \(p) outside [0, 1]")
        // timm divides by keep_prob only when it is positive: with p == 1 every sample is zero.
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        return (0..<samples).map { _ in generator.nextUniform() >= p ? scale : 0 }
    }

    private static var inverse2Pow24: Float { 1.0 / 16_777_216.0 }

    /// `x` times the dropout mask of `seed`: elements `2k` and `2k + 1` are kept when the two
    /// 24-bit halves of the SplitMix64 output for counter `k` are at least `p` (as fractions of
    /// 2²⁴). Counter-based, so any chunk of the mask can be produced independently, on any thread,
    /// with the same result.
    private static func applyDropoutMask(_ x: Tensor, seed: UInt64, probability p: Float, scale: Float) -> Tensor {
        let n = x.count
        let pairs = (n + 1) / 2
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                ComputeContext.parallelFor(pairs, minimumChunk: 8_192) { range in
                    for k in range {
                        var z = seed &+ UInt64(k &+ 1) &* 0x9E37_79B9_7F4A_7C15
                        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                        z ^= z >> 31
                        let u0 = Float(z >> 40) * inverse2Pow24
                        dst[2 * k] = u0 >= p ? src[2 * k] * scale : 0
                        if 2 * k + 1 < n {
                            let u1 = Float((z >> 8) & 0xFF_FFFF) * inverse2Pow24
                            dst[2 * k + 1] = u1 >= p ? src[2 * k + 1] * scale : 0
                        }
                    }
                }
            }
        }
    }

    /// Multiplies every element of sample `s` (the block at index `s` of axis 0) by `factors[s]`.
    static func scaleSamples(_ x: Tensor, by factors: [Float]) -> Tensor {
        let per = factors.isEmpty ? 0 : x.count / factors.count
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard per > 0, let src = px.baseAddress, let dst = out.baseAddress else { return }
                Kernels.forChunks(out.count) { start, n in
                    // A chunk may span several samples: scale each piece by its own factor.
                    var i = start
                    while i < start + n {
                        let s = i / per, end = Swift.min(start + n, (s + 1) * per)
                        Kernels.table.scale(src + i, factors[s], dst + i, end - i)
                        i = end
                    }
                }
            }
        }
    }
}

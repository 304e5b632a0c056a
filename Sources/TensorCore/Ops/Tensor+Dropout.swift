/// Inverted dropout and drop-path (stochastic depth), with explicit generators.
///
/// Both multiply the input by a saved random mask whose kept entries are `1/(1 − p)`, so the
/// expected value is unchanged and evaluation needs no rescaling. The VJP multiplies the output
/// gradient by the same mask. Outside training, or with `p == 0`, both are the identity and draw
/// nothing from the generator, as in PyTorch.
extension Tensor {
    /// Zeroes each element independently with probability `p` and scales the kept ones by
    /// `1/(1 − p)`, as `F.dropout(x, p, training)`.
    ///
    /// - Precondition: `p` lies in `[0, 1]`; with `p == 1` every element is zeroed.
    public func dropout(
        probability p: Float, training: Bool = true, using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(p >= 0 && p <= 1, "dropout: probability \(p) outside [0, 1] for shape \(shape)")
        guard training, p > 0, count > 0 else { return self }
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        let mask = Tensor(shape: shape) { m in
            // Two 24-bit uniforms from each 64-bit draw: half the generator calls per element.
            let n = m.count
            var i = 0
            while i < n {
                let bits = generator.next()
                let u0 = Float(bits >> 40) * Tensor.inverse2Pow24
                m[i] = u0 >= p ? scale : 0
                if i + 1 < n {
                    let u1 = Float((bits >> 8) & 0xFF_FFFF) * Tensor.inverse2Pow24
                    m[i + 1] = u1 >= p ? scale : 0
                }
                i += 2
            }
        }
        let value = Tensor.broadcastApply(self, mask, op: "dropout") { $0 * $1 }
        return Tensor.record("dropout", value, inputs: [self]) { _ in
            { g in [Tensor.broadcastApply(g, mask, op: "dropout") { $0 * $1 }] }
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
        // timm divides by keep_prob only when it is positive: with p == 1 every sample is zero.
        let scale: Float = p < 1 ? 1 / (1 - p) : 0
        var factors = [Float](repeating: 0, count: shape[0])
        for s in factors.indices { factors[s] = generator.nextUniform() >= p ? scale : 0 }
        let value = Tensor.scaleSamples(self, by: factors)
        return Tensor.record("dropPath", value, inputs: [self]) { _ in
            { g in [Tensor.scaleSamples(g, by: factors)] }
        }
    }

    private static var inverse2Pow24: Float { 1.0 / 16_777_216.0 }

    /// Multiplies every element of sample `s` (the block at index `s` of axis 0) by `factors[s]`.
    private static func scaleSamples(_ x: Tensor, by factors: [Float]) -> Tensor {
        let per = factors.isEmpty ? 0 : x.count / factors.count
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                for (s, f) in factors.enumerated() {
                    let base = s * per
                    for j in 0..<per { out[base + j] = px[base + j] * f }
                }
            }
        }
    }
}

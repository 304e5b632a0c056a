import Testing
import TensorCore
import _TestSupport

/// Divided space-time attention read from tokens `[B, 1 + T·N, ·]` (`temporalAttention`,
/// `spatialAttention`) and its residuals (`addingTokens`, `addingFrameResidual`), against the same
/// computation spelled with slices, concatenations and ``Tensor/packedAttention(qkv:heads:scale:)``,
/// and against finite differences.
@Suite struct DividedAttentionTests {
    static func randn(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return Tensor.normal(shape, using: &g)
    }

    /// Temporal attention by slicing the patches out: sequences along the frame axis.
    static func temporalReference(_ qkv: Tensor, frames t: Int, heads: Int, scale: Float) -> Tensor {
        let (b, c3) = (qkv.shape[0], qkv.shape[2])
        let n = (qkv.shape[1] - 1) / t
        let patches = qkv.slice(axis: 1, range: 1...).reshaped([b, t, n, c3])
        return Tensor.packedAttention(qkv: patches, heads: heads, scale: scale).reshaped([b, t * n, c3 / 3])
    }

    /// Spatial attention by copying the class token in front of every frame.
    static func spatialReference(_ qkv: Tensor, frames t: Int, heads: Int, scale: Float) -> Tensor {
        let (b, c3) = (qkv.shape[0], qkv.shape[2])
        let n = (qkv.shape[1] - 1) / t
        let cls = qkv.slice(axis: 1, range: 0..<1).reshaped([b, 1, 1, c3]).broadcast(to: [b, t, 1, c3])
        let perFrame = Tensor.concat([cls, qkv.slice(axis: 1, range: 1...).reshaped([b, t, n, c3])], axis: 2)
        return Tensor.packedAttention(qkv: perFrame.reshaped([b * t, 1 + n, 1, c3]), heads: heads, scale: scale)
            .reshaped([b, t, 1 + n, c3 / 3])
    }

    /// The value of `body(x)` and the gradient of `Σ body(x)·w` with respect to `x`.
    static func valueAndGradient(_ x: Tensor, weights w: Tensor, _ body: (Tensor) -> Tensor) -> (Tensor, Tensor) {
        let p = Parameter(x)
        let y = body(p.value)
        (y * w).sum().backward()
        return (y.detached(), p.grad!)
    }

    @Test(arguments: [(b: 2, t: 3, n: 4, heads: 2, d: 3), (b: 1, t: 8, n: 5, heads: 3, d: 9)])
    func temporalMatchesSlicedPatches(b: Int, t: Int, n: Int, heads: Int, d: Int) {
        let qkv = Self.randn([b, 1 + t * n, 3 * heads * d], seed: 1)
        let w = Self.randn([b, t * n, heads * d], seed: 2)
        let (y, dq) = Self.valueAndGradient(qkv, weights: w) {
            Tensor.temporalAttention(qkv: $0, frames: t, heads: heads, scale: 0.6)
        }
        let (ry, rdq) = Self.valueAndGradient(qkv, weights: w) {
            Self.temporalReference($0, frames: t, heads: heads, scale: 0.6)
        }
        #expect(y.shape == [b, t * n, heads * d] && maxAbsDifference(y, ry) < 1e-5)
        #expect(maxAbsDifference(dq, rdq) < 1e-5)
        // The class token takes no part.
        #expect(dq.slice(axis: 1, range: 0..<1).scalars.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [(b: 2, t: 3, n: 4, heads: 2, d: 3), (b: 1, t: 8, n: 11, heads: 3, d: 9)])
    func spatialMatchesCopiedClassToken(b: Int, t: Int, n: Int, heads: Int, d: Int) {
        let qkv = Self.randn([b, 1 + t * n, 3 * heads * d], seed: 3)
        let w = Self.randn([b, t, 1 + n, heads * d], seed: 4)
        let (y, dq) = Self.valueAndGradient(qkv, weights: w) {
            Tensor.spatialAttention(qkv: $0, frames: t, heads: heads, scale: 0.6)
        }
        let (ry, rdq) = Self.valueAndGradient(qkv, weights: w) {
            Self.spatialReference($0, frames: t, heads: heads, scale: 0.6)
        }
        #expect(y.shape == [b, t, 1 + n, heads * d] && maxAbsDifference(y, ry) < 1e-5)
        #expect(maxAbsDifference(dq, rdq) < 1e-5)
    }

    @Test func classTokenAttentionIsTheClassRowOfSpatialAttention() {
        let (b, t, n, heads, d) = (2, 3, 5, 3, 4)
        let qkv = Self.randn([b, 1 + t * n, 3 * heads * d], seed: 20)
        let w = Self.randn([b, t, heads * d], seed: 21)
        let (y, dq) = Self.valueAndGradient(qkv, weights: w) {
            Tensor.spatialAttentionOfClassToken(qkv: $0, frames: t, heads: heads, scale: 0.6)
        }
        // The full attention with the patch rows' weights zero.
        let padded = Tensor.concat([w.reshaped([b, t, 1, heads * d]), Tensor(zeros: [b, t, n, heads * d])], axis: 2)
        let (full, rdq) = Self.valueAndGradient(qkv, weights: padded) {
            Tensor.spatialAttention(qkv: $0, frames: t, heads: heads, scale: 0.6)
        }
        #expect(y.shape == [b, t, heads * d])
        #expect(maxAbsDifference(y, full.slice(axis: 2, range: 0..<1).reshaped([b, t, heads * d])) < 1e-5)
        #expect(maxAbsDifference(dq, rdq) < 1e-5)
        let r = checkGradients([Self.randn([2, 1 + 2 * 3, 12], seed: 22)]) {
            Tensor.spatialAttentionOfClassToken(qkv: $0[0], frames: 2, heads: 2)
        }
        #expect(r.passed, "\(r)")
    }

    @Test func attentionGradientsMatchFiniteDifferences() {
        let qkv = Self.randn([2, 1 + 2 * 3, 12], seed: 5)
        let temporal = checkGradients([qkv]) { Tensor.temporalAttention(qkv: $0[0], frames: 2, heads: 2) }
        #expect(temporal.passed, "\(temporal)")
        let spatial = checkGradients([qkv]) { Tensor.spatialAttention(qkv: $0[0], frames: 2, heads: 2) }
        #expect(spatial.passed, "\(spatial)")
    }

    @Test func addingTokensLeavesTheLeadingRows() {
        let x = Self.randn([3, 1 + 40, 17], seed: 6), y = Self.randn([3, 40, 17], seed: 7)
        let reference = Tensor.concat([x.slice(axis: 1, range: 0..<1), x.slice(axis: 1, range: 1...) + y], axis: 1)
        #expect(x.addingTokens(y, afterLeading: 1) == reference)
        let r = checkGradients([Self.randn([2, 2 + 3, 2], seed: 8), Self.randn([2, 3, 2], seed: 9)]) {
            $0[0].addingTokens($0[1], afterLeading: 2)
        }
        #expect(r.passed, "\(r)")
    }

    /// The frame residual spelled out: drop-path on the frames, the class rows averaged over the
    /// frames, the patches added back in "t n" order.
    static func frameResidualReference(_ x: Tensor, _ f: Tensor, p: Float, seed: UInt64) -> Tensor {
        let (b, t, l1, c) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        var generator = RandomGenerator(seed: seed)
        let dropped = f.reshaped([b * t, l1, c]).dropPath(probability: p, using: &generator).reshaped([b, t, l1, c])
        let cls = x.slice(axis: 1, range: 0..<1) + dropped.slice(axis: 2, range: 0..<1).mean(axis: 1)
        let patches = x.slice(axis: 1, range: 1...) + dropped.slice(axis: 2, range: 1...).reshaped([b, t * (l1 - 1), c])
        return Tensor.concat([cls, patches], axis: 1)
    }

    @Test(arguments: [Float(0), 0.4])
    func frameResidualMatchesTheSpelledOutForm(p: Float) {
        let (b, t, l, c) = (3, 4, 5, 20)
        let x = Self.randn([b, 1 + t * l, c], seed: 10), f = Self.randn([b, t, 1 + l, c], seed: 11)
        var generator = RandomGenerator(seed: 12)
        let y = x.addingFrameResidual(f, dropPathProbability: p, using: &generator)
        #expect(isClose(y, Self.frameResidualReference(x, f, p: p, seed: 12), atol: 1e-6, rtol: 1e-5))
        var eval = RandomGenerator(seed: 13)
        #expect(isClose(x.addingFrameResidual(f, dropPathProbability: p, training: false, using: &eval),
                        Self.frameResidualReference(x, f, p: 0, seed: 13), atol: 1e-6, rtol: 1e-5))
        let r = checkGradients([Self.randn([2, 1 + 3 * 2, 3], seed: 14), Self.randn([2, 3, 3, 3], seed: 15)]) { xs in
            var fixed = RandomGenerator(seed: 16)
            return xs[0].addingFrameResidual(xs[1], dropPathProbability: 0.5, using: &fixed)
        }
        #expect(r.passed, "\(r)")
    }
}

import Testing
import TensorCore
import _TestSupport

/// `Tensor.packedAttention` (heads read straight from a fused qkv projection, sequences along axis
/// 1, possibly interleaved) against the same attention spelled with permutes and
/// `scaledDotProductAttention`, and against finite differences.
@Suite struct FusedAttentionTests {
    /// The reference: split `[O, L, I, 3, H, d]`, move each (O, I, H) sequence to the front, attend,
    /// and put the heads back as `[O, L, I, H·d]`.
    static func reference(_ qkv: Tensor, heads: Int, scale: Float) -> Tensor {
        let (o, l, i, c3) = (qkv.shape[0], qkv.shape[1], qkv.shape[2], qkv.shape[3])
        let d = c3 / (3 * heads)
        let parts = qkv.reshaped([o, l, i, 3, heads, d]).permuted([3, 0, 2, 4, 1, 5])
        func component(_ s: Int) -> Tensor { parts.slice(axis: 0, range: s..<(s + 1)).reshaped([o, i, heads, l, d]) }
        let out = Tensor.scaledDotProductAttention(query: component(0), key: component(1), value: component(2),
                                                   scale: scale)
        return out.permuted([0, 3, 1, 2, 4]).reshaped([o, l, i, heads * d])
    }

    @Test(arguments: [
        (o: 2, l: 5, i: 1, heads: 2, d: 3),  // spatial-style: contiguous sequences
        (o: 2, l: 3, i: 4, heads: 3, d: 2),  // temporal-style: sequences interleaved along axis 1
        (o: 1, l: 11, i: 2, heads: 1, d: 9),  // rows longer than the vector width
    ])
    func matchesPermutedAttention(o: Int, l: Int, i: Int, heads: Int, d: Int) {
        var g = RandomGenerator(seed: 5)
        let qkv = Tensor.normal([o, l, i, 3 * heads * d], using: &g)
        let fused = Tensor.packedAttention(qkv: qkv, heads: heads, scale: 0.7)
        let expected = Self.reference(qkv, heads: heads, scale: 0.7)
        #expect(fused.shape == [o, l, i, heads * d])
        #expect(maxAbsDifference(fused, expected) < 1e-5)
    }

    @Test(arguments: [(o: 2, l: 4, i: 1, heads: 2), (o: 1, l: 3, i: 3, heads: 2)])
    func gradientsMatchFiniteDifferences(o: Int, l: Int, i: Int, heads: Int) {
        var g = RandomGenerator(seed: 9)
        let qkv = Tensor.normal([o, l, i, 3 * heads * 2], using: &g)
        let r = checkGradients([qkv]) { xs in Tensor.packedAttention(qkv: xs[0], heads: heads) }
        #expect(r.passed, "\(r)")
    }

    @Test func gradientsMatchPermutedAttention() {
        var g = RandomGenerator(seed: 3)
        let qkv = Tensor.normal([2, 4, 3, 12], using: &g)
        let weights = Tensor.normal([2, 4, 3, 4], using: &g)
        let fused = valueAndGradient(qkv) { Tensor.packedAttention(qkv: $0, heads: 2, scale: 0.5) * weights }
        let expected = valueAndGradient(qkv) { Self.reference($0, heads: 2, scale: 0.5) * weights }
        #expect(maxAbsDifference(fused, expected) < 1e-5)
    }

    /// Gradient of the sum of `body(x)` with respect to `x`.
    func valueAndGradient(_ x: Tensor, _ body: (Tensor) -> Tensor) -> Tensor {
        let p = Parameter(x)
        body(p.value).sum().backward()
        return p.grad!
    }

    @Test func singlePositionCopiesTheValues() {
        // With L = 1 every softmax is exactly 1, so the output is the value part, head by head.
        let qkv = Tensor(shape: [1, 1, 2, 6], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let out = Tensor.packedAttention(qkv: qkv, heads: 1)
        #expect(out.scalars == [5, 6, 11, 12])
    }
}

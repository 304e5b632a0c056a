import TensorCore

/// Multi-head self-attention with a fused query/key/value projection, as timm's `Attention`.
///
/// State-dict keys: `qkv` (Linear C → 3C) and `proj` (Linear C → C). The fused projection's output
/// channel `s·C + head·d + j` holds component `s` (q, k, v) of head `head`, element `j`
/// (`reference/TIME.md` §0), so PyTorch weights load unchanged. Scores are scaled by `d^-1/2`.
public final class Attention: Module, TokenMixer, UnaryLayer {
    /// The fused query/key/value projection, C → 3C.
    public let qkv: Linear
    /// The output projection, C → C.
    public let proj: Linear
    /// The number of heads.
    public let heads: Int
    /// The multiplier of the query–key scores, `d^-1/2` with `d = C / heads`.
    public let scale: Float

    /// Creates the layer for `dim` channels split into `heads` heads (PyTorch default initialisation).
    public init(dim: Int, heads: Int, qkvBias: Bool = true, using generator: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0, "Attention: dimension \(dim) is not divisible by \(heads) heads")
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, bias: qkvBias, using: &generator)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        self.heads = heads
        scale = 1 / Float(dim / heads).squareRoot()
        super.init()
    }

    /// Attends over the last-but-one axis of `x` (`[..., L, C]`); leading axes are independent sequences.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = proj.outFeatures
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == c, "Attention: input \(x.shape) for dimension \(c)")
        let l = x.shape[x.rank - 2]
        let b = x.shape.dropLast(2).reduce(1, *)
        let d = c / heads
        // [b, l, (s, head, j)] -> [s, b, head, l, j]: one slice per component, heads as batch.
        let parts = qkv(x).reshaped([b, l, 3, heads, d]).permuted([2, 0, 3, 1, 4])
        func component(_ s: Int) -> Tensor { parts.slice(axis: 0, range: s..<(s + 1)).reshaped([b, heads, l, d]) }
        let out = Tensor.scaledDotProductAttention(query: component(0), key: component(1), value: component(2),
                                                   scale: scale)
        return proj(out.permuted([0, 2, 1, 3]).reshaped(x.shape))
    }

    /// Plain attention does not depend on the layout.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor { callAsFunction(x) }
}

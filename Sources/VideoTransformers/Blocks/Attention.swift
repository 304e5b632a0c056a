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
        precondition(x.rank >= 2, "Attention: input \(x.shape) needs rank ≥ 2")
        return callAsFunction(x, sequenceAxis: x.rank - 2)
    }

    /// Attends along `sequenceAxis` of `x` (`[..., L, ..., C]`): every combination of the other
    /// axes but the last is one independent sequence.
    ///
    /// The heads are read straight from the `qkv` output and written in the order `proj` expects
    /// (``Tensor/packedAttention(qkv:heads:scale:)``), so attention over a middle axis, such as
    /// frames of tokens laid out `[B, T, N, C]`, needs no permute.
    public func callAsFunction(_ x: Tensor, sequenceAxis: Int) -> Tensor {
        let c = proj.outFeatures
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == c && sequenceAxis >= 0 && sequenceAxis < x.rank - 1,
                     "Attention: input \(x.shape) for dimension \(c) with sequence axis \(sequenceAxis)")
        let outer = x.shape[..<sequenceAxis].reduce(1, *)
        let inner = x.shape[(sequenceAxis + 1)..<(x.rank - 1)].reduce(1, *)
        let packed = qkv(x).reshaped([outer, x.shape[sequenceAxis], inner, 3 * c])
        return proj(Tensor.packedAttention(qkv: packed, heads: heads, scale: scale).reshaped(x.shape))
    }

    /// Plain attention does not depend on the layout.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor { callAsFunction(x) }
}

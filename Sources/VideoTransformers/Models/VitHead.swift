import TensorCore

/// X-ViT's temporal consensus head (`VitHead`, `reference/TIME.md` §2.3): a learnable class token
/// (zero-initialised, no position or time embedding) prepended to the per-frame class tokens, one
/// pre-norm transformer block (LayerNorm eps 1e-5, `qkv` without bias), then the class output
/// through `mlp_head` = LayerNorm(eps 1e-5) → Linear(C, C) → GELU → Dropout(0.5), and `head`.
///
/// State-dict keys: `cls_token`, `temporal_encoder.0.{norm1, attn.qkv.weight, attn.proj, norm2,
/// mlp}`, `mlp_head.0` (LayerNorm), `mlp_head.1` (Linear), `head`. All layers keep PyTorch's
/// default initialisation, as the reference does.
public final class VitHead: Module {
    /// The consensus class token, `[1, 1, C]`.
    public let clsToken: Parameter
    /// The single transformer block over `[cls, frame 0, …, frame T−1]`.
    public let temporalEncoder: [Block]
    /// LayerNorm → Linear → GELU → Dropout on the class output.
    public let mlpHead: Sequential
    /// The classifier, absent when the model has no classes.
    public let classifier: Linear?

    /// Creates the head for `dim` channels with `heads` heads, an MLP of width `mlpHidden` inside
    /// the block, and `numClasses` outputs (none when 0).
    public init(dim: Int, heads: Int, mlpHidden: Int, numClasses: Int, dropout: Float = 0.5,
                using generator: inout RandomGenerator) {
        clsToken = Parameter(Tensor(zeros: [1, 1, dim]))
        temporalEncoder = [Block(norm1: LayerNorm(dim, epsilon: 1e-5),
                                 attn: Attention(dim: dim, heads: heads, qkvBias: false, using: &generator),
                                 norm2: LayerNorm(dim, epsilon: 1e-5),
                                 mlp: Mlp(inFeatures: dim, hiddenFeatures: mlpHidden, using: &generator),
                                 dropPath: 0)]
        mlpHead = Sequential(LayerNorm(dim, epsilon: 1e-5), Linear(inFeatures: dim, outFeatures: dim, using: &generator),
                             GELU(), Dropout(probability: dropout))
        classifier = numClasses > 0 ? Linear(inFeatures: dim, outFeatures: numClasses, using: &generator) : nil
        super.init()
    }

    /// The classifier's PyTorch name is `head`.
    public override func key(forProperty name: String) -> String {
        name == "classifier" ? "head" : super.key(forProperty: name)
    }

    /// The clip embedding `[B, C]` (the `mlp_head` output) of per-frame class tokens `[B, T, C]`.
    public func embed(_ frameTokens: Tensor) -> Tensor {
        precondition(frameTokens.rank == 3 && frameTokens.shape[2] == clsToken.shape[2],
                     "VitHead: frame tokens \(frameTokens.shape) are not [B, T, \(clsToken.shape[2])]")
        let (b, t, c) = (frameTokens.shape[0], frameTokens.shape[1], frameTokens.shape[2])
        var x = Tensor.concat([clsToken.value.broadcast(to: [b, 1, c]), frameTokens], axis: 1)
        let layout = TokenLayout(frames: t, gridHeight: 1, gridWidth: 1, classTokens: 1)
        for block in temporalEncoder { x = block(x, layout: layout) }
        return mlpHead(x.slice(axis: 1, range: 0..<1).reshaped([b, c]))
    }

    /// Class logits `[B, K]` of a clip embedding `[B, C]`, or the embedding without a classifier.
    public func classify(_ embedding: Tensor) -> Tensor { classifier.map { $0(embedding) } ?? embedding }
}

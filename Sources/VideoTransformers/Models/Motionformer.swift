import TensorCore

/// Motionformer (trajectory attention) as TIME configures it (`reference/TIME.md` §2.2): 2-D
/// patches per frame, tokens in "t n" order after one class token, a spatial `pos_embed` plus a
/// separate `temp_embed` on the patch tokens, pre-norm blocks with ``TrajectoryAttention``, and a
/// `pre_logits` Linear + tanh applied to every token after the final norm.
///
/// Parameter names equal the reference state-dict keys: `cls_token`, `pos_embed`, `temp_embed`,
/// `patch_embed.proj`, `blocks.i.{norm1, attn.{qkv, proj_q, proj_kv, proj}, norm2, mlp}`, `norm`,
/// `pre_logits.fc`, `head`.
public final class Motionformer: Module, TokenBackbone {
    /// The class token, `[1, 1, C]`.
    public let clsToken: Parameter
    /// The spatial position embedding, `[1, 1 + N, C]` (index 0 is the class position).
    public let posEmbed: Parameter
    /// The time embedding, `[1, T, C]`, added to every patch token of frame `t`.
    public let tempEmbed: Parameter
    /// The per-frame patch projection.
    public let patchEmbed: PatchEmbed
    /// The blocks, each with a ``TrajectoryAttention`` mixer.
    public let blocks: [Block]
    /// The final LayerNorm.
    public let norm: LayerNorm
    /// The Linear + tanh applied to every token after the final norm.
    public let preLogits: TanhPreLogits
    /// The classifier, absent when `numClasses == 0`.
    public let classifier: Linear?

    /// The configuration the model was built from.
    public let config: TransformerConfig

    /// Builds the model with the reference initialisation: trunc-normal (std 0.02) `cls_token`,
    /// `pos_embed` and Linear weights (the new `proj_q`, `proj_kv` and `pre_logits` included), zero
    /// biases, zero `temp_embed`; every drop-path layer gets its own generator from `generator`.
    public init(_ config: TransformerConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "Motionformer: \(config.problem ?? "")")
        let c = config.embedDim
        self.config = config
        clsToken = Parameter(Tensor.truncatedNormal([1, 1, c], std: 0.02, using: &generator))
        posEmbed = Parameter(Tensor.truncatedNormal([1, 1 + config.gridSize * config.gridSize, c], std: 0.02,
                                                    using: &generator))
        tempEmbed = Parameter(Tensor(zeros: [1, config.numFrames, c]))
        patchEmbed = PatchEmbed(patchSize: config.patchSize, embedDim: c, using: &generator)
        blocks = stochasticDepthRates(maxRate: Float(config.dropPathRate), depth: config.depth).map { rate in
            let eps = config.layerNormEpsilon
            return Block(norm1: LayerNorm(c, epsilon: eps),
                         attn: TrajectoryAttention(dim: c, heads: config.numHeads, using: &generator),
                         norm2: LayerNorm(c, epsilon: eps),
                         mlp: Mlp(inFeatures: c, hiddenFeatures: config.mlpHidden, using: &generator),
                         dropPath: rate)
        }
        norm = LayerNorm(c, epsilon: config.layerNormEpsilon)
        preLogits = TanhPreLogits(dim: c, using: &generator)
        classifier = config.numClasses > 0 ? Linear(inFeatures: c, outFeatures: config.numClasses, using: &generator) : nil
        super.init()
        TransformerInit.apply(to: self, using: &generator)
        reseedRandomLayers(using: &generator)
    }

    /// The classifier's PyTorch name is `head`, which would clash with ``head(_:)``.
    public override func key(forProperty name: String) -> String {
        name == "classifier" ? "head" : super.key(forProperty: name)
    }

    /// The token width `C`.
    public var embedDim: Int { config.embedDim }
    /// The number of frames the time embedding is sized for.
    public var frameCount: Int { config.numFrames }
    /// The side of a square patch in pixels.
    public var patchSize: Int { config.patchSize }
    /// The embeddings the reference exempts from weight decay.
    public var noWeightDecayKeys: Set<String> { ["pos_embed", "cls_token", "temp_embed"] }

    /// The class embedding `[B, C]` and patch tokens `[B, T, N, C]` of a clip `[B, T, 3, H, W]`,
    /// both after the final norm and `tanh(pre_logits)`, which is what TIME's heads read (§2.4).
    public func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor) {
        let (tokens, layout) = SpaceTimeTokens.embed(
            clip, op: "Motionformer", patchEmbed: patchEmbed, clsToken: clsToken.value, posEmbed: posEmbed.value,
            timeEmbed: tempEmbed.value, gridSize: config.gridSize, patchSize: patchSize)
        var x = tokens
        for block in blocks { x = block(x, layout: layout) }
        return SpaceTimeTokens.split(preLogits(norm(x)), layout: layout)
    }

    /// Class logits from the class embedding (head dropout is 0 in TIME), or the embedding itself
    /// without a classifier.
    public func head(_ cls: Tensor) -> Tensor { classifier.map { $0(cls) } ?? cls }
}

/// `tanh(fc(x))`, Motionformer's `pre_logits` (an `OrderedDict` of `fc` and `act` upstream, so its
/// only state-dict key is `fc`).
public final class TanhPreLogits: Module, UnaryLayer {
    /// The Linear layer, C → C.
    public let fc: Linear

    /// Creates the layer for `dim` channels (PyTorch default initialisation).
    public init(dim: Int, using generator: inout RandomGenerator) {
        fc = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        super.init()
    }

    /// Applies `tanh(fc(x))` over the last axis.
    public func callAsFunction(_ x: Tensor) -> Tensor { fc(x).tanh() }
}

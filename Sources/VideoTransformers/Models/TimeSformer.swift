import TensorCore

/// TimeSformer with divided space-time attention, as TIME configures and implements it
/// (`reference/TIME.md` §2.1): 2-D patches per frame, tokens in "t n" (time-major) order, one
/// class token per video that skips temporal attention, `time_embed` added to patch tokens only.
///
/// Parameter names equal the TIME / facebookresearch state-dict keys (without FB's `model.`
/// prefix): `cls_token`, `pos_embed`, `time_embed`, `patch_embed.proj`, `blocks.i.{norm1, attn,
/// temporal_norm1, temporal_attn, temporal_fc, norm2, mlp}`, `norm`, `head`.
public final class TimeSformer: Module, TokenBackbone {
    /// The class token, `[1, 1, C]`.
    public let clsToken: Parameter
    /// The spatial position embedding, `[1, 1 + N, C]` (index 0 is the class position).
    public let posEmbed: Parameter
    /// The time embedding, `[1, T, C]`, added to every patch token of frame `t`.
    public let timeEmbed: Parameter
    /// The per-frame patch projection.
    public let patchEmbed: PatchEmbed
    /// The divided space-time blocks.
    public let blocks: [DividedSpaceTimeBlock]
    /// The final LayerNorm.
    public let norm: LayerNorm
    /// The classifier, absent when `numClasses == 0`.
    public let classifier: Linear?

    /// The configuration the model was built from.
    public let config: TransformerConfig

    /// Builds the model with the reference initialisation: trunc-normal (std 0.02) `cls_token`,
    /// `pos_embed` and Linear weights, zero biases, zero `time_embed` and zero `temporal_fc` in
    /// every block (TIME.md §2.1); every drop-path layer gets its own generator from `generator`.
    public init(_ config: TransformerConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "TimeSformer: \(config.problem ?? "")")
        let c = config.embedDim
        self.config = config
        clsToken = Parameter(Tensor.truncatedNormal([1, 1, c], std: 0.02, using: &generator))
        posEmbed = Parameter(Tensor.truncatedNormal([1, 1 + config.gridSize * config.gridSize, c], std: 0.02,
                                                    using: &generator))
        timeEmbed = Parameter(Tensor(zeros: [1, config.numFrames, c]))
        patchEmbed = PatchEmbed(patchSize: config.patchSize, embedDim: c, using: &generator)
        blocks = stochasticDepthRates(maxRate: Float(config.dropPathRate), depth: config.depth).map { rate in
            DividedSpaceTimeBlock(dim: c, heads: config.numHeads, mlpRatio: config.mlpRatio, dropPath: rate,
                                  layerNormEpsilon: config.layerNormEpsilon, using: &generator)
        }
        norm = LayerNorm(c, epsilon: config.layerNormEpsilon)
        classifier = config.numClasses > 0 ? Linear(inFeatures: c, outFeatures: config.numClasses, using: &generator) : nil
        super.init()
        TransformerInit.apply(to: self, using: &generator)
        for block in blocks {
            Init.zeros(block.temporalFc.weight)
            if let bias = block.temporalFc.bias { Init.zeros(bias) }
        }
        reseedRandomLayers(using: &generator)
    }

    /// The classifier's PyTorch name is `head`, which would clash with ``head(_:)``.
    public override func key(forProperty name: String) -> String {
        name == "classifier" ? "head" : super.key(forProperty: name)
    }

    /// The token width `C`.
    public var embedDim: Int { config.embedDim }
    /// The number of frames the time embedding is sized for (1 for the image model).
    public var frameCount: Int { config.numFrames }
    /// The side of a square patch in pixels.
    public var patchSize: Int { config.patchSize }
    /// The embeddings timm exempts from weight decay.
    public var noWeightDecayKeys: Set<String> { ["pos_embed", "cls_token", "time_embed"] }

    /// The final-norm class embedding `[B, C]` and patch tokens `[B, T, N, C]` of a clip `[B, T, 3, H, W]`.
    public func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor) {
        let (tokens, layout) = embedded(clip)
        var x = tokens
        for block in blocks { x = block(x, layout: layout) }
        return SpaceTimeTokens.split(norm(x), layout: layout)
    }

    /// The tokens `[B, 1 + T·N, C]` of a clip before the first block, and their layout.
    private func embedded(_ clip: Tensor) -> (Tensor, TokenLayout) {
        SpaceTimeTokens.embed(
            clip, op: "TimeSformer", patchEmbed: patchEmbed, clsToken: clsToken.value, posEmbed: posEmbed.value,
            timeEmbed: timeEmbed.value, gridSize: config.gridSize, patchSize: patchSize,
            positionInterpolation: config.positionInterpolation)
    }

    /// The final-norm class embedding `[B, C]` of a clip, as `features(clip).cls`, with the last block
    /// computing only its class token (``DividedSpaceTimeBlock/classToken(_:layout:)``): the patches'
    /// outputs of that block feed nothing the class embedding reads.
    public func classEmbedding(_ clip: Tensor) -> Tensor {
        let (tokens, layout) = embedded(clip)
        var x = tokens
        for block in blocks.dropLast() { x = block(x, layout: layout) }
        let cls = blocks.last.map { $0.classToken(x, layout: layout) } ?? x.slice(axis: 1, range: 0..<1)
        return norm(cls).reshaped([tokens.shape[0], embedDim])
    }

    /// Class logits from the class embedding, or the embedding itself without a classifier.
    public func head(_ cls: Tensor) -> Tensor { classifier.map { $0(cls) } ?? cls }
}

import TensorCore

/// X-ViT (space-time mixing attention) as TIME configures it (`reference/TIME.md` §2.3): a
/// per-frame ViT (`base_model`) whose blocks shift part of the keys and values across
/// neighbouring frames, and a small transformer over the per-frame class tokens (`consensus`,
/// ``VitHead``).
///
/// Parameter names equal the reference state-dict keys: `base_model.{cls_token, pos_embed,
/// temp_embed, patch_embed.proj, blocks.i.{norm1, attn.qkv, attn.proj, norm2, mlp}, norm}` and
/// `consensus.*`. ``features(_:)`` returns the consensus embedding (the `mlp_head` output) as the
/// class embedding and the per-frame final-norm patch tokens; ``head(_:)`` is `consensus.head`.
public final class XViT: Module, TokenBackbone {
    /// The per-frame ViT with space-time mixing attention.
    public let baseModel: XViTFrameEncoder
    /// The temporal consensus head over the per-frame class tokens.
    public let consensus: VitHead

    /// The configuration the model was built from.
    public let config: TransformerConfig

    /// Builds the model: timm initialisation for the per-frame ViT (trunc-normal 0.02) with a zero
    /// `temp_embed`, PyTorch default initialisation for the consensus head, whose dropout rate is
    /// `headDropout` (0.5 in TIME); every drop-path and dropout layer gets its own generator.
    public init(_ config: TransformerConfig, headDropout: Float = 0.5, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "XViT: \(config.problem ?? "")")
        self.config = config
        baseModel = XViTFrameEncoder(config, using: &generator)
        consensus = VitHead(dim: config.embedDim, heads: config.numHeads, mlpHidden: config.mlpHidden,
                            numClasses: config.numClasses, dropout: headDropout, using: &generator)
        super.init()
        reseedRandomLayers(using: &generator)
    }

    /// The token width `C`.
    public var embedDim: Int { config.embedDim }
    /// The number of frames the time embedding is sized for.
    public var frameCount: Int { config.numFrames }
    /// The side of a square patch in pixels.
    public var patchSize: Int { config.patchSize }
    /// The embeddings timm exempts from weight decay.
    public var noWeightDecayKeys: Set<String> {
        ["base_model.pos_embed", "base_model.cls_token", "base_model.temp_embed", "consensus.cls_token"]
    }

    /// The consensus embedding `[B, C]` and the per-frame final-norm patch tokens `[B, T, N, C]`
    /// of a clip `[B, T, 3, H, W]`.
    public func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor) {
        let (frameCls, tokens) = baseModel(clip)
        return (consensus.embed(frameCls), tokens)
    }

    /// Class logits from the consensus embedding, or the embedding itself without a classifier.
    public func head(_ cls: Tensor) -> Tensor { consensus.classify(cls) }
}

/// X-ViT's `base_model`: ViT-B/16 applied to every frame, with a time embedding on all of a
/// frame's tokens and ``SpaceTimeMixingAttention`` in every block.
public final class XViTFrameEncoder: Module {
    /// The per-frame class token, `[1, 1, C]`.
    public let clsToken: Parameter
    /// The position embedding, `[1, 1 + N, C]` (index 0 is the class position).
    public let posEmbed: Parameter
    /// The time embedding, `[1, T, 1, C]`, added to every token of frame `t`, class token included.
    public let tempEmbed: Parameter
    /// The per-frame patch projection.
    public let patchEmbed: PatchEmbed
    /// The blocks, each with a ``SpaceTimeMixingAttention`` mixer.
    public let blocks: [Block]
    /// The final LayerNorm.
    public let norm: LayerNorm

    /// The configuration the encoder was built from (`numClasses` unused).
    public let config: TransformerConfig

    /// Builds the encoder with timm's initialisation and a zero `temp_embed`.
    public init(_ config: TransformerConfig, using generator: inout RandomGenerator) {
        let c = config.embedDim
        self.config = config
        clsToken = Parameter(Tensor.truncatedNormal([1, 1, c], std: 0.02, using: &generator))
        posEmbed = Parameter(Tensor.truncatedNormal([1, 1 + config.gridSize * config.gridSize, c], std: 0.02,
                                                    using: &generator))
        tempEmbed = Parameter(Tensor(zeros: [1, config.numFrames, 1, c]))
        patchEmbed = PatchEmbed(patchSize: config.patchSize, embedDim: c, using: &generator)
        blocks = stochasticDepthRates(maxRate: Float(config.dropPathRate), depth: config.depth).map { rate in
            let eps = config.layerNormEpsilon
            return Block(norm1: LayerNorm(c, epsilon: eps),
                         attn: SpaceTimeMixingAttention(dim: c, heads: config.numHeads, using: &generator),
                         norm2: LayerNorm(c, epsilon: eps),
                         mlp: Mlp(inFeatures: c, hiddenFeatures: config.mlpHidden, using: &generator),
                         dropPath: rate)
        }
        norm = LayerNorm(c, epsilon: config.layerNormEpsilon)
        super.init()
        TransformerInit.apply(to: self, using: &generator)
    }

    /// The final-norm class tokens `[B, T, C]` and patch tokens `[B, T, N, C]` of every frame of a
    /// clip `[B, T, 3, H, W]`.
    public func callAsFunction(_ clip: Tensor) -> (classTokens: Tensor, tokens: Tensor) {
        let (b, t, h, w) = ClipShape.check(clip, op: "XViT", patchSize: config.patchSize)
        let c = config.embedDim
        let (patches, gh, gw) = patchEmbed(clip.reshaped([b * t, 3, h, w]))
        let n = gh * gw
        let g = config.gridSize
        let pos = EmbeddingResampling.bicubic(posEmbed.value, from: (g, g), to: (gh, gw))
        // Other frame counts resample temp_embed by nearest selection, as TimeSformer's time_embed.
        let time = EmbeddingResampling.nearest(tempEmbed.value.reshaped([1, config.numFrames, c]), frames: t)
            .reshaped([1, t, 1, c])
        let tokens = Tensor.concat([clsToken.value.broadcast(to: [b * t, 1, c]), patches], axis: 1) + pos
        var x = (tokens.reshaped([b, t, 1 + n, c]) + time).reshaped([b * t, 1 + n, c])
        // Frames of one clip are contiguous along the batch axis, which the mixer relies on.
        let layout = TokenLayout(frames: t, gridHeight: gh, gridWidth: gw, classTokens: 1)
        for block in blocks { x = block(x, layout: layout) }
        x = norm(x).reshaped([b, t, 1 + n, c])
        return (x.slice(axis: 2, range: 0..<1).reshaped([b, t, c]),
                x.slice(axis: 2, range: 1..<(1 + n)))
    }
}

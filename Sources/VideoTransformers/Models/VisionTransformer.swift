import TensorCore

/// The image Vision Transformer with timm's `vit_base_patch16_224` layout and parameter names
/// (`cls_token`, `pos_embed`, `patch_embed.proj`, `blocks.i.{norm1, attn.qkv, attn.proj, norm2,
/// mlp.fc1, mlp.fc2}`, `norm`, `head`).
///
/// As a ``VideoBackbone`` it treats the frames of a clip independently: each frame is one image,
/// the clip's class embedding is the mean of the per-frame final-norm class tokens, and the tokens
/// are the per-frame patch tokens `[B, T, N, C]`. With `T = 1` this is exactly the image model.
/// There is no time embedding, so ``frameCount`` is 1 and any `T` is accepted.
public final class VisionTransformer: Module, TokenBackbone {
    /// The class token, `[1, 1, C]`.
    public let clsToken: Parameter
    /// The position embedding, `[1, 1 + N, C]` (index 0 is the class position).
    public let posEmbed: Parameter
    /// The per-image patch projection.
    public let patchEmbed: PatchEmbed
    /// The transformer blocks.
    public let blocks: [Block]
    /// The final LayerNorm.
    public let norm: LayerNorm
    /// The classifier, absent when `numClasses == 0`.
    public let classifier: Linear?

    /// The configuration the model was built from.
    public let config: TransformerConfig

    /// Builds the model with timm-style initialisation (trunc-normal 0.02 for embeddings and
    /// Linear weights) and gives every drop-path layer its own generator, all from `generator`.
    public init(_ config: TransformerConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "VisionTransformer: \(config.problem ?? "")")
        let c = config.embedDim
        self.config = config
        clsToken = Parameter(Tensor.truncatedNormal([1, 1, c], std: 0.02, using: &generator))
        posEmbed = Parameter(Tensor.truncatedNormal([1, 1 + config.gridSize * config.gridSize, c], std: 0.02,
                                                    using: &generator))
        patchEmbed = PatchEmbed(patchSize: config.patchSize, embedDim: c, using: &generator)
        blocks = stochasticDepthRates(maxRate: Float(config.dropPathRate), depth: config.depth).map { rate in
            Block(dim: c, heads: config.numHeads, mlpRatio: config.mlpRatio, dropPath: rate,
                  layerNormEpsilon: config.layerNormEpsilon, using: &generator)
        }
        norm = LayerNorm(c, epsilon: config.layerNormEpsilon)
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
    /// The number of frames the time embedding is sized for (1 for the image model).
    public var frameCount: Int { 1 }
    /// The side of a square patch in pixels.
    public var patchSize: Int { config.patchSize }
    /// The embeddings timm exempts from weight decay.
    public var noWeightDecayKeys: Set<String> { ["pos_embed", "cls_token"] }

    /// Final-norm tokens `[M, 1 + N, C]` of images `[M, 3, H, W]`, with the position embedding
    /// resampled (bicubic) when the image is not the configured size.
    public func encode(_ images: Tensor) -> (tokens: Tensor, layout: TokenLayout) {
        let (patches, gh, gw) = patchEmbed(images)
        let m = patches.shape[0]
        let g = config.gridSize
        let pos = EmbeddingResampling.bicubic(posEmbed.value, from: (g, g), to: (gh, gw))
        let cls = clsToken.value.broadcast(to: [m, 1, embedDim])
        var x = Tensor.concat([cls, patches], axis: 1) + pos
        let layout = TokenLayout(frames: 1, gridHeight: gh, gridWidth: gw, classTokens: 1)
        for block in blocks { x = block(x, layout: layout) }
        return (norm(x), layout)
    }

    /// The final-norm class embedding `[B, C]` and patch tokens `[B, T, N, C]` of a clip `[B, T, 3, H, W]`.
    public func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor) {
        let (b, t, h, w) = ClipShape.check(clip, op: "VisionTransformer", patchSize: patchSize)
        let (x, layout) = encode(clip.reshaped([b * t, 3, h, w]))
        let n = layout.patchesPerFrame
        let cls = x.slice(axis: 1, range: 0..<1).reshaped([b, t, embedDim])
        let tokens = x.slice(axis: 1, range: 1..<(1 + n)).reshaped([b, t, n, embedDim])
        return (t == 1 ? cls.reshaped([b, embedDim]) : cls.mean(axis: 1), tokens)
    }

    /// Class logits from the class embedding, or the embedding itself without a classifier.
    public func head(_ cls: Tensor) -> Tensor { classifier.map { $0(cls) } ?? cls }
}

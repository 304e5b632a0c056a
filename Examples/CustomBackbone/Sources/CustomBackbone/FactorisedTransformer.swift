import TensorCore
import VideoTransformers

/// The hyper-parameters of ``FactorisedTransformer``, overridable by name from recipes and `--set`.
struct FactorisedConfig: BackboneConfiguration {
    var embedDim = 48
    var depth = 2
    var numHeads = 3
    var patchSize = 8
    var numFrames = 8
    var imgSize = 64
    var numClasses = 8
    var dropPathRate = 0.1

    static let overrideKeys = ["depth", "drop_path_rate", "embed_dim", "img_size", "num_classes", "num_frames",
                               "num_heads", "patch_size"]

    mutating func set(_ key: String, to value: ConfigValue) throws(BackboneConfigError) {
        let v = OverrideValue(key: key, value: value)
        switch key {
        case "embed_dim": embedDim = try v.int()
        case "depth": depth = try v.int()
        case "num_heads": numHeads = try v.int()
        case "patch_size": patchSize = try v.int()
        case "num_frames": numFrames = try v.int()
        case "img_size": imgSize = try v.int()
        case "num_classes": numClasses = try v.int(minimum: 0)
        case "drop_path_rate": dropPathRate = try v.real("lie in [0, 1)") { $0 >= 0 && $0 < 1 }
        default: throw .unknownKey(key, validKeys: Self.overrideKeys)
        }
    }

    var problem: String? {
        if embedDim % numHeads != 0 { return "embed_dim \(embedDim) is not divisible by num_heads \(numHeads)" }
        if imgSize % patchSize != 0 { return "img_size \(imgSize) is not a multiple of patch_size \(patchSize)" }
        return nil
    }
}

/// A factorised 2D + 1D video transformer: each layer attends over the patches of every frame
/// (space), then over the frames of every patch position (time). No class token: the class
/// embedding is the mean of the final tokens, which TIME's heads read as `[B, T, N, C]`.
///
/// State-dict keys: `patch_embed.proj.*`, `pos_embed`, `time_embed`, `spatial_blocks.i.*`,
/// `temporal_blocks.i.*`, `norm.*`, `head.*`.
final class FactorisedTransformer: Module, TokenBackbone {
    let patchEmbed: PatchEmbed
    let posEmbed: Parameter
    let timeEmbed: Parameter
    let spatialBlocks: [Block]
    let temporalBlocks: [Block]
    let norm: LayerNorm
    let classifier: Linear?
    let config: FactorisedConfig

    init(_ config: FactorisedConfig, using generator: inout RandomGenerator) {
        self.config = config
        let c = config.embedDim, grid = config.imgSize / config.patchSize
        patchEmbed = PatchEmbed(patchSize: config.patchSize, embedDim: c, using: &generator)
        posEmbed = Parameter(Tensor.truncatedNormal([1, grid * grid, c], std: 0.02, using: &generator))
        timeEmbed = Parameter(Tensor(zeros: [1, config.numFrames, 1, c]))
        let rates = stochasticDepthRates(maxRate: Float(config.dropPathRate), depth: config.depth)
        spatialBlocks = rates.map { Block(dim: c, heads: config.numHeads, mlpRatio: 4, dropPath: $0, using: &generator) }
        temporalBlocks = rates.map { Block(dim: c, heads: config.numHeads, mlpRatio: 4, dropPath: $0, using: &generator) }
        norm = LayerNorm(c, epsilon: 1e-6)
        classifier = config.numClasses > 0 ? Linear(inFeatures: c, outFeatures: config.numClasses, using: &generator) : nil
    }

    /// The classifier's key is `head`, which would clash with ``head(_:)`` as a property name.
    override func key(forProperty name: String) -> String {
        name == "classifier" ? "head" : super.key(forProperty: name)
    }

    var embedDim: Int { config.embedDim }
    var frameCount: Int { config.numFrames }
    var patchSize: Int { config.patchSize }
    var noWeightDecayKeys: Set<String> { ["pos_embed", "time_embed"] }

    func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor) {
        precondition(clip.rank == 5 && clip.shape[3] % patchSize == 0 && clip.shape[4] % patchSize == 0,
                     "FactorisedTransformer: clip \(clip.shape) must be [B, T, 3, H, W] with H, W multiples of \(patchSize)")
        let (b, t, h, w) = (clip.shape[0], clip.shape[1], clip.shape[3], clip.shape[4])
        let (gh, gw) = (h / patchSize, w / patchSize), n = gh * gw, c = embedDim
        var x = patchEmbed(clip.reshaped([b * t, 3, h, w])).tokens + positions(gridHeight: gh, gridWidth: gw)
        var time = timeEmbed.value
        if t != frameCount {
            time = EmbeddingResampling.nearest(time.reshaped([1, frameCount, c]), frames: t).reshaped([1, t, 1, c])
        }
        x = x.reshaped([b, t, n, c]) + time
        for (spatial, temporal) in zip(spatialBlocks, temporalBlocks) {
            x = spatial(x.reshaped([b * t, n, c]), layout: TokenLayout(frames: 1, gridHeight: gh, gridWidth: gw, classTokens: 0))
            // Time: one sequence of T tokens per patch position.
            let perPatch = x.reshaped([b, t, n, c]).permuted([0, 2, 1, 3]).reshaped([b * n, t, c])
            let mixed = temporal(perPatch, layout: TokenLayout(frames: t, gridHeight: 1, gridWidth: 1, classTokens: 0))
            x = mixed.reshaped([b, n, t, c]).permuted([0, 2, 1, 3])
        }
        let tokens = norm(x.reshaped([b, t, n, c]))
        return (tokens.mean(axes: [1, 2]), tokens)
    }

    /// `pos_embed` for a `gh × gw` patch grid: bicubic resampling of the configured square grid when
    /// the crop differs (through a placeholder class position, the layout the resampler expects).
    func positions(gridHeight gh: Int, gridWidth gw: Int) -> Tensor {
        let grid = config.imgSize / patchSize, c = embedDim
        guard gh != grid || gw != grid else { return posEmbed.value }
        let withClass = Tensor.concat([Tensor(zeros: [1, 1, c]), posEmbed.value], axis: 1)
        return EmbeddingResampling.bicubic(withClass, from: (grid, grid), to: (gh, gw)).slice(axis: 1, range: 1..<(1 + gh * gw))
    }

    func head(_ cls: Tensor) -> Tensor { classifier.map { $0(cls) } ?? cls }
}

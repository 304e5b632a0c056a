import Foundation
import TensorCore

/// The hyper-parameters of VideoMAE's ViT and its pre-training decoder (`reference/SVT-VideoMS-IIC.md`
/// §2.2), by the reference's names.
public struct VideoMAEConfig: Sendable, Hashable {
    /// Encoder width.
    public var embedDim = 768
    /// Encoder blocks.
    public var depth = 12
    /// Encoder heads.
    public var numHeads = 12
    /// MLP width as a multiple of the token width.
    public var mlpRatio = 4.0
    /// Side of a square patch.
    public var patchSize = 16
    /// Frames per tubelet.
    public var tubeletSize = 2
    /// Frames per clip.
    public var numFrames = 16
    /// Side of the crop.
    public var imgSize = 224
    /// Classifier outputs (0: none; the class embedding is the output).
    public var numClasses = 0
    /// Mean-pool the tokens and normalise with `fc_norm` (fine-tuning), or normalise every token with
    /// `norm` (the pre-training encoder).
    public var useMeanPooling = true
    /// Stochastic depth of the last encoder block.
    public var dropPathRate = 0.0
    /// The classifier's initial weights and bias are multiplied by this (`init_scale`, 0.001 in
    /// VideoMAE's fine-tuning).
    public var initScale = 1.0
    /// Dropout on the pooled features before the classifier (`fc_drop_rate`; 0.5 in VideoMAE's
    /// UCF101 fine-tuning, 0 in VideoMS's). 0: none.
    public var fcDropRate = 0.0
    /// Decoder width.
    public var decoderEmbedDim = 384
    /// Decoder blocks.
    public var decoderDepth = 4
    /// Decoder heads.
    public var decoderNumHeads = 6
    /// LayerNorm epsilon.
    public var layerNormEpsilon: Float = 1e-6
    /// VideoMS fine-tuning token selection (`--mcm_ratio`, 0.4 in its scripts): the share of tokens
    /// dropped, keeping deterministically the `⌊(1 − ratio)·N⌋` of highest motion importance at
    /// training and test time (§2.5). 0: every token.
    public var mcmRatio = 0.0

    /// ViT-B/16 over 16 frames of 224², decoder 384 wide with 4 blocks (VideoMAE and VideoMS) by
    /// default; any value can be given.
    public init(
        embedDim: Int = 768, depth: Int = 12, numHeads: Int = 12, imgSize: Int = 224, numFrames: Int = 16,
        decoderEmbedDim: Int = 384, decoderDepth: Int = 4, decoderNumHeads: Int = 6
    ) {
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.imgSize = imgSize
        self.numFrames = numFrames
        self.decoderEmbedDim = decoderEmbedDim
        self.decoderDepth = decoderDepth
        self.decoderNumHeads = decoderNumHeads
    }

    /// Tokens per clip: `(frames / tubelet) · (img / patch)²`.
    public var tokenCount: Int { (numFrames / tubeletSize) * gridSize * gridSize }
    /// Patch rows (and columns).
    public var gridSize: Int { imgSize / patchSize }
    /// Pixel values one token reconstructs: `3 · tubelet · patch²`.
    public var pixelsPerToken: Int { 3 * tubeletSize * patchSize * patchSize }
}

extension VideoMAEConfig: BackboneConfiguration {
    /// The override keys.
    public static let overrideKeys: [String] = [
        "decoder_depth", "decoder_embed_dim", "decoder_num_heads", "depth", "drop_path_rate", "embed_dim",
        "fc_drop_rate", "img_size", "init_scale", "mcm_ratio", "mlp_ratio", "num_classes", "num_frames", "num_heads", "patch_size", "tubelet_size",
        "use_mean_pooling",
    ]

    /// Sets one hyper-parameter by its reference name.
    public mutating func set(_ key: String, to value: ConfigValue) throws(BackboneConfigError) {
        let v = OverrideValue(key: key, value: value)
        switch key {
        case "embed_dim": embedDim = try v.int()
        case "depth": depth = try v.int()
        case "num_heads": numHeads = try v.int()
        case "mlp_ratio": mlpRatio = try v.real("be positive") { $0 > 0 && $0.isFinite }
        case "patch_size": patchSize = try v.int()
        case "tubelet_size": tubeletSize = try v.int()
        case "num_frames": numFrames = try v.int()
        case "img_size": imgSize = try v.int()
        case "num_classes": numClasses = try v.int(minimum: 0)
        case "drop_path_rate": dropPathRate = try v.real("lie in [0, 1)") { $0 >= 0 && $0 < 1 }
        case "fc_drop_rate": fcDropRate = try v.real("lie in [0, 1)") { $0 >= 0 && $0 < 1 }
        case "init_scale": initScale = try v.real("be positive") { $0 > 0 && $0.isFinite }
        case "mcm_ratio": mcmRatio = try v.real("lie in [0, 1)") { $0 >= 0 && $0 < 1 }
        case "decoder_embed_dim": decoderEmbedDim = try v.int()
        case "decoder_depth": decoderDepth = try v.int()
        case "decoder_num_heads": decoderNumHeads = try v.int()
        case "use_mean_pooling":
            switch value {
            case .string("true"), .int(1): useMeanPooling = true
            case .string("false"), .int(0): useMeanPooling = false
            default: throw .invalidValue(key: key, value: value.description, reason: "expected true or false")
            }
        default: throw .unknownKey(key, validKeys: Self.overrideKeys)
        }
    }

    /// The first inconsistency, or nil.
    public var problem: String? {
        if [embedDim, depth, numHeads, patchSize, tubeletSize, numFrames, imgSize, decoderEmbedDim, decoderDepth,
            decoderNumHeads].contains(where: { $0 <= 0 }) {
            return "sizes, depths and head counts must be positive"
        }
        if embedDim % numHeads != 0 { return "embed_dim \(embedDim) is not divisible by num_heads \(numHeads)" }
        if decoderEmbedDim % decoderNumHeads != 0 {
            return "decoder_embed_dim \(decoderEmbedDim) is not divisible by decoder_num_heads \(decoderNumHeads)"
        }
        if imgSize % patchSize != 0 { return "img_size \(imgSize) is not a multiple of patch_size \(patchSize)" }
        if numFrames % tubeletSize != 0 { return "num_frames \(numFrames) is not a multiple of tubelet_size \(tubeletSize)" }
        return nil
    }
}

/// VideoMAE's fixed position table (`get_sinusoid_encoding_table`): row `p`, column `j` is
/// `sin(p / 10000^(2⌊j/2⌋/d))` for even `j` and `cos` of the same for odd `j`, computed in Double.
public func sinusoidPositionTable(positions: Int, width: Int) -> Tensor {
    Tensor(shape: [positions, width]) { out in
        for p in 0..<positions {
            for j in 0..<width {
                let angle = Double(p) / pow(10000, 2 * Double(j / 2) / Double(width))
                out[p * width + j] = Float(j % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
    }
}

/// Self-attention whose `qkv` projection has biases for queries and values only (`q_bias`,
/// `v_bias`; the key bias is fixed at 0), as in VideoMAE and BEiT.
public final class QVBiasAttention: Module, TokenMixer, UnaryLayer {
    /// The query/key/value projection, without bias.
    public let qkv: Linear
    /// The query bias.
    public let qBias: Parameter
    /// The value bias.
    public let vBias: Parameter
    /// The output projection.
    public let proj: Linear
    /// Heads.
    public let heads: Int
    /// `head_dim^−½`.
    public let scale: Float

    /// Xavier-uniform projections and zero biases, as VideoMAE initialises them.
    public init(dim: Int, heads: Int, using generator: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0, "QVBiasAttention: dimension \(dim) is not divisible by \(heads) heads")
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, bias: false, using: &generator)
        qBias = Parameter(Tensor(zeros: [dim]))
        vBias = Parameter(Tensor(zeros: [dim]))
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        self.heads = heads
        scale = 1 / Float(dim / heads).squareRoot()
        super.init()
    }

    /// Attention over the tokens of `[B, L, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = proj.outFeatures
        precondition(x.rank == 3 && x.shape[2] == c, "QVBiasAttention: input \(x.shape) is not [B, L, \(c)]")
        let bias = Tensor.concat([qBias.value, Tensor(zeros: [c]), vBias.value], axis: 0)
        let packed = Tensor.linear(x, weight: qkv.weight.value, bias: bias).reshaped([x.shape[0], x.shape[1], 1, 3 * c])
        return proj(Tensor.packedAttention(qkv: packed, heads: heads, scale: scale).reshaped(x.shape))
    }

    /// The same, for the block interface.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor { callAsFunction(x) }
}

/// VideoMAE's pre-norm transformer blocks with q/v-bias attention.
func videoMAEBlocks(
    dim: Int, depth: Int, heads: Int, mlpRatio: Double, dropPathRate: Float, epsilon: Float,
    using generator: inout RandomGenerator
) -> [Block] {
    stochasticDepthRates(maxRate: dropPathRate, depth: depth).map { rate in
        let attn = QVBiasAttention(dim: dim, heads: heads, using: &generator)
        let mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), using: &generator)
        return Block(norm1: LayerNorm(dim, epsilon: epsilon), attn: attn, norm2: LayerNorm(dim, epsilon: epsilon),
                     mlp: mlp, dropPath: rate)
    }
}

/// Xavier-uniform weights and zero biases for every `Linear`, LayerNorm 1 and 0 (VideoMAE's
/// `_init_weights`).
func xavierLinears(in module: Module, using generator: inout RandomGenerator) {
    for (_, child) in module.namedModules() {
        if let linear = child as? Linear {
            let (fanOut, fanIn) = (linear.weight.shape[0], linear.weight.shape[1])
            let bound = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            linear.weight.value = Tensor.uniform(linear.weight.shape, low: -bound, high: bound, using: &generator)
            if let bias = linear.bias { Init.zeros(bias) }
        }
    }
}

/// Selects rows of `tokens` `[B, N, C]` per sample: `indices[b]` (all of one length) → `[B, n, C]`.
public func gatherTokens(_ tokens: Tensor, _ indices: [[Int]]) -> Tensor {
    let (b, n, c) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
    precondition(indices.count == b && Set(indices.map(\.count)).count <= 1,
                 "gatherTokens: \(indices.count) index lists of unequal length for \(b) samples")
    let k = indices.first?.count ?? 0
    let flat = indices.enumerated().flatMap { s, rows in rows.map { s * n + $0 } }
    return tokens.reshaped([b * n, c]).indexSelect(axis: 0, indices: flat).reshaped([b, k, c])
}

/// VideoMAE's ViT (`modeling_finetune.VisionTransformer`, and the pre-training encoder): tubelet
/// embedding, fixed sinusoid positions, q/v-bias blocks, then either `norm` over every token (the
/// pre-training encoder) or mean pooling and `fc_norm` (fine-tuning), and a classifier `head`.
///
/// Keys: `patch_embed.proj.*`, `blocks.i.{norm1, attn.qkv, attn.q_bias, attn.v_bias, attn.proj,
/// norm2, mlp.fc1, mlp.fc2}`, `norm` or `fc_norm`, `head`. The position table is not a state-dict
/// entry (as in the reference).
public final class VideoMAEViT: Module, VideoBackbone {
    /// The configuration.
    public let config: VideoMAEConfig
    /// Tubelet embedding (Conv3d as a product).
    public let patchEmbed: TubeletEmbed
    /// The blocks.
    public let blocks: [Block]
    /// Token norm of the pre-training encoder.
    public let norm: LayerNorm?
    /// Norm after mean pooling (fine-tuning).
    public let fcNorm: LayerNorm?
    /// Dropout before the classifier (`fc_dropout`), when `fc_drop_rate` is above 0.
    public let fcDropout: Dropout?
    /// The classifier.
    public let classifier: Linear?
    /// The fixed position table `[N, C]`.
    public let positions: Tensor

    /// Builds the model with VideoMAE's initialisation (Xavier-uniform linears, PyTorch's default
    /// for the tubelet projection; the classifier truncated-normal std 0.02 times `init_scale`).
    public init(_ config: VideoMAEConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "VideoMAEViT: \(config.problem ?? "")")
        self.config = config
        let c = config.embedDim
        patchEmbed = TubeletEmbed(tubeletSize: config.tubeletSize, patchSize: config.patchSize, embedDim: c,
                                  using: &generator)
        blocks = videoMAEBlocks(dim: c, depth: config.depth, heads: config.numHeads, mlpRatio: config.mlpRatio,
                                dropPathRate: Float(config.dropPathRate), epsilon: config.layerNormEpsilon,
                                using: &generator)
        norm = config.useMeanPooling ? nil : LayerNorm(c, epsilon: config.layerNormEpsilon)
        fcNorm = config.useMeanPooling ? LayerNorm(c, epsilon: config.layerNormEpsilon) : nil
        fcDropout = config.fcDropRate > 0 && config.numClasses > 0 ? Dropout(probability: Float(config.fcDropRate)) : nil
        classifier = config.numClasses > 0 ? Linear(inFeatures: c, outFeatures: config.numClasses, using: &generator) : nil
        positions = sinusoidPositionTable(positions: config.tokenCount, width: c)
        super.init()
        for block in blocks { xavierLinears(in: block, using: &generator) }
        if let classifier {
            classifier.weight.value = Tensor.truncatedNormal(classifier.weight.shape, std: 0.02, using: &generator)
                * Float(config.initScale)
            if let bias = classifier.bias { Init.zeros(bias) }
        }
        reseedRandomLayers(using: &generator)
    }

    /// `classifier` is `head`; `positions` is not a module member.
    public override func key(forProperty name: String) -> String {
        name == "classifier" ? "head" : super.key(forProperty: name)
    }

    /// The token width.
    public var embedDim: Int { config.embedDim }
    /// Frames per clip.
    public var frameCount: Int { config.numFrames }
    /// VideoMAE exempts the position table (not a parameter here) and `cls_token` (absent).
    public var noWeightDecayKeys: Set<String> { [] }

    /// Tubelet embeddings `[B, N, C]` of a clip `[B, T, 3, H, W]`, before the position table.
    public func patchEmbeddings(_ clip: Tensor) -> Tensor {
        let e = patchEmbed(clip)
        return e.reshaped([e.shape[0], e.shape[1] * e.shape[2], e.shape[3]])
    }

    /// The blocks over the tokens `visible[b]` of each sample (all when nil), then `norm` (or
    /// nothing with mean pooling): `[B, n, C]`. Time and memory scale with the visible count.
    /// `embeddings`, when given, are this clip's ``patchEmbeddings(_:)`` already computed (VideoMS
    /// scores motion on them first), so the tubelet projection runs once.
    public func encode(_ clip: Tensor, visible: [[Int]]? = nil, embeddings: Tensor? = nil) -> Tensor {
        let embedded = embeddings ?? patchEmbeddings(clip)
        precondition(embedded.shape[1] == config.tokenCount,
                     "VideoMAEViT: clip \(clip.shape) gives \(embedded.shape[1]) tokens, the model is sized for \(config.tokenCount)")
        var x = embedded + positions
        if let visible {
            x = gatherTokens(x, visible)
        } else if config.mcmRatio > 0 {
            x = gatherTokens(x, selectedTokens(embedded))
        }
        let layout = TokenLayout(frames: 1, gridHeight: 1, gridWidth: x.shape[1], classTokens: 0)
        for block in blocks { x = block(x, layout: layout) }
        return norm.map { $0(x) } ?? x
    }

    /// VideoMS's motion importance of every token: the L2 distance between the patch embeddings of
    /// the same cell in adjacent time slots, `embeddings` `[B, T', cells, C]`; slot 0 takes the
    /// 0→1 distance, slot `t ≥ 1` the `(t−1)→t` one. Returns `[B][T'·cells]`.
    public static func motionImportance(_ embeddings: Tensor) -> [[Float]] {
        precondition(embeddings.rank == 4 && embeddings.shape[1] >= 2,
                     "motionImportance: embeddings \(embeddings.shape) are not [B, T' ≥ 2, cells, C]")
        let (b, slots, cells, c) = (embeddings.shape[0], embeddings.shape[1], embeddings.shape[2], embeddings.shape[3])
        let e = embeddings.scalars
        return (0..<b).map { s in
            var distances = [Float](repeating: 0, count: (slots - 1) * cells)
            for t in 0..<(slots - 1) {
                for n in 0..<cells {
                    let a = ((s * slots + t) * cells + n) * c, z = ((s * slots + t + 1) * cells + n) * c
                    var sum: Float = 0
                    for k in 0..<c { let d = e[z + k] - e[a + k]; sum += d * d }
                    distances[t * cells + n] = sum.squareRoot()
                }
            }
            return (0..<slots).flatMap { t in (0..<cells).map { distances[max(t - 1, 0) * cells + $0] } }
        }
    }

    /// VideoMS's fine-tuning selection (`mcm_ratio`): per clip the `⌊(1 − ratio)·N⌋` tokens of highest
    /// motion importance (ties to the lower index), ascending.
    public func selectedTokens(_ embeddings: Tensor) -> [[Int]] {
        let (b, n) = (embeddings.shape[0], embeddings.shape[1])
        let slots = config.numFrames / config.tubeletSize
        let keep = max(1, Int((1 - config.mcmRatio) * Double(n)))
        let importance = VideoMAEViT.motionImportance(
            noGrad { embeddings.detached() }.reshaped([b, slots, n / slots, embeddings.shape[2]]))
        return importance.map { scores in
            scores.indices.sorted { scores[$0] > scores[$1] || scores[$0] == scores[$1] && $0 < $1 }.prefix(keep).sorted()
        }
    }

    /// Mean-pooled, `fc_norm`-ed tokens `[B, C]` (the mean of normalised tokens without mean pooling).
    public func classEmbedding(_ clip: Tensor) -> Tensor {
        let pooled = encode(clip).mean(axis: 1)
        return fcNorm.map { $0(pooled) } ?? pooled
    }

    /// Class logits (after `fc_dropout` in training mode), or the embedding without a classifier.
    public func head(_ cls: Tensor) -> Tensor {
        guard let classifier else { return cls }
        return classifier(fcDropout.map { $0(cls) } ?? cls)
    }
}

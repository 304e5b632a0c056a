import TensorCore

/// The hyper-parameters shared by the ViT-family backbones (names follow the reference configs).
public struct TransformerConfig: Sendable, Hashable {
    /// Token width `C`.
    public var embedDim: Int
    /// Number of blocks.
    public var depth: Int
    /// Attention heads per block (`embedDim` must be a multiple).
    public var numHeads: Int
    /// MLP hidden width as a multiple of `embedDim`.
    public var mlpRatio: Double
    /// Side of a square patch in pixels.
    public var patchSize: Int
    /// Frames the time embedding is sized for (1 for image models).
    public var numFrames: Int
    /// Side of the square crop the position embedding is sized for.
    public var imgSize: Int
    /// Classifier outputs; 0 means no classifier (``VideoBackbone/head(_:)`` is the identity).
    public var numClasses: Int
    /// Stochastic-depth rate of the last block (block `i` gets `linspace(0, rate, depth)[i]`).
    public var dropPathRate: Double
    /// LayerNorm epsilon (1e-6 in every reference ViT backbone).
    public var layerNormEpsilon: Float
    /// How the spatial position embedding follows a crop other than ``imgSize`` (override key
    /// `pos_interpolation`): bicubic as TIME's TimeSformer, or nearest as SVT's
    /// (`reference/SVT-VideoMS-IIC.md` §1.2).
    public var positionInterpolation: PositionInterpolation

    /// The rule that resizes the patch grid of a position embedding.
    public enum PositionInterpolation: String, Sendable, Hashable, CaseIterable {
        /// `F.interpolate(mode="bicubic", align_corners=False)`.
        case bicubic
        /// `F.interpolate(mode="nearest")`: output index `i` reads source `⌊i·in/out⌋`.
        case nearest
    }

    /// Creates a configuration; defaults are TimeSformer-B as TIME trains it on SSv2.
    public init(
        embedDim: Int = 768, depth: Int = 12, numHeads: Int = 12, mlpRatio: Double = 4, patchSize: Int = 16,
        numFrames: Int = 8, imgSize: Int = 224, numClasses: Int = 174, dropPathRate: Double = 0.1,
        layerNormEpsilon: Float = 1e-6, positionInterpolation: PositionInterpolation = .bicubic
    ) {
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.patchSize = patchSize
        self.numFrames = numFrames
        self.imgSize = imgSize
        self.numClasses = numClasses
        self.dropPathRate = dropPathRate
        self.layerNormEpsilon = layerNormEpsilon
        self.positionInterpolation = positionInterpolation
    }

    /// Patch rows (and columns) of the configured crop.
    public var gridSize: Int { imgSize / patchSize }

    /// MLP hidden width.
    public var mlpHidden: Int { Int(Double(embedDim) * mlpRatio) }

    /// The first problem with these values, or `nil` when a model can be built from them.
    public var problem: String? {
        if embedDim <= 0 || depth <= 0 || numHeads <= 0 || patchSize <= 0 || numFrames <= 0 || imgSize <= 0 {
            return "embed_dim, depth, num_heads, patch_size, num_frames and img_size must be positive"
        }
        if embedDim % numHeads != 0 { return "embed_dim \(embedDim) is not divisible by num_heads \(numHeads)" }
        if imgSize % patchSize != 0 { return "img_size \(imgSize) is not a multiple of patch_size \(patchSize)" }
        if !(mlpRatio > 0) || mlpHidden <= 0 { return "mlp_ratio \(mlpRatio) must give a positive hidden width" }
        if numClasses < 0 { return "num_classes \(numClasses) must be non-negative" }
        if !(dropPathRate >= 0 && dropPathRate < 1) { return "drop_path_rate \(dropPathRate) must lie in [0, 1)" }
        return nil
    }
}

/// Weight initialisation shared by the ViT-family backbones (timm / TimeSformer `_init_weights`).
enum TransformerInit {
    /// Linear weights truncated-normal (std 0.02) with zero bias, LayerNorm 1/0; convolutions keep
    /// PyTorch's default, as in the references.
    static func apply(to model: Module, using generator: inout RandomGenerator) {
        Init.truncatedNormalLinears(in: model, using: &generator)
    }
}

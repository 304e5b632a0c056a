import Foundation
import TensorCore

/// The registry of named backbone variants.
///
/// Each variant is a family (how to build the network) plus a base configuration of any
/// ``BackboneConfiguration`` type; overrides change single hyper-parameters by their reference
/// names, and each configuration type validates its own keys. Families: `vit`,
/// `timesformer`, `motionformer` (trajectory attention), `xvit` (space-time mixing), `videomae`,
/// and the 3D CNNs `c3d`, `iic_resnet` (R3D, R(2+1)D) and `torchvision_video_resnet` (``VideoCNNConfig``),
/// which offer the class embedding only (no ``TokenBackbone``).
public enum Backbones {
    /// One named variant: a base configuration of any type and the builder of its family.
    public struct Variant: Sendable {
        /// The family, e.g. `"timesformer"` or `"vit"`.
        public var family: String
        /// The configuration before overrides (``TransformerConfig`` for the ViT family).
        public var config: any BackboneConfiguration
        /// Builds the network from a validated configuration of the variant's own type.
        let builder: @Sendable (any BackboneConfiguration, inout RandomGenerator) -> any VideoBackbone

        /// Creates a variant whose configuration type is `C`.
        public init<C: BackboneConfiguration>(
            family: String, config: C, build: @escaping @Sendable (C, inout RandomGenerator) -> any VideoBackbone
        ) {
            self.family = family
            self.config = config
            builder = { config, generator in
                // Configurations reach the builder only from this variant, with overrides applied
                // to a copy of `config`, so the type always matches.
                build(config as! C, &generator)
            }
        }

        /// The override keys the variant's configuration accepts.
        public var overrideKeys: [String] { type(of: config).overrideKeys }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: [String: Variant] = builtIn

    /// Every registered variant by name: the built-in ones and those added with
    /// ``register(_:_:)``.
    public static var variants: [String: Variant] { lock.withLock { registered } }

    /// Adds a named variant, so the name works wherever a built-in one does (recipes, every
    /// `--model` option, benchmarks, evaluation), in the spirit of timm's `register_model`.
    /// Register at start-up, before recipes are read or commands parsed.
    ///
    /// ```swift
    /// try Backbones.register("mynet_tiny", .init(family: "mynet", config: MyNetConfig(width: 64)) { config, generator in
    ///     MyNet(config, using: &generator)
    /// })
    /// ```
    ///
    /// - Throws: ``BackboneConfigError/duplicateModel(_:family:)`` when the name is taken, or
    ///   ``BackboneConfigError/inconsistent(model:reason:)`` when the default configuration is
    ///   invalid.
    public static func register(_ name: String, _ variant: Variant) throws(BackboneConfigError) {
        if let problem = variant.config.problem { throw .inconsistent(model: name, reason: problem) }
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else {
            throw .invalidValue(key: "name", value: name, reason: "must be a non-empty word")
        }
        let existing: Variant? = lock.withLock {
            if let taken = registered[name] { return taken }
            registered[name] = variant
            return nil
        }
        if let existing { throw .duplicateModel(name, family: existing.family) }
    }

    /// Adds several variants of one family; stops at the first name already taken (the ones before
    /// it stay registered).
    public static func register(_ variants: [String: Variant]) throws(BackboneConfigError) {
        for name in variants.keys.sorted() { try register(name, variants[name]!) }
    }

    private static let builtIn: [String: Variant] = [
        // TimeSformer-B/16, 8 frames, 224 crops, SSv2 classes: TIME's configuration (TIME.md §2.1).
        "timesformer_base_8x224": Variant(family: "timesformer", config: TransformerConfig(), build: timesformer),
        // CPU-sized TimeSformer for development runs.
        "timesformer_tiny_8x112": Variant(
            family: "timesformer",
            config: TransformerConfig(embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, numFrames: 8,
                                      imgSize: 112, numClasses: 174),
            build: timesformer),
        // Motionformer-B/16 with 2-D patches, 8 frames, drop-path 0.2: TIME's configuration (TIME.md §2.2).
        "motionformer_base_8x224": Variant(
            family: "motionformer", config: TransformerConfig(dropPathRate: 0.2), build: motionformer),
        // CPU-sized Motionformer for development runs.
        "motionformer_tiny_8x112": Variant(
            family: "motionformer",
            config: TransformerConfig(embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, numFrames: 8,
                                      imgSize: 112, numClasses: 174, dropPathRate: 0.2),
            build: motionformer),
        // X-ViT-B/16 over 8 frames, no backbone drop-path (head dropout 0.5): TIME.md §2.3.
        "xvit_base_8x224": Variant(family: "xvit", config: TransformerConfig(dropPathRate: 0), build: xvit),
        // CPU-sized X-ViT; with 3 heads of 64 channels the shift folds of 48 channels straddle
        // heads (see SpaceTimeMixingAttention).
        "xvit_tiny_8x112": Variant(
            family: "xvit",
            config: TransformerConfig(embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, numFrames: 8,
                                      imgSize: 112, numClasses: 174, dropPathRate: 0),
            build: xvit),
        // SVT's TimeSformer-B/16 (`reference/SVT-VideoMS-IIC.md` §1.2): 8-frame time embedding,
        // 224 crops, drop-path 0.1, nearest resampling of the position and time embeddings for
        // every view size, no classifier (the feature is the final-norm class token).
        "svt_vitb_8x224": Variant(
            family: "timesformer",
            config: TransformerConfig(numClasses: 0, dropPathRate: 0.1, positionInterpolation: .nearest),
            build: timesformer),
        // CPU-sized SVT backbone for development runs (64-pixel globals, 32-pixel locals).
        "svt_tiny_8x64": Variant(
            family: "timesformer",
            config: TransformerConfig(embedDim: 192, depth: 6, numHeads: 3, patchSize: 16, numFrames: 8,
                                      imgSize: 64, numClasses: 0, dropPathRate: 0.1, positionInterpolation: .nearest),
            build: timesformer),
        // VideoMAE / VideoMS ViT-B/16 over 16 frames of 224², tubelets of 2 frames, decoder 384 wide
        // with 4 blocks of 6 heads (`reference/SVT-VideoMS-IIC.md` §2.2); mean pooling for fine-tuning.
        "videomae_vitb_16x224": Variant(family: "videomae", config: VideoMAEConfig(), build: videomae),
        // VideoMAE ViT-S/16: 384 wide, 6 heads; decoder 192 wide, 3 heads.
        "videomae_vits_16x224": Variant(
            family: "videomae",
            config: VideoMAEConfig(embedDim: 384, numHeads: 6, decoderEmbedDim: 192, decoderNumHeads: 3),
            build: videomae),
        // CPU-sized VideoMAE: 16 frames of 112², 192 wide, 6 blocks; decoder 96 wide, 2 blocks.
        "videomae_tiny_16x112": Variant(
            family: "videomae",
            config: VideoMAEConfig(embedDim: 192, depth: 6, numHeads: 3, imgSize: 112, decoderEmbedDim: 96,
                                   decoderDepth: 2, decoderNumHeads: 3),
            build: videomae),
        // IIC's 3D CNNs for 3×16×112×112 clips (`reference/SVT-VideoMS-IIC.md` §3.6), BestJuly/IIC key
        // names, no classifier (pre-training uses the 512-d pooled feature; fine-tuning sets num_classes).
        "c3d": Variant(family: "c3d", config: VideoCNNConfig(architecture: .c3d), build: c3d),
        "r3d_10": Variant(family: "iic_resnet", config: VideoCNNConfig(architecture: .r3d), build: iicResNet),
        "r21d_10": Variant(family: "iic_resnet", config: VideoCNNConfig(architecture: .r21d), build: iicResNet),
        // torchvision's r3d_18 and r2plus1d_18 (Kinetics-400 classifier), torchvision key names.
        "r3d_18": Variant(
            family: "torchvision_video_resnet",
            config: VideoCNNConfig(architecture: .torchvisionR3D, layers: [2, 2, 2, 2], numClasses: 400),
            build: torchvisionResNet),
        "r2plus1d_18": Variant(
            family: "torchvision_video_resnet",
            config: VideoCNNConfig(architecture: .torchvisionR2Plus1D, layers: [2, 2, 2, 2], numClasses: 400),
            build: torchvisionResNet),
        // CPU-sized 3D CNNs: the same layouts at a quarter of the width (16 → 128 channels).
        "c3d_tiny": Variant(family: "c3d", config: VideoCNNConfig(architecture: .c3d, width: 16), build: c3d),
        "r3d_tiny": Variant(family: "iic_resnet", config: VideoCNNConfig(architecture: .r3d, width: 16), build: iicResNet),
        "r21d_tiny": Variant(family: "iic_resnet", config: VideoCNNConfig(architecture: .r21d, width: 16), build: iicResNet),
        "r3d_18_tiny": Variant(
            family: "torchvision_video_resnet",
            config: VideoCNNConfig(architecture: .torchvisionR3D, layers: [2, 2, 2, 2], width: 16, numClasses: 400),
            build: torchvisionResNet),
        "r2plus1d_18_tiny": Variant(
            family: "torchvision_video_resnet",
            config: VideoCNNConfig(architecture: .torchvisionR2Plus1D, layers: [2, 2, 2, 2], width: 16, numClasses: 400),
            build: torchvisionResNet),
        // timm's ImageNet ViT-B/16 (1000 classes, no stochastic depth by default).
        "vit_base_patch16_224": Variant(
            family: "vit",
            config: TransformerConfig(numFrames: 1, numClasses: 1000, dropPathRate: 0),
            build: vit),
        // A CPU-sized image ViT for 32² inputs (4×4 grid of 8-pixel patches): image TIME's
        // synthetic Backgrounds Challenge demo and tests.
        "vit_tiny_patch8_32": Variant(
            family: "vit",
            config: TransformerConfig(embedDim: 64, depth: 4, numHeads: 4, patchSize: 8, numFrames: 1, imgSize: 32,
                                      numClasses: 4, dropPathRate: 0),
            build: vit),
    ]

    /// The registered names, sorted.
    public static var names: [String] { variants.keys.sorted() }

    /// The override keys of the ViT-family variants (``TransformerConfig/overrideKeys``).
    public static var overrideKeys: [String] { TransformerConfig.overrideKeys }

    /// The override keys the variant `name` accepts.
    public static func overrideKeys(of name: String) throws(BackboneConfigError) -> [String] {
        guard let variant = variants[name] else { throw .unknownModel(name, available: names) }
        return variant.overrideKeys
    }

    /// Every family's override keys, as `family: key, key; family: …` for listings.
    public static var overrideKeysByFamily: String {
        var byFamily: [String: [String]] = [:]
        for variant in variants.values { byFamily[variant.family] = variant.overrideKeys }
        return byFamily.keys.sorted().map { "\($0): \(byFamily[$0]!.joined(separator: ", "))" }.joined(separator: "; ")
    }

    /// The configuration `name` resolves to after `overrides`, validated.
    public static func config(
        _ name: String, overrides: [String: ConfigValue] = [:]
    ) throws(BackboneConfigError) -> any BackboneConfiguration {
        guard let variant = variants[name] else { throw .unknownModel(name, available: names) }
        var config = variant.config
        for key in overrides.keys.sorted() {
            try config.set(key, to: overrides[key]!)
        }
        if let problem = config.problem { throw .inconsistent(model: name, reason: problem) }
        return config
    }

    /// The configuration of a ViT-family variant (TimeSformer, Motionformer, X-ViT, ViT).
    ///
    /// - Throws: as ``config(_:overrides:)``, and ``BackboneConfigError/inconsistent(model:reason:)``
    ///   when the variant is not a transformer.
    public static func transformerConfig(
        _ name: String, overrides: [String: ConfigValue] = [:]
    ) throws(BackboneConfigError) -> TransformerConfig {
        guard let config = try config(name, overrides: overrides) as? TransformerConfig else {
            throw .inconsistent(model: name, reason: "is not a transformer backbone")
        }
        return config
    }

    /// Builds the variant `name` with `overrides` applied, drawing every initial value and
    /// drop-path seed from `generator`.
    ///
    /// - Throws: ``BackboneConfigError`` for an unknown name or key (listing the valid ones) or a
    ///   bad value.
    public static func create(
        _ name: String, overrides: [String: ConfigValue] = [:], using generator: inout RandomGenerator
    ) throws(BackboneConfigError) -> any VideoBackbone {
        let config = try config(name, overrides: overrides)
        return variants[name]!.builder(config, &generator)
    }

    private static func timesformer(_ config: TransformerConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        TimeSformer(config, using: &generator)
    }

    private static func motionformer(_ config: TransformerConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        Motionformer(config, using: &generator)
    }

    private static func xvit(_ config: TransformerConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        XViT(config, using: &generator)
    }

    private static func videomae(_ config: VideoMAEConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        VideoMAEViT(config, using: &generator)
    }

    private static func c3d(_ config: VideoCNNConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        C3D(config, using: &generator)
    }

    private static func iicResNet(_ config: VideoCNNConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        IICResNet(config, using: &generator)
    }

    private static func torchvisionResNet(_ config: VideoCNNConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        TorchvisionVideoResNet(config, using: &generator)
    }

    private static func vit(_ config: TransformerConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        VisionTransformer(config, using: &generator)
    }
}

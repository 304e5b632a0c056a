import TensorCore

/// The registry of named backbone variants.
///
/// Each variant is a family (how to build the network) plus a base ``TransformerConfig``;
/// overrides change single hyper-parameters by their reference names. Families: `vit`,
/// `timesformer`, `motionformer` (trajectory attention) and `xvit` (space-time mixing).
public enum Backbones {
    /// One named variant: a base configuration and the builder of its family.
    public struct Variant: Sendable {
        /// The family, e.g. `"timesformer"` or `"vit"`.
        public var family: String
        /// The configuration before overrides.
        public var config: TransformerConfig
        /// Builds the network from a validated configuration.
        public var build: @Sendable (TransformerConfig, inout RandomGenerator) -> any VideoBackbone

        /// Creates a variant.
        public init(family: String, config: TransformerConfig,
                    build: @escaping @Sendable (TransformerConfig, inout RandomGenerator) -> any VideoBackbone) {
            self.family = family
            self.config = config
            self.build = build
        }
    }

    /// Every registered variant by name.
    public static let variants: [String: Variant] = [
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
        // timm's ImageNet ViT-B/16 (1000 classes, no stochastic depth by default).
        "vit_base_patch16_224": Variant(
            family: "vit",
            config: TransformerConfig(numFrames: 1, numClasses: 1000, dropPathRate: 0),
            build: vit),
    ]

    /// The registered names, sorted.
    public static var names: [String] { variants.keys.sorted() }

    /// The override keys every variant accepts, sorted.
    public static let overrideKeys: [String] = [
        "depth", "drop_path_rate", "embed_dim", "img_size", "mlp_ratio", "num_classes", "num_frames",
        "num_heads", "patch_size",
    ]

    /// The configuration `name` resolves to after `overrides`, validated.
    public static func config(
        _ name: String, overrides: [String: ConfigValue] = [:]
    ) throws(BackboneConfigError) -> TransformerConfig {
        guard let variant = variants[name] else { throw .unknownModel(name, available: names) }
        var config = variant.config
        for key in overrides.keys.sorted() {
            try apply(key, overrides[key]!, to: &config)
        }
        if let problem = config.problem { throw .inconsistent(model: name, reason: problem) }
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
        return variants[name]!.build(config, &generator)
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

    private static func vit(_ config: TransformerConfig, _ generator: inout RandomGenerator) -> any VideoBackbone {
        VisionTransformer(config, using: &generator)
    }

    private static func apply(
        _ key: String, _ value: ConfigValue, to config: inout TransformerConfig
    ) throws(BackboneConfigError) {
        func int(minimum: Int = 1) throws(BackboneConfigError) -> Int {
            guard let v = value.intValue else {
                throw .invalidValue(key: key, value: value.description, reason: "expected an integer")
            }
            guard v >= minimum else {
                throw .invalidValue(key: key, value: value.description, reason: "must be at least \(minimum)")
            }
            return v
        }
        func real() throws(BackboneConfigError) -> Double {
            guard let v = value.doubleValue else {
                throw .invalidValue(key: key, value: value.description, reason: "expected a number")
            }
            return v
        }
        switch key {
        case "embed_dim": config.embedDim = try int()
        case "depth": config.depth = try int()
        case "num_heads": config.numHeads = try int()
        case "patch_size": config.patchSize = try int()
        case "num_frames": config.numFrames = try int()
        case "img_size": config.imgSize = try int()
        case "num_classes": config.numClasses = try int(minimum: 0)
        case "mlp_ratio":
            let v = try real()
            guard v > 0 else { throw .invalidValue(key: key, value: value.description, reason: "must be positive") }
            config.mlpRatio = v
        case "drop_path_rate":
            let v = try real()
            guard v >= 0 && v < 1 else {
                throw .invalidValue(key: key, value: value.description, reason: "must lie in [0, 1)")
            }
            config.dropPathRate = v
        default:
            throw .unknownKey(key, validKeys: overrideKeys)
        }
    }
}

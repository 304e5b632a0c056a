import TensorCore

/// What every backbone configuration offers the registry, recipes and training code, whatever the
/// network: a transformer (``TransformerConfig``), a VideoMAE encoder or a 3D CNN.
///
/// Overrides change single hyper-parameters by their reference names; each configuration type
/// owns its keys, so a recipe's `model.overrides` are validated by the variant they apply to.
public protocol BackboneConfiguration: Sendable {
    /// Classifier outputs; 0 means no classifier.
    var numClasses: Int { get set }
    /// Frames per clip the model is configured for.
    var numFrames: Int { get }
    /// Side of the square crop the model is configured for.
    var imgSize: Int { get }
    /// The first problem with these values, or `nil` when a model can be built from them.
    var problem: String? { get }
    /// The override keys this configuration accepts, sorted.
    static var overrideKeys: [String] { get }
    /// Sets the hyper-parameter `key` (a reference name such as `drop_path_rate`).
    ///
    /// - Throws: ``BackboneConfigError/unknownKey(_:validKeys:)`` or
    ///   ``BackboneConfigError/invalidValue(key:value:reason:)``.
    mutating func set(_ key: String, to value: ConfigValue) throws(BackboneConfigError)
}

/// Typed reads of one override value, shared by the configuration types.
public struct OverrideValue {
    /// The override key.
    public let key: String
    /// The value given.
    public let value: ConfigValue

    /// Wraps `value` given for `key`.
    public init(key: String, value: ConfigValue) {
        self.key = key
        self.value = value
    }

    /// The value as an integer of at least `minimum`.
    public func int(minimum: Int = 1) throws(BackboneConfigError) -> Int {
        guard let v = value.intValue else {
            throw .invalidValue(key: key, value: value.description, reason: "expected an integer")
        }
        guard v >= minimum else {
            throw .invalidValue(key: key, value: value.description, reason: "must be at least \(minimum)")
        }
        return v
    }

    /// The value as a number that `valid` accepts (`requirement` completes "must …" in errors).
    public func real(_ requirement: String = "be finite", where valid: (Double) -> Bool = { $0.isFinite })
        throws(BackboneConfigError) -> Double
    {
        guard let v = value.doubleValue else {
            throw .invalidValue(key: key, value: value.description, reason: "expected a number")
        }
        guard valid(v) else { throw .invalidValue(key: key, value: value.description, reason: "must \(requirement)") }
        return v
    }
}

extension TransformerConfig: BackboneConfiguration {
    /// `depth`, `drop_path_rate`, `embed_dim`, `img_size`, `mlp_ratio`, `num_classes`,
    /// `num_frames`, `num_heads`, `patch_size`.
    public static let overrideKeys: [String] = [
        "depth", "drop_path_rate", "embed_dim", "img_size", "mlp_ratio", "num_classes", "num_frames",
        "num_heads", "patch_size", "pos_interpolation",
    ]

    /// Sets one hyper-parameter by its reference name.
    public mutating func set(_ key: String, to value: ConfigValue) throws(BackboneConfigError) {
        let v = OverrideValue(key: key, value: value)
        switch key {
        case "embed_dim": embedDim = try v.int()
        case "depth": depth = try v.int()
        case "num_heads": numHeads = try v.int()
        case "patch_size": patchSize = try v.int()
        case "num_frames": numFrames = try v.int()
        case "img_size": imgSize = try v.int()
        case "num_classes": numClasses = try v.int(minimum: 0)
        case "mlp_ratio": mlpRatio = try v.real("be positive") { $0 > 0 && $0.isFinite }
        case "drop_path_rate": dropPathRate = try v.real("lie in [0, 1)") { $0 >= 0 && $0 < 1 }
        case "pos_interpolation":
            let names = PositionInterpolation.allCases.map(\.rawValue)
            guard case .string(let name) = value, let rule = PositionInterpolation(rawValue: name) else {
                throw .invalidValue(key: key, value: value.description, reason: "must be one of \(names.joined(separator: ", "))")
            }
            positionInterpolation = rule
        default: throw .unknownKey(key, validKeys: Self.overrideKeys)
        }
    }
}

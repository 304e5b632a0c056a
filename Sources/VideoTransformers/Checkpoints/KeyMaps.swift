import Foundation
import TensorCore

/// What a key map may consult besides the tensors: the configuration of the model being loaded.
public struct KeyMapContext: Sendable {
    /// The resolved configuration of the target backbone.
    public var config: any BackboneConfiguration

    /// Creates a context for a backbone configured as `config`.
    public init(config: any BackboneConfiguration) {
        self.config = config
    }
}

/// The registry of named key maps that `model.key_map`, `--key-map` and ``WeightImport`` accept.
///
/// Built in: `auto` (facebookresearch's `model.` prefix when every key has it, otherwise the TIME
/// release layout), `facebook`, `time`, and the ImageNet ViT initialisations TIME uses:
/// `timm-inflation` (a divided space-time TimeSformer), `timm-motionformer` and `timm-xvit`; SVT's
/// `svt` (backbone and DINO head), `svt-backbone` (backbone only), `svt-export` (to the released
/// layout), `dino-inflation` (DINO's image
/// ViT with temporal attention copied from spatial, as SVT's code) and
/// `dino-inflation-random-temporal` (temporal attention left at its initialisation, as SVT's
/// paper); VideoMAE's and VideoMS's `videomae` (repository checkpoints, decoder included),
/// `videomae-encoder` (the encoder for fine-tuning) and `hf-videomae` (Hugging Face
/// `transformers`); IIC's `iic` (self-supervised and fine-tuned 3D-CNN files, classifier kept) and
/// `iic-backbone` (classifier dropped). A method that brings its own checkpoint layout registers one
/// more map under a new name:
///
/// ```swift
/// try KeyMaps.register("svt") { tensors, context in
///     CheckpointKeyMaps.stripPrefix("backbone.", from: tensors)
/// }
/// ```
public enum KeyMaps {
    /// A map from a foreign state dict to this package's names.
    public typealias Map = @Sendable (_ tensors: [(String, Tensor)], _ context: KeyMapContext) throws -> KeyMapResult

    /// Why a map could not be registered or found.
    public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The name is taken.
        case duplicate(String)
        /// No map has this name.
        case unknown(String, available: [String])

        /// The problem, with the registered names.
        public var description: String {
            switch self {
            case .duplicate(let name): "a key map named '\(name)' is already registered"
            case .unknown(let name, let available):
                "unknown key map '\(name)'; available: \(available.joined(separator: ", "))"
            }
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var maps: [String: Map] = builtIn

    private static let builtIn: [String: Map] = [
        "auto": { tensors, _ in
            let prefixed = !tensors.isEmpty && tensors.allSatisfy { $0.0.hasPrefix("model.") }
            return prefixed ? CheckpointKeyMaps.facebookresearchTimeSformer(tensors)
                : CheckpointKeyMaps.timeRelease(tensors)
        },
        "facebook": { tensors, _ in CheckpointKeyMaps.facebookresearchTimeSformer(tensors) },
        "time": { tensors, _ in CheckpointKeyMaps.timeRelease(tensors) },
        "timm-inflation": { tensors, context in
            guard let config = context.config as? TransformerConfig else {
                throw CheckpointError.keyMapRefused(
                    map: "timm-inflation", reason: "the target backbone is not a transformer")
            }
            return try CheckpointKeyMaps.timmViTInflation(tensors, into: config.depth, numFrames: config.numFrames)
        },
        "svt": { tensors, _ in CheckpointKeyMaps.svt(tensors, keepHead: true) },
        "svt-backbone": { tensors, _ in CheckpointKeyMaps.svt(tensors, keepHead: false) },
        "svt-export": { tensors, _ in CheckpointKeyMaps.svtExport(tensors) },
        "dino-inflation": { tensors, context in try dino(tensors, context, copyTemporal: true) },
        "dino-inflation-random-temporal": { tensors, context in try dino(tensors, context, copyTemporal: false) },
        "videomae": { tensors, context in
            CheckpointKeyMaps.videoMAE(tensors, encoderOnly: false, meanPooling: false)
        },
        "videomae-encoder": { tensors, context in
            CheckpointKeyMaps.videoMAE(
                tensors, encoderOnly: true, meanPooling: (context.config as? VideoMAEConfig)?.useMeanPooling ?? true)
        },
        "hf-videomae": { tensors, _ in try CheckpointKeyMaps.huggingFaceVideoMAE(tensors) },
        "timm-motionformer": { tensors, _ in try CheckpointKeyMaps.timmViTToMotionformer(tensors) },
        "timm-xvit": { tensors, _ in try CheckpointKeyMaps.timmViTToXViT(tensors) },
        "iic": { tensors, _ in CheckpointKeyMaps.iic(tensors, keepClassifier: true) },
        "iic-backbone": { tensors, _ in CheckpointKeyMaps.iic(tensors, keepClassifier: false) },
    ]

    /// The registered names, sorted.
    private static func dino(_ tensors: [(String, Tensor)], _ context: KeyMapContext, copyTemporal: Bool) throws -> KeyMapResult {
        guard let config = context.config as? TransformerConfig else {
            throw CheckpointError.keyMapRefused(map: "dino-inflation", reason: "the target backbone is not a transformer")
        }
        return try CheckpointKeyMaps.dinoInflation(
            tensors, into: config.depth, numFrames: config.numFrames, copyTemporal: copyTemporal)
    }

    public static var names: [String] {
        lock.withLock { maps.keys.sorted() }
    }

    /// Adds a map under `name`.
    ///
    /// - Throws: ``RegistryError/duplicate(_:)`` when the name is taken.
    public static func register(_ name: String, _ map: @escaping Map) throws(RegistryError) {
        let added: Bool = lock.withLock {
            guard maps[name] == nil else { return false }
            maps[name] = map
            return true
        }
        guard added else { throw .duplicate(name) }
    }

    /// Applies the map `name`.
    ///
    /// - Throws: ``RegistryError/unknown(_:available:)``, or what the map throws
    ///   (``CheckpointError/keyMapRefused(map:reason:)`` for input it cannot convert).
    public static func apply(_ name: String, to tensors: [(String, Tensor)], context: KeyMapContext) throws -> KeyMapResult {
        guard let map = lock.withLock({ maps[name] }) else { throw RegistryError.unknown(name, available: names) }
        return try map(tensors, context)
    }
}

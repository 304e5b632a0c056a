import ArgumentParser
import Foundation
import TensorCore
import VideoTransformers

/// `--model NAME --set key=value …`: a registered backbone with overrides.
struct ModelOptions: ParsableArguments {
    @Option(help: "A registered backbone, e.g. timesformer_tiny_8x112 (see `videossl infer --help`).")
    var model: String?

    @Option(name: .customLong("set"), help: "Override a config key, e.g. --set num_classes=10 (repeatable).")
    var overrides: [String] = []

    /// The overrides as typed values: integers and decimals are numbers, anything else text.
    func parsedOverrides() throws -> [String: ConfigValue] {
        var result: [String: ConfigValue] = [:]
        for item in overrides {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--set expects key=value, got '\(item)'")
            }
            if let i = Int(parts[1]) { result[parts[0]] = .int(i) }
            else if let d = Double(parts[1]) { result[parts[0]] = .double(d) }
            else { result[parts[0]] = .string(parts[1]) }
        }
        return result
    }

    /// The model name (required unless a recipe supplies it).
    func name() throws -> String {
        guard let model else { throw ValidationError("--model is required (or --config with a recipe that names one)") }
        return model
    }

    func build() throws -> any VideoBackbone {
        var generator = RandomGenerator(seed: 0)
        return try Backbones.create(try name(), overrides: try parsedOverrides(), using: &generator)
    }
}

/// The weights options shared by `infer`, `eval` and `extract-features`: a checkpoint,
/// its key map, a prefix and skip patterns, as a recipe's `model.weights` section.
struct WeightsOptions: ParsableArguments {
    @Option(help: "Weights: safetensors, or a PyTorch .pth/.pyth state dict (without it the model keeps its random initialisation).")
    var weights: String?

    @Option(help: ArgumentHelp("How to map checkpoint keys: \(KeyMaps.names.joined(separator: ", "))."))
    var keyMap = "auto"

    @Option(help: "Use only checkpoint keys with this prefix, removing it (e.g. backbone., module.).")
    var prefix: String?

    @Option(help: "Leave model keys matching this pattern at initialisation and ignore matching checkpoint keys, e.g. 'head.*' (repeatable).")
    var skip: [String] = []

    func validate() throws {
        guard KeyMaps.names.contains(keyMap) else {
            throw ValidationError("--key-map \(keyMap) is not one of \(KeyMaps.names.joined(separator: ", "))")
        }
    }

    /// The weight source these options describe, if any.
    var source: WeightSource? {
        // A TIME checkpoint carries its heads beside the backbone: they are set aside (and reported).
        weights.map { WeightSource(path: $0, keyMap: keyMap, prefix: prefix, skip: skip + timeHeadPrefixes.map { $0 + "*" }) }
    }

    /// The model with its weights loaded (printing the load report), and its resolved configuration.
    func loadModel(_ options: ModelOptions) throws -> (any VideoBackbone, any BackboneConfiguration) {
        let model = try options.build()
        let config = try Backbones.config(try options.name(), overrides: try options.parsedOverrides())
        if let source {
            let report = try WeightImport.load(source, into: model, config: config)
            print(report)
        } else {
            print("note: no --weights given; the model keeps its random initialisation")
        }
        return (model, config)
    }
}

/// Checks an input clip shape against a backbone before any forward pass, so a bad size from the
/// command line is an error message rather than a stopped process.
func checkClipShape(_ shape: [Int], for config: any BackboneConfiguration, source: String) throws {
    guard shape.count == 5, shape[2] == 3 else {
        throw InputError(description: "\(source): the clip must be [B, T, 3, H, W], got \(shape)")
    }
    guard shape[0] > 0, shape[1] > 0, shape[3] > 0, shape[4] > 0 else {
        throw InputError(description: "\(source): the clip \(shape) is empty (B, T, H and W must be positive)")
    }
    do {
        try checkCrop(height: shape[3], width: shape[4], for: config, source: source)
    } catch {
        throw InputError(description: "\(error)")
    }
}

/// A problem with the contents of an input file (not with how the command was called), reported
/// without the usage text and with exit status 1.
struct InputError: Error, CustomStringConvertible {
    var description: String
}

/// Checks that crops of `height` × `width` fit a transformer's patch grid.
func checkCrop(height: Int, width: Int, for config: any BackboneConfiguration, source: String) throws {
    if let transformer = config as? TransformerConfig,
       height % transformer.patchSize != 0 || width % transformer.patchSize != 0 {
        throw ValidationError("\(source): \(height)×\(width) is not a multiple of the model's \(transformer.patchSize)-pixel patches")
    }
}

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

/// Which key map turns a foreign checkpoint into this package's names.
enum KeyMapChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, facebook, time, timmInflation = "timm-inflation"
}

/// Errors the command line reports about weights.
struct WeightsError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a checkpoint and maps its keys; `auto` strips facebookresearch's `model.` prefix when
/// every key has it and otherwise keeps names as they are (the TIME release layout).
func importWeights(_ path: String, map: KeyMapChoice, depth: Int, frames: Int) throws -> KeyMapResult {
    let imported = try Checkpoint.load(contentsOf: URL(fileURLWithPath: path))
    switch map {
    case .facebook:
        return CheckpointKeyMaps.facebookresearchTimeSformer(imported.tensors)
    case .time:
        return CheckpointKeyMaps.timeRelease(imported.tensors)
    case .timmInflation:
        return try CheckpointKeyMaps.timmViTInflation(imported.tensors, into: depth, numFrames: frames)
    case .auto:
        let prefixed = !imported.tensors.isEmpty && imported.tensors.allSatisfy { $0.0.hasPrefix("model.") }
        return prefixed ? CheckpointKeyMaps.facebookresearchTimeSformer(imported.tensors)
            : CheckpointKeyMaps.timeRelease(imported.tensors)
    }
}

/// The TIME heads a TIME checkpoint carries beside the backbone.
let timeHeadPrefixes = ["temp_head.", "mlp_q.", "mlp_k.", "mlp_v.", "mlp_proj.", "mlp_norm.", "flow_head."]

/// Loads mapped weights into `model` strictly (TIME heads set aside), or throws the dry-run report.
func loadWeights(_ mapped: KeyMapResult, into model: any VideoBackbone) throws -> [String] {
    let backbone = mapped.tensors.filter { key in !timeHeadPrefixes.contains { key.0.hasPrefix($0) } }
    let setAside = mapped.tensors.count - backbone.count
    let report = CheckpointReport(module: model, tensors: backbone, notes: mapped.notes)
    guard report.isExact else {
        throw WeightsError(description: "the weights do not fit the model:\n\(report)")
    }
    try model.loadStateDict(backbone)
    var notes = mapped.notes
    if setAside > 0 { notes.append("\(setAside) TIME head tensors set aside (not part of the backbone)") }
    return notes
}

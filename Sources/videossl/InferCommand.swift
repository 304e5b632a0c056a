import ArgumentParser
import Foundation
import TensorCore
import VideoTransformers

/// `videossl infer`: one forward pass of a backbone in evaluation mode.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a backbone on a clip tensor file and write logits, class embedding and patch tokens.",
        discussion: "Models: \(Backbones.names.joined(separator: ", ")). Override keys: \(Backbones.overrideKeys.joined(separator: ", ")).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Weights: safetensors, or a PyTorch .pth/.pyth state dict.")
    var weights: String?

    @Option(help: "How to map checkpoint keys: auto, facebook, time, timm-inflation.")
    var keyMap: KeyMapChoice = .auto

    @Option(help: "CLIP.safetensors holding one Float32 tensor `clip` [B, T, 3, H, W], already normalised.")
    var input: String

    @Option(help: "OUT.safetensors receiving `logits` [B, K], `cls` [B, C] and `tokens` [B, T, N, C].")
    var output: String

    func run() throws {
        let model = try modelOptions.build()
        if let weights {
            let config = try Backbones.config(try modelOptions.name(), overrides: try modelOptions.parsedOverrides())
            let mapped = try importWeights(weights, map: keyMap, depth: config.depth, frames: config.numFrames)
            for note in try loadWeights(mapped, into: model) { print("note: \(note)") }
        }
        model.eval()
        let clip = try SafeTensors.read(contentsOf: URL(fileURLWithPath: input)).tensor(named: "clip")
        guard clip.rank == 5, clip.shape[2] == 3 else {
            throw ValidationError("\(input): `clip` must be [B, T, 3, H, W], got \(clip.shape)")
        }
        let (cls, tokens) = noGrad { model.features(clip) }
        let logits = noGrad { model.head(cls) }
        try SafeTensors.write([("logits", logits), ("cls", cls), ("tokens", tokens)],
                              metadata: ["model": try modelOptions.name()], to: URL(fileURLWithPath: output))
        print("wrote logits \(logits.shape), cls \(cls.shape), tokens \(tokens.shape) to \(output)")
    }
}

/// `videossl convert`: a foreign checkpoint to safetensors with this package's names.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a PyTorch .pth/.pyth (or safetensors) checkpoint to safetensors, mapping its keys.",
        discussion: "With --model, the result is checked against that model first (a dry-run report of missing, unexpected and reshaped tensors) and nothing is written unless it fits.")

    @Option(help: "The checkpoint to read.")
    var input: String

    @Option(help: "OUT.safetensors")
    var output: String

    @Option(help: "How to map checkpoint keys: auto, facebook, time, timm-inflation.")
    var keyMap: KeyMapChoice = .auto

    @Option(help: "Model to check the converted weights against (and to size timm inflation).")
    var model: String?

    @Option(name: .customLong("set"), help: "Override a config key of --model (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Only print the report; write nothing.")
    var dryRun = false

    func run() throws {
        var depth = 12, frames = 8
        var backbone: (any VideoBackbone)? = nil
        if let model {
            let options = try ModelOptions.parse(["--model", model] + overrides.flatMap { ["--set", $0] })
            let config = try Backbones.config(model, overrides: try options.parsedOverrides())
            (depth, frames) = (config.depth, config.numFrames)
            backbone = try options.build()
        }
        let mapped = try importWeights(input, map: keyMap, depth: depth, frames: frames)
        print("\(mapped.tensors.count) tensors; \(mapped.renamed.count) renamed, \(mapped.created.count) created, \(mapped.dropped.count) dropped")
        for note in mapped.notes { print("note: \(note)") }
        if let backbone {
            let report = CheckpointReport(module: backbone, tensors: mapped.tensors.filter { key in
                !timeHeadPrefixes.contains { key.0.hasPrefix($0) }
            })
            print(report)
            guard report.isExact else { throw WeightsError(description: "not written: the weights do not fit \(model!)") }
        }
        guard !dryRun else { return }
        try SafeTensors.write(mapped.tensors, metadata: ["source": input], to: URL(fileURLWithPath: output))
        print("wrote \(output)")
    }
}

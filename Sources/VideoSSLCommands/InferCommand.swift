import ArgumentParser
import Foundation
import TensorCore
import VideoTransformers

/// `videossl infer`: one forward pass of a backbone in evaluation mode.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a backbone on a clip tensor file and write logits, class embedding and patch tokens.",
        discussion: "Models: \(Backbones.names.joined(separator: ", ")). Override keys: \(Backbones.overrideKeysByFamily).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightsOptions: WeightsOptions

    @Option(help: "CLIP.safetensors holding one Float32 tensor `clip` [B, T, 3, H, W], already normalised.")
    var input: String

    @Option(help: "OUT.safetensors receiving `logits` [B, K], `cls` [B, C] and, for backbones with patch tokens, `tokens` [B, T, N, C].")
    var output: String

    func run() throws {
        let (model, config) = try weightsOptions.loadModel(modelOptions)
        model.eval()
        let clip = try SafeTensors.read(contentsOf: URL(fileURLWithPath: input)).tensor(named: "clip")
        try checkClipShape(clip.shape, for: config, source: "\(input): `clip`")
        var outputs: [(String, Tensor)]
        if let tokenModel = model as? any TokenBackbone {
            let (cls, tokens) = noGrad { tokenModel.features(clip) }
            outputs = [("logits", noGrad { model.head(cls) }), ("cls", cls), ("tokens", tokens)]
        } else {
            let cls = noGrad { model.classEmbedding(clip) }
            outputs = [("logits", noGrad { model.head(cls) }), ("cls", cls)]
        }
        try SafeTensors.write(outputs, metadata: ["model": try modelOptions.name()], to: URL(fileURLWithPath: output))
        print("wrote " + outputs.map { "\($0.0) \($0.1.shape)" }.joined(separator: ", ") + " to \(output)")
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

    @Option(help: ArgumentHelp("How to map checkpoint keys: \(KeyMaps.names.joined(separator: ", "))."))
    var keyMap = "auto"

    @Option(help: "Use only checkpoint keys with this prefix, removing it (e.g. backbone., module.).")
    var prefix: String?

    @Option(help: "With --model: leave model keys matching this pattern at initialisation and ignore matching checkpoint keys, e.g. 'head.*' (repeatable).")
    var skip: [String] = []

    @Option(help: "Model to check the converted weights against (and to size timm inflation).")
    var model: String?

    @Option(name: .customLong("set"), help: "Override a config key of --model (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Only print the report; write nothing.")
    var dryRun = false

    func run() throws {
        guard KeyMaps.names.contains(keyMap) else {
            throw ValidationError("--key-map \(keyMap) is not one of \(KeyMaps.names.joined(separator: ", "))")
        }
        var config: any BackboneConfiguration = TransformerConfig()
        var backbone: (any VideoBackbone)? = nil
        if let model {
            let options = try ModelOptions.parse(["--model", model] + overrides.flatMap { ["--set", $0] })
            config = try Backbones.config(model, overrides: try options.parsedOverrides())
            backbone = try options.build()
        }
        var tensors = try Checkpoint.load(contentsOf: URL(fileURLWithPath: input)).tensors
        if let prefix {
            tensors = tensors.filter { $0.0.hasPrefix(prefix) }.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
        }
        let mapped = try KeyMaps.apply(keyMap, to: tensors, context: KeyMapContext(config: config))
        print("\(mapped.tensors.count) tensors; \(mapped.renamed.count) renamed, \(mapped.created.count) created, \(mapped.dropped.count) dropped")
        for note in mapped.notes { print("note: \(note)") }
        if let backbone {
            // The check a training run's `model.weights` makes: skip patterns, the map's new layers,
            // embedding resampling; TIME heads beside the backbone are set aside.
            var (report, _) = WeightImport.plan(mapped, for: backbone, skip: skip + timeHeadPrefixes.map { $0 + "*" })
            (report.path, report.keyMap) = (input, keyMap)
            print(report)
            guard report.isAcceptable else { throw ValidationError("not written: the weights do not fit \(model!)") }
        }
        guard !dryRun else { return }
        try SafeTensors.write(mapped.tensors, metadata: ["source": input], to: URL(fileURLWithPath: output))
        print("wrote \(output)")
    }
}

/// The TIME heads a TIME checkpoint carries beside the backbone.
let timeHeadPrefixes = ["temp_head.", "mlp_q.", "mlp_k.", "mlp_v.", "mlp_proj.", "mlp_norm.", "flow_head.", "patch_head."]

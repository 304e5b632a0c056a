import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// `videossl eval`: multi-view accuracy of a backbone on a `path label` list, optionally with
/// shuffled frames and the Gap, per class subset.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a backbone on a `path label` list: top-1, top-5, mean class accuracy, Gap.",
        discussion: """
            By default TIME's test protocol: one clip of segment middles × 3 crops (short side resized to \
            --size), logits summed per video. With --shuffled the videos are evaluated a second time with \
            each batch's frames permuted by one seeded permutation, and the Gap (top-1 original − top-1 \
            shuffled) is reported. With --output, writes report.json and confusion.csv (rows: true class, \
            columns: predicted) there, and confusion_shuffled.csv with --shuffled.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightsOptions: WeightsOptions
    @OptionGroup var data: EvalDataOptions
    @OptionGroup var views: ViewOptions

    @Flag(help: "Also evaluate with shuffled frames and report the Gap.")
    var shuffled = false

    @Option(help: "JSON object mapping class names (or indices) to subset names, e.g. subsets.json of make-synthetic.")
    var subsets: String?

    @Option(help: "Folder receiving report.json and confusion.csv.")
    var output: String?

    @Option(help: "A training recipe (YAML): the model, its overrides and weights, data.val, data.root, data.classes, data.subsets, frames, crop and normalisation come from it; explicit options win.")
    var config: String?

    @Argument(help: "key=value overrides of the --config recipe, e.g. data.root=/data/myset.")
    var recipeOverrides: [String] = []

    func run() throws {
        var modelOptions = self.modelOptions, data = self.data, views = self.views, subsets = self.subsets
        var weightsOptions = self.weightsOptions
        guard config != nil || recipeOverrides.isEmpty else {
            throw ValidationError("recipe overrides (\(recipeOverrides.joined(separator: " "))) need --config")
        }
        if let config {
            let recipe = try Recipe(contentsOf: config, overrides: recipeOverrides)
            if weightsOptions.weights == nil, let source = recipe.model.weightSource {
                weightsOptions.weights = source.path
                weightsOptions.keyMap = source.keyMap
                weightsOptions.prefix = source.prefix
                weightsOptions.skip = source.skip
            }
            if modelOptions.model == nil {
                modelOptions.model = recipe.model.name
                var overrides = recipe.model.overrides
                if overrides["num_classes"] == nil { overrides["num_classes"] = .int(try recipe.classCount()) }
                modelOptions.overrides = overrides.keys.sorted().map { "\($0)=\(overrides[$0]!)" }
                    + modelOptions.overrides
            }
            if data.list == nil {
                guard let val = recipe.data.val else { throw ValidationError("\(config): the recipe has no data.val") }
                data.list = recipe.dataPath(val)
                data.root = data.root ?? (recipe.data.root.isEmpty ? nil : recipe.data.root)
                data.allowOutsideRoot = data.allowOutsideRoot || recipe.data.allowOutsideRoot
            }
            data.classes = data.classes ?? recipe.data.classes.map(recipe.dataPath)
            subsets = subsets ?? recipe.data.subsets.map(recipe.dataPath)
            views.frames = views.frames ?? recipe.data.frames
            views.size = views.size ?? recipe.data.crop
            views.mean = views.mean ?? ListOption(argument: recipe.data.mean.map { String($0) }.joined(separator: ","))
            views.std = views.std ?? ListOption(argument: recipe.data.std.map { String($0) }.joined(separator: ","))
        }
        let (model, modelConfig) = try weightsOptions.loadModel(modelOptions)
        let dataset = try data.dataset()
        let configuration = try views.configuration(model: modelConfig, defaultCrops: 3, aggregation: views.softmax ? .softmaxMean : views.average ? .mean : .sum)
        let classSubsets = try subsets.map { try ClassSubsets.load(from: $0, classNames: dataset.classNames) }
        let evaluator = Evaluator(configuration)
        let original = try evaluator.evaluate(model, on: dataset, subsets: classSubsets)
        let shuffledReport = shuffled ? try evaluator.evaluate(model, on: dataset, shuffledFrames: true, subsets: classSubsets) : nil

        print("\(original.count) of \(dataset.count) videos evaluated; \(configuration.clips) clip(s) × \(configuration.crops) crop(s) of \(configuration.frames)×\(configuration.cropSize)², logits \(configuration.aggregation == .sum ? "summed" : configuration.aggregation == .mean ? "averaged" : "as softmax, averaged")")
        print(EvalTables.accuracy(original))
        if let shuffledReport {
            print(EvalTables.gap(ShuffleGap(original: original, shuffled: shuffledReport), counts: original))
        }
        guard let output else { return }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let record = EvalRecord(
            model: try modelOptions.name(), overrides: modelOptions.overrides, weights: weightsOptions.weights,
            list: data.list ?? "", frames: configuration.frames, cropSize: configuration.cropSize,
            clips: configuration.clips, crops: configuration.crops, aggregation: configuration.aggregation,
            seed: configuration.seed, original: original, shuffled: shuffledReport,
            gap: shuffledReport.map { ShuffleGap(original: original, shuffled: $0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: URL(fileURLWithPath: output + "/report.json"), options: .atomic)
        try original.confusion.writeCSV(to: output + "/confusion.csv", classNames: original.classNames)
        try shuffledReport?.confusion.writeCSV(to: output + "/confusion_shuffled.csv", classNames: original.classNames)
        print("wrote \(output)/report.json and \(output)/confusion\(shuffled ? "{,_shuffled}" : "").csv")
    }
}

/// `--list LIST --root DIR [--classes FILE]`: the videos to evaluate.
struct EvalDataOptions: ParsableArguments {
    @Option(help: "A `path label` list, one video per line.")
    var list: String?

    @Option(help: "The folder relative paths in the list start from.")
    var root: String?

    @Option(help: "Class names, one per line in label order (default: classes.txt in --root, if present).")
    var classes: String?

    @Flag(help: "Let list entries leave --root (absolute paths or `..`).")
    var allowOutsideRoot = false

    /// The list's videos, with class names when a classes file is given or found.
    func dataset() throws -> VideoDataset {
        guard let list else { throw ValidationError("--list is required (or --config with a recipe that has data.val)") }
        var dataset = try VideoDataset.pathLabelList(at: list, root: root, allowingPathsOutsideRoot: allowOutsideRoot)
        let defaultNames = root.map { $0 + "/classes.txt" }.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        if let path = classes ?? defaultNames {
            dataset = try dataset.withClassNames(from: path)
        }
        return dataset
    }
}

/// Which views of each video are evaluated and how they are prepared.
struct ViewOptions: ParsableArguments {
    @Option(help: "Frames per clip (default: the model's num_frames).")
    var frames: Int?

    @Option(help: "Crop side; frames are resized to this short side first (default: the model's img_size).")
    var size: Int?

    @Option(help: "Decode frames to WxH before resizing (default: size×size).")
    var decodeSize: SizeOption?

    @Option(help: "Temporal clips per video (more than 1 needs --sampling dense).")
    var clips: Int = 1

    @Option(help: "Spatial crops per clip: 1 (centre) or 3 (default for eval: 3, for extract-features: 1).")
    var crops: Int?

    @Option(help: "segment (TSN segment middles), dense (clips of consecutive frames, --interval apart) or centred (IIC's retrieval clips: consecutive frames around evenly spaced centres).")
    var sampling: SamplingChoice = .segment

    @Option(help: "Resize the short side to this before cropping (default: --size; IIC's retrieval: 128 with --decode-size 171x128).")
    var resizeShortSide: Int?

    @Option(help: "rgb, residual (IIC's ((x - previous frame) + 1)/2) or residual_unscaled (x - previous frame).")
    var input: ClipInput = .rgb

    @Option(help: "Frame step within a dense clip.")
    var interval: Int = 2

    @Flag(help: "Average the views' outputs instead of summing them.")
    var average = false

    @Flag(help: "Average the views' softmax probabilities (VideoMAE's multi-view test) instead of summing logits.")
    var softmax = false

    @Option(help: "Per-channel normalisation mean, e.g. 0.5,0.5,0.5.")
    var mean: ListOption<Float>?

    @Option(help: "Per-channel normalisation std, e.g. 0.5,0.5,0.5.")
    var std: ListOption<Float>?

    @Option(help: "Videos per loader batch (one frame permutation per batch when shuffling).")
    var batchSize: Int = 8

    @Option(help: "Seed of the shuffled-frame permutations.")
    var seed: UInt64 = 0

    @Option(help: "Loader threads (default: all cores).")
    var workers: Int?

    /// The evaluation configuration these options describe for a model configured as `model`.
    func configuration(model: any BackboneConfiguration, defaultCrops: Int, aggregation: ViewAggregation) throws -> EvaluationConfiguration {
        let frames = self.frames ?? model.numFrames, size = self.size ?? model.imgSize
        let crops = self.crops ?? defaultCrops
        guard frames <= Recipe.DataSection.maximumFrames else {
            throw ValidationError("--frames \(frames) exceeds \(Recipe.DataSection.maximumFrames)")
        }
        guard size <= FrameSize.maximumSide else { throw ValidationError("--size \(size) exceeds \(FrameSize.maximumSide)") }
        try checkCrop(height: size, width: size, for: model, source: "--size \(size)")
        guard frames > 0, size > 0, clips > 0, batchSize > 0, interval > 0, (workers ?? 1) > 0 else {
            throw ValidationError("--frames, --size, --clips, --interval, --batch-size and --workers must be positive")
        }
        guard crops == 1 || crops == 3 else { throw ValidationError("--crops must be 1 or 3, got \(crops)") }
        guard clips == 1 || sampling != .segment else {
            throw ValidationError("--clips \(clips) needs --sampling dense or centred: segment sampling gives one clip per video")
        }
        if let resizeShortSide, resizeShortSide < size {
            throw ValidationError("--resize-short-side \(resizeShortSide) is smaller than --size \(size)")
        }
        let mean = self.mean?.values ?? [0.5, 0.5, 0.5], std = self.std?.values ?? [0.5, 0.5, 0.5]
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--mean and --std need three values each, std positive")
        }
        if let decodeSize, min(decodeSize.width, decodeSize.height) < min(size, resizeShortSide ?? size) {
            throw ValidationError("--decode-size \(decodeSize.width)x\(decodeSize.height) is smaller than --size \(size)")
        }
        let sampled: EvaluationConfiguration.Sampling = switch sampling {
        case .segment: .segments
        case .dense: .dense(interval: interval)
        case .centred: .centred
        }
        var configuration = EvaluationConfiguration(
            frames: frames, cropSize: size, frameSize: decodeSize.map { FrameSize(width: $0.width, height: $0.height) },
            mean: mean, std: std, sampling: sampled,
            clips: clips, crops: crops, aggregation: aggregation, batchSize: batchSize, seed: seed, workerCount: workers)
        configuration.resizeShortSide = resizeShortSide
        configuration.input = input
        return configuration
    }
}

/// How clips are taken from a video.
enum SamplingChoice: String, ExpressibleByArgument, CaseIterable {
    case segment, dense, centred
}

extension ClipInput: ExpressibleByArgument {}

/// What `videossl eval` writes to report.json.
struct EvalRecord: Codable {
    var model: String
    var overrides: [String]
    var weights: String?
    var list: String
    var frames: Int
    var cropSize: Int
    var clips: Int
    var crops: Int
    var aggregation: ViewAggregation
    var seed: UInt64
    var original: EvaluationReport
    var shuffled: EvaluationReport?
    var gap: ShuffleGap?
}

/// The tables `videossl eval` prints, accuracies in percent.
enum EvalTables {
    static func accuracy(_ report: EvaluationReport) -> String {
        var lines = [row("", "videos", "top-1", "top-5", "mean class")]
        for (name, r) in rows(report) {
            lines.append(row(name, "\(r.count)", percent(r.top1), percent(r.top5), percent(r.meanClassAccuracy)))
        }
        return lines.joined(separator: "\n")
    }

    static func gap(_ gap: ShuffleGap, counts report: EvaluationReport) -> String {
        var lines = [row("top-1", "videos", "original", "shuffled", "Gap")]
        for (name, r) in rows(report) {
            let g = name == "all" ? gap : gap.subsets[name]!
            lines.append(row(name, "\(r.count)", percent(g.original), percent(g.shuffled), percent(g.gap)))
        }
        return lines.joined(separator: "\n")
    }

    private static func rows(_ report: EvaluationReport) -> [(String, EvaluationReport)] {
        [("all", report)] + report.subsets.keys.sorted().map { ($0, report.subsets[$0]!) }
    }

    private static func percent(_ x: Double) -> String { String(format: "%.2f", 100 * x) }

    private static func row(_ name: String, _ cells: String...) -> String {
        name.padding(toLength: 12, withPad: " ", startingAt: 0) + cells.map { String(repeating: " ", count: max(0, 11 - $0.count)) + $0 }.joined()
    }
}

import ArgumentParser
import Foundation
import TensorCore
import Training

/// `videossl extract-features`: class embeddings of every video of a list, for probes and retrieval.
struct ExtractFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-features",
        abstract: "Write the class embedding of every video of a `path label` list to safetensors.",
        discussion: """
            By default one clip of segment middles, centre crop; with more views (--clips, --crops) the \
            embeddings are averaged, or with --per-view kept one row per view (views of a video next to \
            each other, clip-major). Writes `features` [N, C] (Float32), `labels` [N] and `indices` [N] \
            (int64; the line of each video in the list, 0-based, repeated for its views) and, in the \
            metadata, `paths` (a JSON array: each row's video); unreadable videos are left out. \
            `videossl knn`, `videossl linear-probe` and `videossl retrieve` read these files. IIC's \
            retrieval features: --sampling centred --clips 10 --frames 16 --decode-size 171x128 \
            --resize-short-side 128 --size 112 --crops 1 --mean 0,0,0 --std 1,1,1 --retrieval-features \
            (--input residual for the residual view). With --slow-fast each video's \
            feature is SVT's slow-fast embedding: the mean of the class embeddings of a slow clip \
            (--frames × --size) and a fast clip (--fast-frames × --fast-size) through the same network.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightsOptions: WeightsOptions
    @OptionGroup var data: EvalDataOptions
    @OptionGroup var views: ViewOptions

    @Flag(help: "Keep every view's embedding as a row of its own instead of averaging a video's views.")
    var perView = false

    @Flag(help: "SVT's slow-fast inference: average a slow clip's and a fast clip's class embeddings.")
    var slowFast = false

    @Flag(help: "The backbone's retrieval features (IIC: the 3D CNNs' pooled last stage) instead of the class embedding; a backbone without them gives its class embedding.")
    var retrievalFeatures = false

    @Option(help: "Frames of the fast clip (with --slow-fast).")
    var fastFrames = 64

    @Option(help: "Crop side of the fast clip (with --slow-fast).")
    var fastSize = 96

    @Option(help: "FEATURES.safetensors")
    var output: String

    func validate() throws {
        if slowFast && perView { throw ValidationError("--slow-fast averages two clips per video; it cannot keep --per-view rows") }
        if slowFast && retrievalFeatures { throw ValidationError("--slow-fast averages class embeddings; it cannot take --retrieval-features") }
        if slowFast && (fastFrames < 1 || fastSize < 1) {
            throw ValidationError("--fast-frames and --fast-size must be positive")
        }
    }

    func run() throws {
        let (model, modelConfig) = try weightsOptions.loadModel(modelOptions)
        let dataset = try data.dataset()
        let configuration = try views.configuration(model: modelConfig, defaultCrops: 1, aggregation: .mean)
        let evaluator = Evaluator(configuration)
        let kind: Evaluator.ViewOutput = retrievalFeatures ? .retrievalFeatures : .classEmbedding
        let result = slowFast
            ? try SlowFastFeatures(configuration, fastFrames: fastFrames, fastCrop: fastSize).outputs(of: model, on: dataset)
            : perView
            ? try evaluator.viewOutputs(of: model, on: dataset, kind: kind)
            : try evaluator.outputs(of: model, on: dataset, kind: kind)
        let set = try FeatureSet(
            features: result.values, labels: result.labels, indices: result.videoIndices,
            paths: result.videoIndices.map { dataset.items[$0].path },
            metadata: ["model": try modelOptions.name(), "list": data.list ?? "", "views": "\(configuration.viewsPerVideo)",
                       "per_view": perView ? "true" : "false", "input": configuration.input.rawValue,
                       "features": retrievalFeatures && model.hasRetrievalFeatures ? "retrieval" : "class_embedding",
                       "slow_fast": slowFast ? "\(configuration.frames)x\(configuration.cropSize)+\(fastFrames)x\(fastSize)" : "false"],
            source: output)
        try set.write(to: output)
        print("wrote features \(result.values.shape) and labels [\(set.count)] of \(set.videos.count) videos to \(output)"
            + (result.skipped > 0 ? " (\(result.skipped) unreadable videos left out)" : ""))
    }
}

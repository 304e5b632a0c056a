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
            embeddings are averaged. Writes `features` [N, C] (Float32), `labels` [N] and `indices` [N] \
            (int64; the line of each video in the list, 0-based); unreadable videos are left out.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightsOptions: WeightsOptions
    @OptionGroup var data: EvalDataOptions
    @OptionGroup var views: ViewOptions

    @Option(help: "FEATURES.safetensors")
    var output: String

    func run() throws {
        let (model, modelConfig) = try weightsOptions.loadModel(modelOptions)
        let dataset = try data.dataset()
        let configuration = try views.configuration(model: modelConfig, defaultCrops: 1, aggregation: .mean)
        let result = try Evaluator(configuration).outputs(of: model, on: dataset, kind: .classEmbedding)
        let n = result.labels.count
        try SafeTensors.write(
            arrays: [
                ("features", .float32(result.values)),
                ("labels", .int64(result.labels, shape: [n])),
                ("indices", .int64(result.videoIndices, shape: [n])),
            ],
            metadata: ["model": try modelOptions.name(), "list": data.list ?? "", "views": "\(configuration.viewsPerVideo)"],
            to: URL(fileURLWithPath: output))
        print("wrote features \(result.values.shape) and labels [\(n)] to \(output)\(result.skipped > 0 ? " (\(result.skipped) unreadable videos left out)" : "")")
    }
}

import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// `videossl iic-demo`: synthetic data, IIC pre-training of a tiny 3D CNN, and clip retrieval
/// (R@k of RGB and residual features) of the same backbone at its random start and after
/// pre-training, in one run.
struct IICDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iic-demo",
        abstract: "Pre-train a tiny R3D with IIC on synthetic videos; compare clip retrieval with its random start.",
        discussion: """
        Retrieval follows IIC's protocol scaled down: each video's feature is the mean over 10 \
        clips of 16 consecutive frames around evenly spaced centres (centre crop, no \
        normalisation), the backbone's retrieval features (the last conv map max-pooled by \
        (1, 2, 2)); every validation video queries the training videos by cosine similarity and \
        hits at k when one of its k nearest shares its class. RGB and residual clips are scored \
        alike, before training (the random start, same seed) and after it. Results go to \
        <output>/results.json.
        """)

    @Option(help: "The IIC recipe.")
    var config = "configs/iic/synthetic_tiny.yaml"

    @Option(help: "Folder for the data and the run.")
    var output = "runs/iic-demo"

    @Option(help: "Training videos per class in the generated dataset.")
    var perClass = 16

    @Option(help: "Validation videos per class in the generated dataset.")
    var valPerClass = 8

    @Argument(help: "key=value recipe overrides, e.g. train.epochs=5.")
    var overrides: [String] = []

    func run() throws {
        FFmpegLogLevel.set(.error)
        let data = output + "/data"
        try DemoData.synthetic(at: data, SyntheticDataset.Configuration(
            width: 64, height: 64, frameCount: 24, trainVideosPerClass: perClass, valVideosPerClass: valPerClass, seed: 0))
        let folder = output + "/iic"
        let recipe = try Recipe(contentsOf: config, overrides: [
            "data.root=\(data)", "data.train=train.txt", "output_dir=\(folder)",
        ] + overrides)
        guard recipe.objective.kind == "iic" else {
            throw ValidationError("\(config) trains objective '\(recipe.objective.kind)'; iic-demo needs kind: iic")
        }
        let trainer = try Trainer(recipe: recipe, overwrite: true)
        let train = try VideoDataset.pathLabelList(at: data + "/train.txt", root: data)
        let val = try VideoDataset.pathLabelList(at: data + "/val.txt", root: data)
        let decode = recipe.data.decodeSize

        func retrieval(_ backbone: any VideoBackbone) throws -> [(String, [ClipRetrieval.Result])] {
            try [ClipInput.rgb, .residual].map { input in
                var views = EvaluationConfiguration(
                    frames: recipe.data.frames, cropSize: recipe.data.crop,
                    frameSize: FrameSize(width: decode[0], height: decode[1]),
                    mean: recipe.data.mean.map(Float.init), std: recipe.data.std.map(Float.init),
                    sampling: .centred, clips: 10, crops: 1, aggregation: .mean)
                views.resizeShortSide = min(decode[0], decode[1])
                views.input = input
                let evaluator = Evaluator(views)
                func set(_ dataset: VideoDataset) throws -> FeatureSet {
                    let out = try evaluator.outputs(of: backbone, on: dataset, kind: .retrievalFeatures)
                    return try FeatureSet(features: out.values, labels: out.labels, indices: out.videoIndices)
                }
                return (input.rawValue, try ClipRetrieval(gallery: set(train)).evaluate(set(val)))
            }
        }

        print("== \(recipe.model.name) at its random start: retrieval of \(val.count) validation among \(train.count) training videos ==")
        let start = try retrieval(trainer.backbone)

        print("\n== IIC pre-training, \(trainer.totalSteps) steps ==")
        try ProgressDisplay.train(trainer)
        let trained = try retrieval(trainer.backbone)

        print("\nClip retrieval R@k (%): validation videos querying the training videos")
        let ks = start.first?.1.map(\.k) ?? []
        print("features                 " + ks.map { k -> String in
            let head = "R@\(k)"
            return String(repeating: " ", count: max(0, 7 - head.count)) + head
        }.joined())
        var rows: [[String: Any]] = []
        for (name, results) in [("random start", start), ("IIC", trained)] {
            for (input, r) in results {
                let label = "\(name), \(input)".padding(toLength: 25, withPad: " ", startingAt: 0)
                print(label + r.map { String(format: "%7.1f", 100 * $0.accuracy) }.joined())
                rows.append(["features": name, "input": input,
                             "recall": Dictionary(uniqueKeysWithValues: r.map { ("R@\($0.k)", $0.accuracy) })])
            }
        }
        let report: [String: Any] = ["model": recipe.model.name, "steps": trainer.step, "trainVideos": train.count,
                                     "valVideos": val.count, "results": rows, "run": folder]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: output + "/results.json"))
        print("\nrun folder: \(folder) (curves.svg, checkpoints); results: \(output)/results.json")
    }
}

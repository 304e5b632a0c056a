import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// `videossl svt-demo`: synthetic data, SVT pre-training of a tiny TimeSformer, and frozen-feature
/// evaluation (kNN, ridge and SGD linear probes) of the same backbone at its random start and after
/// pre-training, in one run.
struct SVTDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svt-demo",
        abstract: "Pre-train a tiny TimeSformer with SVT on synthetic videos; compare kNN and linear probes with its random start.",
        discussion: """
        The backbone's class embeddings of the training and validation videos are extracted before \
        training (the random start, same seed) and after it (the teacher, which SVT evaluates, and \
        the student); kNN (k 20 and 5, T 0.07), a ridge probe and an SGD linear probe are fitted on \
        the training features and scored on the validation features. Results go to \
        <output>/results.json.
        """)

    @Option(help: "The SVT recipe.")
    var config = "configs/svt/synthetic_tiny.yaml"

    @Option(help: "Folder for the data and the run.")
    var output = "runs/svt-demo"

    @Option(help: "Training videos per class in the generated dataset.")
    var perClass = 16

    @Option(help: "Validation videos per class in the generated dataset.")
    var valPerClass = 8

    @Option(help: "Epochs of the SGD linear probe.")
    var probeEpochs = 100

    @Option(help: "Learning rate of the SGD linear probe (the SVT recipe's 0.001·batch/256 suits millions of clips, not a few hundred).")
    var probeLR = 0.05

    @Argument(help: "key=value recipe overrides, e.g. train.epochs=5.")
    var overrides: [String] = []

    func run() throws {
        FFmpegLogLevel.set(.error)
        let data = output + "/data"
        try DemoData.synthetic(at: data, SyntheticDataset.Configuration(
            width: 64, height: 64, frameCount: 16, trainVideosPerClass: perClass, valVideosPerClass: valPerClass, seed: 0))
        let folder = output + "/svt"
        let recipe = try Recipe(contentsOf: config, overrides: [
            "data.root=\(data)", "data.train=train.txt", "output_dir=\(folder)",
        ] + overrides)
        guard recipe.objective.kind == "svt" else {
            throw ValidationError("\(config) trains objective '\(recipe.objective.kind)'; svt-demo needs kind: svt")
        }
        let trainer = try Trainer(recipe: recipe, overwrite: true)
        guard let svt = trainer.objective as? SVTTrainingObjective else {
            throw ValidationError("the recipe's objective is not SVT")
        }
        let train = try VideoDataset.pathLabelList(at: data + "/train.txt", root: data)
        let val = try VideoDataset.pathLabelList(at: data + "/val.txt", root: data)
        var views = EvaluationConfiguration(
            frames: 8, cropSize: svt.settings.globalSize, frameSize: FrameSize(width: 64, height: 64),
            mean: recipe.data.mean.map(Float.init), std: recipe.data.std.map(Float.init), crops: 1, aggregation: .mean)
        views.batchSize = 8
        let evaluator = Evaluator(views)

        func features(_ backbone: any VideoBackbone) throws -> (train: FeatureSet, val: FeatureSet) {
            func set(_ dataset: VideoDataset) throws -> FeatureSet {
                let out = try evaluator.outputs(of: backbone, on: dataset, kind: .classEmbedding)
                return try FeatureSet(features: out.values, labels: out.labels, indices: out.videoIndices)
            }
            return (try set(train), try set(val))
        }

        print("== \(recipe.model.name) at its random start: class embeddings of \(train.count) training and \(val.count) validation videos ==")
        let start = try features(trainer.backbone)

        print("\n== SVT pre-training, \(trainer.totalSteps) steps ==")
        try ProgressDisplay.train(trainer)
        let teacher = try features(svt.parts.teacher.backbone)
        let student = try features(trainer.backbone)

        var rows: [[String: Any]] = []
        print("\nTop-1 / top-5 (%) on the validation videos from frozen class embeddings (fitted on the training videos)")
        print("features         kNN k=20     kNN k=5      ridge        SGD probe (best epoch)")
        for (name, set) in [("random start", start), ("SVT teacher", teacher), ("SVT student", student)] {
            let knn = try KNNClassifier(set.train).evaluate(set.val, ks: [20, 5], temperature: KNNClassifier.defaultTemperature)
            let ridge = try RidgeProbe(fitting: set.train).evaluate(set.val)
            let probe = try LinearProbe(LinearProbeConfiguration(epochs: probeEpochs, learningRate: probeLR))
                .train(on: set.train, validation: set.val)
            let sgd = probe.bestTop1 ?? probe.final?.top1 ?? .nan
            func pair(_ a: Double, _ b: Double) -> String { String(format: "%5.1f/%5.1f", 100 * a, 100 * b) }
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + " " + pair(knn[0].top1, knn[0].top5) + "  "
                  + pair(knn[1].top1, knn[1].top5) + "  " + pair(ridge.top1, ridge.top5) + "  "
                  + String(format: "%5.1f", 100 * sgd))
            rows.append(["features": name, "knn20Top1": knn[0].top1, "knn20Top5": knn[0].top5,
                         "knn5Top1": knn[1].top1, "knn5Top5": knn[1].top5, "ridgeTop1": ridge.top1,
                         "ridgeTop5": ridge.top5, "sgdProbeBestTop1": sgd])
        }
        let report: [String: Any] = ["model": recipe.model.name, "steps": trainer.step, "trainVideos": train.count,
                                     "valVideos": val.count, "results": rows, "run": folder]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: output + "/results.json"))
        print("\nrun folder: \(folder) (curves.svg, checkpoints); results: \(output)/results.json")
    }
}

import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO

/// `videossl demo`: synthetic data, a supervised baseline and TIME trained alike, and a table of
/// top-1 on original versus frame-shuffled clips per subset (temporal / static classes).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate synthetic videos, train a baseline and TIME, compare them on shuffled frames.",
        discussion: """
        A model that uses time should lose accuracy on temporal classes when the frames are \
        shuffled (a large Gap) and none on static classes. Both runs share the recipe \
        (configs/demo.yaml by default) and differ only in the objective: the baseline keeps the \
        keys it shares with TIME (label smoothing, the classification weight).
        """)

    @Option(help: "The recipe both runs share.")
    var config = "configs/demo.yaml"

    @Option(help: "Folder for the data and both runs.")
    var output = "runs/demo"

    @Option(help: "Training videos per class in the generated dataset.")
    var perClass = 32

    @Option(help: "Validation videos per class in the generated dataset.")
    var valPerClass = 8

    @Argument(help: "key=value overrides applied to both runs, e.g. train.max_steps=50.")
    var overrides: [String] = []

    func run() throws {
        FFmpegLogLevel.set(.error)
        let data = output + "/data"
        try DemoData.synthetic(at: data, SyntheticDataset.Configuration(
            width: 64, height: 64, frameCount: 16, trainVideosPerClass: perClass, valVideosPerClass: valPerClass, seed: 0))
        var results: [(name: String, scores: SubsetScores, run: String)] = []
        for (name, kind) in [("baseline", "supervised"), ("TIME", "time")] {
            let folder = output + "/" + name.lowercased()
            try? FileManager.default.removeItem(atPath: folder)
            let recipe = try Recipe(contentsOf: config, overrides: [
                "data.root=\(data)", "data.train=train.txt", "data.val=val.txt", "data.subsets=subsets.json",
                "output_dir=\(folder)",
            ] + overrides).withObjective(kind)
            print("\n== \(name): \(recipe.model.name), objective \(kind) ==")
            let trainer = try Trainer(recipe: recipe, overwrite: true)
            try ProgressDisplay.train(trainer, label: "\(name) trained")
            results.append((name, try ShuffledFrameEvaluation.run(trainer), folder))
        }
        print("\nTop-1 (%) on the validation videos (1 clip × 3 crops): original frames, shuffled frames, Gap = original − shuffled")
        print("subset     model       original  shuffled     Gap")
        for subset in results[0].scores.subsets {
            for r in results {
                let (original, shuffled) = r.scores.top1[subset]!
                let numbers = String(format: "%9.1f %9.1f %7.1f", original, shuffled, original - shuffled)
                print(pad(subset, 10) + " " + pad(r.name, 10) + " " + numbers)
            }
        }
        print("\ncurves (loss per step; validation top-1 and Gap, training top-1 per epoch), best checkpoints:")
        for r in results {
            let best = FileManager.default.fileExists(atPath: r.run + "/checkpoints/best") ? "  \(r.run)/checkpoints/best" : ""
            print("  \(r.run)/curves.svg" + best)
        }
    }
}

/// `text` left-aligned in `width` columns.
private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Top-1 per subset on original and frame-shuffled clips.
struct SubsetScores {
    var subsets: [String]
    var top1: [String: (original: Double, shuffled: Double)]
}

/// The demo's test: the recipe's test views (segment middles × `eval.crops` crops, logits summed) through
/// ``Evaluator``, with frames in order and with one seeded permutation per batch.
enum ShuffledFrameEvaluation {
    static func run(_ trainer: Trainer, seed: UInt64 = 1) throws -> SubsetScores {
        let recipe = trainer.recipe
        guard let (dataset, subsets) = try recipe.validationSet() else { throw ValidationError("the recipe has no data.val") }
        let evaluator = Evaluator(recipe.testViews(seed: seed))
        let result = try evaluator.evaluateOriginalAndShuffled(trainer.backbone, on: dataset, subsets: subsets)
        var top1: [String: (Double, Double)] = ["all": (100 * result.gap.original, 100 * result.gap.shuffled)]
        for (name, gap) in result.gap.subsets { top1[name] = (100 * gap.original, 100 * gap.shuffled) }
        let order = ["temporal", "static"].filter { top1[$0] != nil }
            + top1.keys.filter { !["temporal", "static", "all"].contains($0) }.sorted() + ["all"]
        return SubsetScores(subsets: order, top1: top1)
    }
}

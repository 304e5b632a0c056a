import ArgumentParser
import Foundation
import Training
import VideoIO

/// `videossl image-time-demo`: the synthetic Backgrounds Challenge, a supervised baseline and image
/// TIME trained with the same recipe and budget for several seeds, and the per-variant accuracy
/// and BG-Gap of both, as mean ± standard deviation over the seeds.
struct ImageTIMEDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-time-demo",
        abstract: "Baseline vs image TIME on a synthetic Backgrounds Challenge, over several seeds.",
        discussion: """
            Writes the synthetic challenge (shapes name the classes; in training the background \
            matches the class in --correlation of the images) under <output>/data, then for each seed \
            trains the recipe twice — objective supervised (the baseline) and image_time — with the same \
            model, data, schedule and steps, and evaluates both on every variant. Prints mean ± std \
            (and min–max) over the seeds and writes <output>/results.json.
            """)

    @Option(help: "The image TIME recipe.")
    var config = "configs/image_time/synthetic_tiny.yaml"

    @Option(help: "Folder for the data and the runs.")
    var output = "runs/image-time-demo"

    @Option(help: "Training seeds (each trains both arms).")
    var seeds = 3

    @Option(help: "Training images per class.")
    var perClass = 1000

    @Option(help: "Test images per class and variant.")
    var testPerClass = 50

    @Option(help: "Fraction of training images whose background matches their class.")
    var correlation = 0.9

    @Option(help: "The most clutter objects (of no class) in a background.")
    var distractors = 0

    @Argument(help: "key=value recipe overrides for both arms, e.g. train.epochs=10.")
    var overrides: [String] = []

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard perClass >= 1 && testPerClass >= 1 else { throw ValidationError("--per-class and --test-per-class must be positive") }
        guard (0...1).contains(correlation) else { throw ValidationError("--correlation must be in [0, 1]") }
        guard distractors >= 0 else { throw ValidationError("--distractors must not be negative") }
    }

    func run() throws {
        FFmpegLogLevel.set(.error)
        let started = Date()
        let data = output + "/data"
        print("writing the synthetic Backgrounds Challenge to \(data) …")
        let probe = try Recipe(contentsOf: config, overrides: overrides)
        let summary = try SyntheticBackgrounds.write(to: data, configuration: .init(
            size: probe.data.crop, classCount: probe.model.overrides["num_classes"]?.intValue ?? 4,
            trainImagesPerClass: perClass, testImagesPerClass: testPerClass, correlation: correlation, seed: 0,
            distractors: distractors))
        let challenge = try BackgroundsChallenge(root: summary.challengeRoot)
        let arms = ["supervised", "image_time"]
        var reports: [String: [BackgroundsChallengeReport]] = [:]
        for seed in 0..<seeds {
            for arm in arms {
                let folder = "\(output)/seed\(seed)/\(arm)"
                var recipe = try Recipe(contentsOf: config, overrides: [
                    "data.root=\(data)", "data.train=train.txt", "seed=\(seed)", "output_dir=\(folder)",
                ] + overrides)
                if arm != recipe.objective.kind { recipe = try recipe.withObjective(arm) }
                print("\n== seed \(seed): \(arm), \(recipe.model.name) ==")
                let trainer = try Trainer(recipe: recipe, overwrite: true)
                try ProgressDisplay.train(trainer, label: arm)
                let report = try BackgroundsChallengeReport.evaluate(
                    trainer.backbone, on: challenge, cropSize: recipe.data.crop,
                    mean: recipe.data.mean.map(Float.init), std: recipe.data.std.map(Float.init))
                print(report.table)
                reports[arm, default: []].append(report)
            }
        }
        let table = Self.summaryTable(reports, arms: arms, seeds: seeds)
        print("\nSynthetic Backgrounds Challenge, top-1 (%) over \(seeds) seeds: mean ± std [min–max]")
        print(table)
        print(String(format: "wall time %.0f s", Date().timeIntervalSince(started)))
        let record: [String: Any] = [
            "config": config, "seeds": seeds, "correlation": correlation, "distractors": distractors, "train_per_class": perClass,
            "test_per_class": testPerClass, "overrides": overrides,
            "runs": arms.map { arm in
                ["objective": arm, "seeds": (reports[arm] ?? []).map { r in
                    ["variants": Dictionary(uniqueKeysWithValues: r.entries.map { ($0.variant, $0.top1) }),
                     "bg_gap": r.backgroundGap ?? .nan] as [String: Any]
                }] as [String: Any]
            },
        ]
        let json = try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: output + "/results.json"))
        print("results: \(output)/results.json")
    }

    /// One row per variant and the BG-Gap: each arm's mean ± std [min–max] in percent.
    static func summaryTable(_ reports: [String: [BackgroundsChallengeReport]], arms: [String], seeds: Int) -> String {
        func stats(_ values: [Double]) -> String {
            let n = Double(values.count), mean = values.reduce(0, +) / n
            let std = values.count > 1 ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot() : 0
            return String(format: "%5.1f ± %4.1f [%5.1f–%5.1f]", 100 * mean, 100 * std,
                          100 * values.min()!, 100 * values.max()!)
        }
        let width = 30
        var lines = ["variant     " + arms.map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }.joined()]
        let variants = reports[arms[0]]?.first?.entries.map(\.variant) ?? []
        for variant in variants {
            let cells = arms.map { arm in
                stats((reports[arm] ?? []).compactMap { r in r.entries.first { $0.variant == variant }?.top1 })
                    .padding(toLength: width, withPad: " ", startingAt: 0)
            }
            lines.append(variant.padding(toLength: 12, withPad: " ", startingAt: 0) + cells.joined())
        }
        let gaps = arms.map { arm in
            stats((reports[arm] ?? []).compactMap(\.backgroundGap)).padding(toLength: width, withPad: " ", startingAt: 0)
        }
        lines.append("BG-Gap      " + gaps.joined())
        return lines.joined(separator: "\n")
    }
}

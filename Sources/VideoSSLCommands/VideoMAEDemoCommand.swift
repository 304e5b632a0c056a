import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO

/// `videossl videomae-demo`: synthetic data, VideoMAE (or VideoMS) pre-training of a tiny ViT with
/// reconstruction images, then the same fine-tuning from the pre-trained encoder and from random
/// initialisation, compared on the validation videos in one run.
struct VideoMAEDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videomae-demo",
        abstract: "Pre-train a tiny VideoMAE on synthetic videos, then fine-tune it and a random start alike.",
        discussion: """
        The synthetic videos have a plain gray backdrop, so reconstruction is about the object \
        alone. Pre-training sees every training video without labels and writes reconstruction images (original / masked / reconstructed \
        frames) to <output>/pretrain/reconstructions. Both fine-tuning runs see the first \
        --labelled-per-class videos of each class (labelled.txt), share the recipe and the \
        budget; only the starting weights differ. The table gives top-1 over all validation \
        videos and over the temporal and static classes. Results go to <output>/results.json.
        """)

    @Option(help: "The pre-training recipe.")
    var pretrain = "configs/videomae/synthetic_tiny_pretrain.yaml"

    @Option(help: "The fine-tuning recipe.")
    var finetune = "configs/videomae/synthetic_tiny_finetune.yaml"

    @Option(help: "Folder for the data and the runs.")
    var output = "runs/videomae-demo"

    @Option(help: "tube (VideoMAE), random or motion_centric (VideoMS).")
    var masking = "tube"

    @Option(help: "Training videos per class: all of them are pre-trained on, without labels.")
    var perClass = 48

    @Option(help: "Labelled videos per class that both fine-tuning runs see (the first of each class).")
    var labelledPerClass = 16

    @Option(parsing: .upToNextOption, help: "key=value overrides of the pre-training recipe.")
    var pretrainOverrides: [String] = []

    @Option(parsing: .upToNextOption, help: "key=value overrides of both fine-tuning runs.")
    var finetuneOverrides: [String] = []

    func run() throws {
        FFmpegLogLevel.set(.error)
        guard labelledPerClass >= 1 && labelledPerClass <= perClass else {
            throw ValidationError("--labelled-per-class must lie in 1...\(perClass)")
        }
        let data = output + "/data"
        var configuration = SyntheticDataset.Configuration(
            width: 64, height: 64, frameCount: 16, trainVideosPerClass: perClass, valVideosPerClass: 16, seed: 0)
        // A plain backdrop leaves only the object to reconstruct; a textured one (noise, or the
        // smooth wave) spent the tiny encoder on backdrop detail that says nothing of the class.
        configuration.background = .plain
        try DemoData.synthetic(at: data, configuration)
        let labelled = try writeLabelledList(data: data)
        let pre = try Recipe(contentsOf: pretrain, overrides: [
            "data.root=\(data)", "data.train=train.txt", "output_dir=\(output)/pretrain",
            "objective.masking=\(masking)"] + pretrainOverrides)
        print("== pre-training \(pre.model.name), masking \(masking) ==")
        let pretrainer = try Trainer(recipe: pre, overwrite: true)
        try ProgressDisplay.train(pretrainer, label: "")
        guard let checkpoint = pretrainer.lastCheckpoint else { throw ValidationError("pre-training wrote no checkpoint") }

        var rows: [(String, ValidationRecord?)] = []
        for (name, weights) in [("from pre-training", Optional(checkpoint + "/model.safetensors")), ("from random init", nil)] {
            var overrides = ["data.root=\(data)", "data.train=\(labelled)", "data.val=val.txt",
                             "data.classes=classes.txt", "data.subsets=subsets.json", "output_dir=\(output)/finetune-\(weights == nil ? "random" : "pretrained")"]
            if let weights { overrides += ["model.weights=\(weights)", "model.key_map=videomae-encoder"] }
            let recipe = try Recipe(contentsOf: finetune, overrides: overrides + finetuneOverrides)
            print("\n== fine-tuning \(name) ==")
            let trainer = try Trainer(recipe: recipe, overwrite: true)
            if let report = trainer.setup.weightReport { print(report) }
            try ProgressDisplay.train(trainer, label: "")
            rows.append((name, trainer.validations.last))
        }
        print("\nValidation after fine-tuning (the same recipe and budget; \(rows.first?.1?.step ?? 0) steps):")
        print("start                  top-1    top-5  temporal   static")
        var results: [[String: Any]] = []
        for (name, record) in rows {
            let metric = { (key: String) in record?.metrics[key] ?? .nan }
            let (top1, top5) = (metric("val_top1"), metric("val_top5"))
            let (temporal, still) = (metric("val_top1_temporal"), metric("val_top1_static"))
            print(name.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + String(format: " %7.1f  %7.1f  %8.1f  %7.1f", 100 * top1, 100 * top5, 100 * temporal, 100 * still))
            results.append(["start": name, "top1": top1, "top5": top5, "top1Temporal": temporal, "top1Static": still])
        }
        let images = (try? FileManager.default.contentsOfDirectory(atPath: "\(output)/pretrain/reconstructions").sorted()) ?? []
        print("\nreconstructions (rows: original, masked, reconstructed): \(images.map { "\(output)/pretrain/reconstructions/\($0)" }.joined(separator: ", "))")
        let json = try JSONSerialization.data(
            withJSONObject: ["masking": masking, "pretrainSteps": pretrainer.step, "results": results,
                             "pretrainVideos": perClass * SyntheticClass.standard.count, "labelledVideosPerClass": labelledPerClass,
                             "reconstructions": images] as [String: Any],
            options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: output + "/results.json"))
    }

    /// Writes `labelled.txt`: the first `labelledPerClass` lines of each label in `train.txt`.
    private func writeLabelledList(data: String) throws -> String {
        let lines = try String(contentsOfFile: data + "/train.txt", encoding: .utf8).split(separator: "\n")
        var taken: [Substring: Int] = [:]
        let kept = lines.filter { line in
            guard let label = line.split(separator: " ").last else { return false }
            taken[label, default: 0] += 1
            return taken[label]! <= labelledPerClass
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: data + "/labelled.txt", atomically: true, encoding: .utf8)
        return "labelled.txt"
    }

}

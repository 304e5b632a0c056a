import ArgumentParser
import Foundation
import Training
import VideoIO

/// `videossl train`: runs a recipe, or continues a run from its newest complete checkpoint.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a backbone from a YAML recipe (supervised baseline or TIME).",
        discussion: """
        Overrides are dotted keys, e.g. `optimizer.lr=3e-4 train.batch_size=4`. With --resume and no \
        --config, the recipe stored in the checkpoint is used. Metrics (steps.jsonl/.csv, \
        epochs.jsonl/.csv), curves.svg, config.yaml and checkpoints/ are written to output_dir.
        """)

    @Option(help: "The recipe, e.g. configs/demo.yaml.")
    var config: String?

    @Option(help: "A run folder, its checkpoints/ folder or one checkpoint folder to continue from.")
    var resume: String?

    @Argument(help: "key=value overrides of the recipe.")
    var overrides: [String] = []

    func run() throws {
        FFmpegLogLevel.set(.error)
        let recipe: Recipe
        if let config {
            recipe = try Recipe(contentsOf: config, overrides: overrides)
        } else if let resume {
            recipe = try Recipe(contentsOf: CheckpointStore.resolve(resume) + "/config.yaml", overrides: overrides)
        } else {
            throw ValidationError("give --config FILE, or --resume DIR to continue a run")
        }
        let trainer = try Trainer(recipe: recipe, resume: resume)
        if resume != nil, let checkpoint = trainer.lastCheckpoint {
            print("resumed from \(checkpoint) at step \(trainer.step) (\(trainer.position))")
        }
        if let estimate = trainer.memoryEstimate() {
            print("memory estimate for a training step:")
            for line in MemoryEstimateText.lines(estimate) { print("  " + line) }
        }
        let display = ProgressDisplay(every: recipe.training.logEvery)
        trainer.onEvent = { display.show($0) }
        try trainer.run()
        display.finish()
        print("run folder: \(trainer.runDirectory) (curves.svg, steps.csv, epochs.csv, config.yaml)")
        if let last = trainer.lastCheckpoint { print("last checkpoint: \(last)") }
    }
}

/// Turns trainer events into a one-line progress bar on a terminal, or plain lines otherwise.
final class ProgressDisplay {
    private let every: Int
    private let terminal = isatty(STDOUT_FILENO) != 0
    private var barShown = false

    init(every: Int) {
        self.every = every
    }

    func show(_ event: TrainerEvent) {
        switch event {
        case .step(let p):
            let terms = p.terms.map { "\($0.name) \(String(format: "%.3f", $0.value))" }.joined(separator: " ")
            let text = String(format: "step %d/%d  epoch %d  loss %.4f (%@)  lr %.2e  %.1f clips/s  data wait %.0f%%  ETA %@",
                              p.step, p.totalSteps, p.epoch, p.loss, terms, p.learningRate, p.clipsPerSecond,
                              100 * p.dataWaitShare, duration(p.etaSeconds))
            if terminal {
                let width = 24, filled = p.totalSteps > 0 ? width * p.step / p.totalSteps : 0
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                FileHandle.standardOutput.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
                barShown = true
            } else if p.step % every == 0 || p.step == p.totalSteps {
                print(text)
            }
        case .epochEnded(let epoch, let metrics):
            let parts = metrics.keys.sorted().filter { $0 != "epoch" && $0 != "step" }
                .map { "\($0) \(String(format: "%.4f", metrics[$0]!))" }.joined(separator: ", ")
            line("epoch \(epoch) done: \(parts)")
        case .checkpointWritten(let path, let step):
            if !terminal { print("checkpoint at step \(step): \(path)") }
        }
        fflush(nil)
    }

    func finish() {
        if barShown { print("") }
    }

    private func line(_ text: String) {
        if barShown {
            print("")
            barShown = false
        }
        print(text)
    }

    private func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

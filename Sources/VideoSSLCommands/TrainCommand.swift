import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoIO

extension ProcessGroups.Mode: ExpressibleByArgument {}

/// `videossl train`: runs a recipe, or continues a run from its newest complete checkpoint.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train from a YAML recipe with any registered objective (\(Objectives.kinds.joined(separator: ", "))).",
        discussion: """
        Overrides are dotted keys, e.g. `optimizer.lr=3e-4 train.batch_size=4`. With --resume and no \
        --config, the recipe stored in the checkpoint is used, and the run continues in the folder \
        it was resumed from. Metrics (steps.jsonl/.csv, epochs.jsonl/.csv with validation), \
        curves.svg, config.yaml, checkpoints/ and checkpoints/best are written to output_dir. A new \
        run refuses an output_dir that holds another run unless --overwrite is given.

        Data-parallel: `mpirun -np N videossl train --config FILE` trains on N processes (weights \
        from rank 0, each rank its share of every epoch, gradients averaged); rank 0 alone prints \
        and writes files. Each process takes its share of this machine's cores unless --threads \
        says otherwise.
        """)

    @Option(help: "The recipe, e.g. configs/demo.yaml.")
    var config: String?

    @Option(help: "A run folder, its checkpoints/ folder or one checkpoint folder to continue from.")
    var resume: String?

    @Flag(help: "Replace another run's checkpoints, logs and plots in output_dir.")
    var overwrite = false

    @Option(help: "Processes: auto (MPI when started by mpirun), mpi or off.")
    var distributed: ProcessGroups.Mode = .automatic

    @Option(help: "Compute threads of this process (default: the cores divided by the processes on this machine).")
    var threads: Int?

    @Option(help: "Seconds a collective between processes may take before the job is stopped.")
    var collectiveTimeout: Double = 300

    @Argument(help: "key=value overrides of the recipe.")
    var overrides: [String] = []

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        guard collectiveTimeout > 0 else { throw ValidationError("--collective-timeout must be positive") }
    }

    func run() throws {
        FFmpegLogLevel.set(.error)
        guard resume == nil || !overwrite else { throw ValidationError("--overwrite and --resume exclude each other") }
        let group = try ProcessGroups.make(distributed, options: .init(collectiveTimeout: collectiveTimeout))
        if let threads {
            ComputeContext.threadCount = threads
        } else if group.isDistributed {
            ComputeContext.threadCount = ProcessGroups.threadsPerProcess(localProcesses: group.localSize)
        }
        guard group.isDistributed else { return try train(in: group) }
        do {
            try train(in: group)
            try group.shutDown()
        } catch {
            // One rank's error ends every rank at once instead of leaving them in a collective.
            group.abort("error: \(error)", status: 1)
        }
    }

    private func train(in group: any ProcessGroup) throws {
        let primary = group.isPrimary
        func print(_ item: Any) { if primary { Swift.print(item) } }
        // Resolved once: finding the newest intact checkpoint hashes its files.
        let point = try resume.map(CheckpointStore.resolveForResume)
        let recipe: Recipe
        if let config {
            recipe = try Recipe(contentsOf: config, overrides: overrides)
        } else if let point {
            recipe = try Recipe(contentsOf: point.checkpoint + "/config.yaml", overrides: overrides)
        } else {
            throw ValidationError("give --config FILE, or --resume DIR to continue a run")
        }
        let trainer = try Trainer(recipe: recipe, resumingFrom: point, overwrite: overwrite, processGroup: group)
        print("model \(trainer.recipe.model.name) (\(type(of: trainer.backbone)), \(trainer.backbone.parameterCount) parameters), "
              + "objective \(trainer.recipe.objective.kind), run folder \(trainer.runDirectory)")
        if group.isDistributed {
            print("\(group.worldSize) processes (\(group.localSize) on this machine), \(ComputeContext.threadCount) threads each, "
                  + "batch \(trainer.recipe.training.batchSize) per process")
        }
        for note in trainer.resumeNotes { print("note: \(note)") }
        if resume != nil, let checkpoint = trainer.lastCheckpoint {
            print("resumed from \(checkpoint) at step \(trainer.step) (\(trainer.position)); writing to \(trainer.runDirectory)")
        }
        if let report = trainer.setup.weightReport { print(report) }
        if let estimate = trainer.memoryEstimate() {
            print("memory estimate for a training step:")
            for line in MemoryEstimateText.lines(estimate) { print("  " + line) }
        }
        let display = ProgressDisplay(every: recipe.training.logEvery)
        if primary { trainer.onEvent = { display.show($0) } }
        try trainer.run()
        if primary { display.finish() }
        if !trainer.validations.isEmpty {
            print("\nvalidation (\(trainer.recipe.data.val ?? "")):")
            print(ValidationTable.text(trainer.validations))
        }
        print("run folder: \(trainer.runDirectory) (curves.svg, steps.csv, epochs.csv, config.yaml)")
        if let last = trainer.lastCheckpoint { print("last checkpoint: \(last)") }
        if let best = trainer.checkpoints.bestRecord() {
            print("best checkpoint: \(trainer.checkpoints.bestFolder) (\(best.metric) \(String(format: "%.4f", best.value)) at step \(best.step))")
        }
    }
}

/// The validation results of a run, one row per evaluation, accuracies in percent.
enum ValidationTable {
    static func text(_ records: [ValidationRecord]) -> String {
        let keys = records.flatMap(\.metrics.keys).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            .sorted { order($0) < order($1) }
        let header = ["epoch", "step"] + keys.map { String($0.dropFirst(4)) } + ["best"]
        var lines = [header.map(cell).joined()]
        for r in records {
            let values = keys.map { r.metrics[$0].map { String(format: "%.2f", 100 * $0) } ?? "" }
            lines.append((["\(r.epoch)", "\(r.step)"] + values + [r.isBest ? "*" : ""]).map(cell).joined())
        }
        return lines.joined(separator: "\n")
    }

    private static func order(_ key: String) -> (Int, String) {
        let first = ["val_top1", "val_top5", "val_mean_class", "val_top1_shuffled", "val_gap"]
        return (first.firstIndex(of: key) ?? first.count, key)
    }

    private static func cell(_ text: String) -> String {
        String(repeating: " ", count: max(1, 14 - text.count)) + text
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

extension ProgressDisplay {
    /// Runs `trainer` to its end with a progress display, then prints `"<label> <steps> steps in <s> s"`
    /// (without the label when it is empty).
    static func train(_ trainer: Trainer, label: String = "trained") throws {
        let display = ProgressDisplay(every: trainer.recipe.training.logEvery)
        trainer.onEvent = { display.show($0) }
        let started = Date()
        try trainer.run()
        display.finish()
        print((label.isEmpty ? "" : label + " ")
              + String(format: "%d steps in %.0f s", trainer.step, Date().timeIntervalSince(started)))
    }
}

import Foundation
import Testing
import TensorCore
import Training
import _TestSupport

@Suite("Trainer")
struct TrainerTests {
    @Test func timeTrainingLowersTheLoss() throws {
        let out = TinyRun.folder("loss")
        let trainer = try Trainer(recipe: TinyRun.recipe(output: out, overrides: ["train.epochs=6"]))
        var losses: [Double] = []
        var epochs: [[String: Double]] = []
        trainer.onEvent = { event in
            if case .step(let p) = event { losses.append(p.loss) }
            if case .epochEnded(_, let m) = event { epochs.append(m) }
        }
        try trainer.run()
        #expect(losses.count == 24 && trainer.step == 24)
        #expect(epochs.count == 6)
        let first = try #require(epochs.first?["loss"]), last = try #require(epochs.last?["loss"])
        #expect(last < first - 0.1, "epoch losses \(epochs.map { $0["loss"]! })")
        // The TIME terms are all reported and logged.
        let csv = try String(contentsOfFile: out + "/steps.csv", encoding: .utf8)
        #expect(csv.hasPrefix("step,epoch,") && csv.contains("debias") && csv.contains("flow"))
        #expect(csv.split(separator: "\n").count == 25)
        #expect(try String(contentsOfFile: out + "/curves.svg", encoding: .utf8).contains("<polyline"))
    }

    @Test func resumingAfterAnInterruptionEqualsTheUninterruptedRun() throws {
        // Accumulation, EMA, drop-path and TIME's permutations all carry state across the cut.
        let overrides = ["train.batch_size=2", "train.accumulation=2", "train.ema_decay=0.9",
                         "train.checkpoint_every=3", "train.clip_grad_norm=1.0"]
        let whole = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("whole"), overrides: overrides))
        try whole.run()
        #expect(whole.step == 8)

        let cutFolder = TinyRun.folder("cut")
        let recipe = try TinyRun.recipe(output: cutFolder, overrides: overrides)
        let first = try Trainer(recipe: recipe)
        try first.run(stopAfter: 3)
        #expect(first.step == 3)
        let second = try Trainer(recipe: recipe, resume: cutFolder)
        #expect(second.step == 3)
        #expect(second.position == first.position)
        try second.run()
        #expect(second.step == 8)
        #expect(TinyRun.bits(second) == TinyRun.bits(whole))
        #expect(second.optimizer.stateDict().mapValues { $0.scalars } == whole.optimizer.stateDict().mapValues { $0.scalars })
        #expect(second.ema?.stateDict().mapValues { $0.scalars } == whole.ema?.stateDict().mapValues { $0.scalars })
        // The resumed run's step log holds each step once.
        let steps = try String(contentsOfFile: cutFolder + "/steps.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(steps.count == 8)
    }

    @Test func supervisedBaselineTrainsWithoutTheTIMEHeads() throws {
        let trainer = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("sup"), kind: "supervised"))
        var names: [String] = []
        trainer.onEvent = { if case .step(let p) = $0 { names = p.terms.map(\.name) } }
        try trainer.run(stopAfter: 2)
        #expect(trainer.objective is SupervisedObjective && trainer.model.heads == nil)
        #expect(names == ["cls"])
        #expect(!trainer.namedParameters().contains { $0.0.hasPrefix("temp_head") })
    }

    @Test func aNonFiniteLossStopsTrainingAndKeepsTheLastCheckpoint() throws {
        let out = TinyRun.folder("nan")
        let trainer = try Trainer(recipe: TinyRun.recipe(
            output: out, overrides: ["optimizer.lr=1.0e+35", "train.checkpoint_every=1", "optimizer.amsgrad=false"]))
        var caught: TrainerError?
        do { try trainer.run() } catch let error as TrainerError { caught = error }
        guard case .nonFiniteLoss(let step, _, let last)? = caught else {
            Issue.record("expected a non-finite loss error, got \(String(describing: caught))")
            return
        }
        #expect(step >= 1)
        let path = try #require(last)
        #expect(path == CheckpointStore(directory: out + "/checkpoints").folder(step: step))
        #expect(try CheckpointStore.resolve(out) == path)
        #expect(try CheckpointStore.read(path).state.step == step)
        #expect("\(caught!)".contains("not finite") && "\(caught!)".contains(path))
    }
}

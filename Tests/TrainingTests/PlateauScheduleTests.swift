import Foundation
import Testing
import TensorCore
import Training
import VideoIO

/// ReduceLROnPlateau against PyTorch (Scripts/reference/make_plateau_fixtures.py), its recipe keys,
/// and the trainer's use of it with IIC's held-out validation videos.
@Suite struct PlateauScheduleTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name: String
            var lr: String
            var factor: String
            var patience: Int
            var threshold: String
            var threshold_mode: String
            var cooldown: Int
            var min_lr: String
            var eps: String
            var values: [String]
            var rates: [String]
        }
        var cases: [Case]
    }

    static func hex(_ text: String) throws -> Double { try #require(Double(text), "not a hexadecimal float: \(text)") }

    @Test func ratesMatchPyTorchBitForBit() throws {
        let url = try #require(Bundle.module.url(
            forResource: "reduce_lr_on_plateau", withExtension: "json", subdirectory: "Fixtures/optim"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.cases.map(\.name) == ["iic", "short", "cooldown", "eps"])
        for c in fixture.cases {
            var schedule = ReduceLROnPlateau(
                learningRate: try Self.hex(c.lr), factor: try Self.hex(c.factor), patience: c.patience,
                threshold: try Self.hex(c.threshold), thresholdMode: try #require(.init(rawValue: c.threshold_mode)),
                cooldown: c.cooldown, minLR: try Self.hex(c.min_lr), eps: try Self.hex(c.eps))
            let rates = try c.values.map { schedule.step(try Self.hex($0)) }
            let expected = try c.rates.map(Self.hex)
            #expect(rates.map(\.bitPattern) == expected.map(\.bitPattern), "case \(c.name)")
            #expect(schedule.state.observations == c.values.count)
        }
        // The IIC case does reduce: 1e-3 → 1e-4 → 1e-5 (the floor).
        let iic = try #require(fixture.cases.first { $0.name == "iic" })
        #expect(Set(try iic.rates.map(Self.hex)).count == 3)
        #expect(try Self.hex(iic.rates.last!) == 1e-5)
    }

    @Test func reducesAfterPatienceIsExceededAndNeverImprovesOnNaN() {
        var s = ReduceLROnPlateau(learningRate: 1, factor: 0.5, patience: 1, minLR: 0.2)
        #expect(s.step(1) == 1)          // first value is the best
        #expect(s.step(1) == 1)          // one bad observation: within patience
        #expect(s.step(.nan) == 0.5)     // a NaN is bad: second bad one reduces
        #expect(s.state.badObservations == 0)
        #expect(s.step(0.5) == 0.5)      // improvement
        #expect(s.state.best == 0.5)
        #expect(s.step(0.49996) == 0.5)  // within the relative threshold 1e-4: bad
        #expect(s.step(0.6) == 0.25)
        #expect(s.step(0.6) == 0.25)
        #expect(s.step(0.6) == 0.2)      // floor at min_lr
        #expect(s.step(0.6) == 0.2)
        #expect(s.step(0.6) == 0.2)
    }

    @Test func recipeKeysAndTypedErrors() throws {
        let base = TinyRun.yaml(output: TinyRun.folder("plateau-recipe"))
        let r = try Recipe(yaml: base, overrides: [
            "schedule.policy=plateau", "schedule.factor=0.1", "schedule.patience=50", "schedule.min_lr=1e-5",
            "schedule.threshold=1e-4", "schedule.threshold_mode=abs", "schedule.cooldown=3", "schedule.monitor=val_loss",
            "eval.best_metric=loss"])
        #expect(r.schedule.policy == .plateau)
        #expect(r.schedule.factor == 0.1)
        #expect(r.schedule.patience == 50)
        #expect(r.schedule.minLR == 1e-5)
        #expect(r.schedule.thresholdMode == .abs)
        #expect(r.schedule.cooldown == 3)
        #expect(r.schedule.monitor == .valLoss)
        #expect(r.evaluation.bestMetric == .loss)
        // The keys survive a round trip through the written recipe.
        let again = try Recipe(yaml: r.yaml)
        #expect(again.schedule.patience == 50 && again.schedule.minLR == 1e-5 && again.evaluation.bestMetric == .loss)

        func error(_ overrides: [String], yaml: String = base) -> RecipeError? {
            do { _ = try Recipe(yaml: yaml, overrides: overrides); return nil } catch { return error }
        }
        #expect(error(["schedule.policy=plateau", "schedule.factor=1"])
            == .invalidValue(key: "schedule.factor", value: "1.0", reason: "must be less than 1"))
        guard case .invalidValue(key: "schedule.factor", _, _)? = error(["schedule.factor=0"]) else {
            Issue.record("factor 0 accepted"); return
        }
        guard case .invalidValue(key: "schedule.patience", _, _)? = error(["schedule.patience=-1"]) else {
            Issue.record("negative patience accepted"); return
        }
        guard case .invalidValue(key: "schedule.warmup_epochs", _, _)? =
            error(["schedule.policy=plateau", "schedule.warmup_epochs=1"]) else {
            Issue.record("warm-up with plateau accepted"); return
        }
        guard case .invalidValue(key: "schedule.monitor", _, _)? = error(["schedule.monitor=val_top1"]) else {
            Issue.record("unknown monitor accepted"); return
        }
        guard case .invalidValue(key: "data.holdout", _, _)? = error(["data.holdout=4"]) else {
            Issue.record("holdout together with data.val accepted"); return
        }
    }

    @Test func theUCF101FineTuningRecipeFollowsIICsProtocol() throws {
        let r = try Recipe(contentsOf: "\(ImageTIMEObjectiveTests.configs)/iic/r3d_ucf101_finetune.yaml")
        #expect(r.model.name == "r3d_10" && r.objective.kind == "supervised" && r.data.input == .residualUnscaled)
        #expect(r.data.holdout == 800 && r.data.val == nil && r.data.crop == 112 && r.data.decodeSize == [171, 128])
        #expect(r.optimizer.name == .sgd && r.optimizer.lr == 1e-3 && r.optimizer.momentum == 0.9)
        #expect(r.optimizer.weightDecay == 5e-4 && r.training.batchSize == 16 && r.training.epochs == 150)
        #expect(r.schedule.policy == .plateau && r.schedule.factor == 0.1 && r.schedule.patience == 50)
        #expect(r.schedule.minLR == 1e-5 && r.schedule.threshold == 1e-4 && r.schedule.thresholdMode == .rel)
        #expect(r.schedule.cooldown == 0 && r.schedule.eps == 1e-8 && r.schedule.monitor == .valLoss)
        #expect(r.evaluation.bestMetric == .loss && r.training.evalEvery == 1)
        let views = r.testViews()
        #expect(views.sampling == .centred && views.clips == 10 && views.crops == 1 && views.aggregation == .mean)
    }

    /// TinyRun's recipe with 4 of the 16 training videos held out instead of `val.txt`, supervised,
    /// with a plateau schedule that reduces at almost every validation.
    static func holdoutRecipe(_ name: String, overrides: [String] = []) throws -> Recipe {
        let yaml = TinyRun.yaml(output: TinyRun.folder(name), kind: "supervised")
            .replacingOccurrences(of: "  val: val.txt\n", with: "  holdout: 4\n  holdout_seed: 5\n")
        return try Recipe(yaml: yaml, overrides: [
            "schedule.policy=plateau", "schedule.factor=0.5", "schedule.patience=0", "schedule.threshold=0.5",
            "schedule.min_lr=1e-4", "eval.best_metric=loss", "train.epochs=4", "train.batch_size=2",
            "train.checkpoint_every=4", "eval.batch_size=2"] + overrides)
    }

    @Test func holdoutTakesASeededRandomPartOfTheTrainingList() throws {
        let recipe = try Self.holdoutRecipe("holdout-split")
        let full = try recipe.videoList()
        #expect(full.count == 16)
        let split = try #require(try recipe.holdoutSplit(of: full))
        #expect(split.train.count == 12 && split.heldOut.count == 4)
        let train = Set(split.train.items.map(\.path)), held = Set(split.heldOut.items.map(\.path))
        #expect(train.isDisjoint(with: held))
        #expect(train.union(held) == Set(full.items.map(\.path)))
        // The same seed draws the same videos; another seed other ones.
        #expect(try recipe.holdoutSplit(of: full)?.heldOut.items.map(\.path) == split.heldOut.items.map(\.path))
        var other = recipe
        other.data.holdoutSeed = 6
        #expect(try other.holdoutSplit(of: full)?.heldOut.items.map(\.path) != split.heldOut.items.map(\.path))

        let setup = try TrainingSetup(recipe: recipe)
        #expect(setup.dataset.count == 12)
        #expect(setup.heldOut?.items.map(\.path) == split.heldOut.items.map(\.path))

        var tooMany = recipe
        tooMany.data.holdout = 16
        #expect(throws: RecipeError.invalidValue(key: "data.holdout", value: "16",
                                                 reason: "must be less than the 16 videos of data.train")) {
            _ = try tooMany.holdoutSplit(of: full)
        }
        // plateau needs a validation to watch.
        let noEval = try Self.holdoutRecipe("holdout-noeval", overrides: ["train.eval_every=0"])
        var caught: RecipeError?
        do { _ = try Trainer(recipe: noEval) } catch let e as RecipeError { caught = e }
        guard case .invalidValue(key: "schedule.policy", _, _)? = caught else {
            Issue.record("plateau without validation accepted: \(String(describing: caught))"); return
        }
    }

    @Test func heldOutValidationReportsTheLossAndDrivesThePlateau() throws {
        let trainer = try Trainer(recipe: Self.holdoutRecipe("holdout-run"))
        try trainer.run()
        #expect(trainer.step == 24)
        #expect(trainer.validations.count == 4)
        let losses = trainer.validations.map { $0.metrics["val_loss"] ?? .nan }
        #expect(losses.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(trainer.validations.allSatisfy { ($0.metrics["val_top1"] ?? -1) >= 0 })
        // Replaying the losses through the schedule gives the trainer's state.
        var replay = ReduceLROnPlateau(learningRate: 1e-3, factor: 0.5, patience: 0, threshold: 0.5, minLR: 1e-4)
        for loss in losses { replay.step(loss) }
        let state = try #require(trainer.plateauState)
        #expect(state.learningRate == replay.learningRate)
        #expect(state.observations == 4 && state.lastStep == 24)
        #expect(state.learningRate < 1e-3)
        #expect(trainer.optimizer.learningRate <= 1e-3)
        // best/ follows the lowest loss.
        let best = try #require(trainer.checkpoints.bestRecord())
        #expect(best.metric == "val_loss")
        #expect(best.value == losses.min())
        #expect(trainer.validations.filter(\.isBest).last?.metrics["val_loss"] == losses.min())
    }

    /// The plain cross-entropy of `values` `[N, K]` (each row divided by `views`).
    static func crossEntropy(_ values: Tensor, labels: [Int], views: Double = 1) -> Double {
        let k = values.shape[1], v = values.scalars
        var total = 0.0
        for (i, label) in labels.enumerated() {
            let z = (0..<k).map { Double(v[i * k + $0]) / views }
            let top = z.max()!
            total += top + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - top) }) - z[label]
        }
        return total / Double(labels.count)
    }

    @Test func valLossIsThePlainCrossEntropyOfTheValidationLogits() throws {
        // data.val with the test views: 3 crops, logits summed, so the loss takes their mean.
        let trainer = try Trainer(recipe: TinyRun.recipe(
            output: TinyRun.folder("val-loss"), kind: "supervised", overrides: ["eval.best_metric=loss", "train.epochs=1"]))
        try trainer.run()
        let logged = try #require(trainer.validations.last?.metrics["val_loss"])
        let set = try #require(try trainer.recipe.validationSet())
        let outputs = try Evaluator(trainer.recipe.testViews()).outputs(of: trainer.backbone, on: set.dataset)
        let expected = Self.crossEntropy(outputs.values, labels: outputs.labels, views: 3)
        #expect(Swift.abs(logged - expected) <= 1e-9 * Swift.max(1, expected), "\(logged) vs \(expected)")
        #expect(trainer.checkpoints.bestRecord()?.metric == "val_loss")

        // Held-out videos: one clip each from the training sampler and augmentation, drawn for the
        // epoch of the validation (seed + 1), through the network in evaluation mode.
        let held = try Trainer(recipe: Self.holdoutRecipe("val-loss-holdout", overrides: ["train.epochs=1"]))
        try held.run()
        let heldLogged = try #require(held.validations.last?.metrics["val_loss"])
        let heldOut = try #require(held.setup.heldOut)
        let data = held.recipe.data
        let loader = DataLoader(dataset: heldOut, configuration: DataLoaderConfiguration(
            batchSize: 2, frameSize: FrameSize(width: data.decodeSize[0], height: data.decodeSize[1]),
            sampler: SegmentSampler(segments: data.frames, mode: .train), shuffle: false, dropLast: false,
            seed: held.recipe.seed &+ 1, workerCount: 1, transform: try ClipPipeline.training(data)))
        let batches = loader.batches(from: .init(epoch: 0))
        defer { batches.close() }
        held.model.eval()
        var rows: [Float] = [], labels: [Int] = []
        while let batch = try batches.next() {
            rows += noGrad { held.backbone(batch.clips) }.scalars
            labels += batch.labels
        }
        held.model.train()
        let logits = Tensor(shape: [labels.count, rows.count / labels.count], scalars: rows)
        let heldExpected = Self.crossEntropy(logits, labels: labels)
        #expect(labels.count == 4)
        #expect(Swift.abs(heldLogged - heldExpected) <= 1e-9 * Swift.max(1, heldExpected), "\(heldLogged) vs \(heldExpected)")
    }

    @Test(arguments: [8, 12])
    func resumingAPlateauRunEqualsTheUninterruptedRun(cut: Int) throws {
        let whole = try Trainer(recipe: Self.holdoutRecipe("plateau-whole-\(cut)"))
        try whole.run()
        let name = "plateau-cut-\(cut)"
        let recipe = try Self.holdoutRecipe(name)
        let first = try Trainer(recipe: recipe)
        try first.run(stopAfter: cut)
        #expect(first.step == cut)
        let second = try Trainer(recipe: recipe, resume: recipe.outputDir)
        #expect(second.step == cut)
        #expect(second.plateauState == first.plateauState)
        try second.run()
        #expect(second.step == 24)
        #expect(second.plateauState == whole.plateauState)
        let sameWeights = TinyRun.bits(second) == TinyRun.bits(whole)
        #expect(sameWeights, "the resumed run's weights differ from the uninterrupted run's")
        #expect(second.validations.last?.metrics["val_loss"] == whole.validations.last?.metrics["val_loss"])
    }
}

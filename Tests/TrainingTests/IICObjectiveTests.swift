import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// IIC (`kind: iic`): three forward passes, memory banks in the model tree, the trainer passing
/// dataset indices, exact resume, and the recipe.
@Suite struct IICObjectiveTests {
    static let configs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs").path

    static func recipe(output: String, overrides: [String] = []) throws -> Recipe {
        let yaml = """
        model:
          name: timesformer_tiny_8x112
          overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2, num_frames: 8}
        data:
          root: \(TinyRun.data)
          train: train.txt
          frames: 8
          sampler: dense
          decode_size: [32, 32]
          scale_jitter: [32, 32]
          crop: 32
          mean: [0, 0, 0]
          std: [1, 1, 1]
          workers: 1
        objective: {kind: iic, nce_k: 8}
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4, weight_decay_rule: all}
        schedule: {policy: multi_step, milestones: [1], gamma: 0.2}
        train: {epochs: 2, batch_size: 4, checkpoint_every: 100}
        seed: 632
        output_dir: \(output)
        """
        return try Recipe(yaml: yaml, overrides: overrides)
    }

    static func state(_ trainer: Trainer) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: trainer.model.stateDict().map { ($0.0, $0.1.scalars.map(\.bitPattern)) })
    }

    /// A backbone that records every clip it embeds.
    final class RecordingBackbone: Module, VideoBackbone {
        let fc: Linear
        var seen: [Tensor] = []
        init(using generator: inout RandomGenerator) { fc = Linear(inFeatures: 3, outFeatures: 5, using: &generator) }
        var embedDim: Int { 5 }
        var frameCount: Int { 4 }
        var noWeightDecayKeys: Set<String> { [] }
        func classEmbedding(_ clip: Tensor) -> Tensor {
            seen.append(clip)
            return fc(clip.mean(axes: [1, 3, 4]))
        }
        func head(_ cls: Tensor) -> Tensor { cls }
    }

    static func context(_ backbone: RecordingBackbone, data: Recipe.DataSection? = nil) -> ObjectiveContext {
        var plain = Recipe.DataSection()
        plain.mean = [0, 0, 0]
        plain.std = [1, 1, 1]
        return ObjectiveContext(backbone: backbone, backboneName: "recording", classCount: 0, frames: 4, crop: 4,
                                data: data ?? plain, trainingItems: 10)
    }

    @Test(arguments: [(IICTrainingObjective.Modality.res, true, 3), (.res, false, 2), (.rgb, true, 2), (.rgb, false, 1)])
    func viewsGoThroughTheBackboneInSeparatePassesInTheReferenceOrder(
        modality: IICTrainingObjective.Modality, intraNeg: Bool, passes: Int
    ) throws {
        var g = RandomGenerator(seed: 1)
        let backbone = RecordingBackbone(using: &g)
        var settings = IICTrainingObjective.Settings()
        settings.modality = modality
        settings.intraNeg = intraNeg
        settings.nceK = 6
        let objective = try IICTrainingObjective(settings, context: Self.context(backbone), using: &g)
        let model = try TrainingModel(backbone: backbone, heads: objective.heads)
        let clips = Tensor.uniform([2, 4, 3, 4, 4], using: &g)
        let before = objective.memory.memoryL.value.scalars
        var generator = RandomGenerator(seed: 8)
        let output = try objective.lossTerms(TrainingBatch(clips: clips, labels: [0, 0], itemIndices: [3, 7]),
                                             model: model, using: &generator)
        #expect(backbone.seen.count == passes)
        #expect(backbone.seen[0].scalars == clips.scalars)
        if modality == .res {
            #expect(backbone.seen[1].scalars == (try ClipTransforms.residual(clips)).scalars)
        }
        if intraNeg {
            var expected = RandomGenerator(seed: 8)
            let negative = try ClipTransforms.intraNegative(clips, kind: .repeat, using: &expected)
            #expect(backbone.seen[passes - 1].scalars == negative.scalars)
        }
        #expect(output.terms.values.map(\.name) == ["view1", "view2"])
        let total = output.terms.total
        #expect(total.scalars[0].isFinite && total.scalars[0] > 0)
        total.backward()
        #expect((backbone.fc.weight.grad?.scalars.contains { $0 != 0 }) == true)
        // Rows 3 and 7 of the banks moved; the others did not.
        let after = objective.memory.memoryL.value.scalars
        for row in 0..<10 {
            let changed = Array(after[(row * 5)..<(row * 5 + 5)]) != Array(before[(row * 5)..<(row * 5 + 5)])
            #expect(changed == (row == 3 || row == 7), "row \(row)")
        }
        #expect(objective.memory.columns == (intraNeg ? 14 : 7))
    }

    @Test(arguments: [IICTrainingObjective.Modality.u, .v])
    func flowModalitiesEmbedTheFlowViewAsTheSecondPass(modality: IICTrainingObjective.Modality) throws {
        var g = RandomGenerator(seed: 1)
        let backbone = RecordingBackbone(using: &g)
        var settings = IICTrainingObjective.Settings()
        settings.modality = modality
        settings.nceK = 4
        let objective = try IICTrainingObjective(settings, context: Self.context(backbone), using: &g)
        let model = try TrainingModel(backbone: backbone, heads: objective.heads)
        let clips = Tensor.uniform([2, 4, 3, 8, 8], using: &g)
        let output = try objective.lossTerms(TrainingBatch(clips: clips, labels: [0, 0], itemIndices: [0, 9]),
                                             model: model, using: &g)
        #expect(backbone.seen.count == 3 && output.terms.total.scalars[0].isFinite)
        let views = try ClipTransforms.flowViews(clips)
        #expect(backbone.seen[1].scalars == (modality == .u ? views.u : views.v).scalars)
    }

    @Test func theBanksNeedDatasetIndicesAndUnnormalisedClips() throws {
        var g = RandomGenerator(seed: 1)
        let backbone = RecordingBackbone(using: &g)
        let objective = try IICTrainingObjective(.init(), context: Self.context(backbone), using: &g)
        let model = try TrainingModel(backbone: backbone, heads: objective.heads)
        let clips = Tensor.uniform([2, 4, 3, 4, 4], using: &g)
        #expect(throws: ObjectiveError.self) {
            _ = try objective.lossTerms(TrainingBatch(clips: clips, labels: [0, 0]), model: model, using: &g)
        }
        #expect(throws: ObjectiveError.self) {
            _ = try objective.lossTerms(TrainingBatch(clips: clips, labels: [0, 0], itemIndices: [1, 10]), model: model, using: &g)
        }
        var normalised = Recipe.DataSection()
        normalised.mean = [0.5, 0.5, 0.5]
        do {
            _ = try IICTrainingObjective(.init(), context: Self.context(backbone, data: normalised), using: &g)
            Issue.record("normalised clips were accepted")
        } catch let error as ObjectiveError {
            #expect(error.description.contains("data.mean"))
        }
    }

    @Test func theTrainerPassesDatasetIndicesAndTheBanksAreInTheTree() throws {
        let trainer = try Trainer(recipe: Self.recipe(output: TinyRun.folder("iic-keys")))
        #expect(trainer.setup.config.numClasses == 0)
        let buffers = Dictionary(uniqueKeysWithValues: trainer.model.namedBuffers().map { ($0.0, $0.1) })
        let count = trainer.setup.dataset.count
        for key in ["contrast.memory_l", "contrast.memory_ab", "contrast.memory_neg"] {
            #expect(buffers[key]?.shape == [count, 24], "\(key)")
        }
        #expect(buffers["contrast.params"]?.value.scalars == [8, 0.07, -1, -1, 0.5])
        #expect(!trainer.model.namedParameters().contains { $0.0.hasPrefix("contrast.") })

        let batches = trainer.loader.batches(from: .init(epoch: 0))
        let first = try #require(try batches.next())
        batches.close()
        let before = buffers["contrast.memory_l"]!.value.scalars
        try trainer.run(stopAfter: 1)
        let after = buffers["contrast.memory_l"]!.value.scalars
        let moved = (0..<count).filter { Array(after[($0 * 24)..<($0 * 24 + 24)]) != Array(before[($0 * 24)..<($0 * 24 + 24)]) }
        #expect(moved == first.itemIndices.sorted())
        for row in moved {
            let norm = after[(row * 24)..<(row * 24 + 24)].map { $0 * $0 }.reduce(0, +)
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func resumingAnIICRunEqualsTheUninterruptedRun() throws {
        let whole = try Trainer(recipe: Self.recipe(output: TinyRun.folder("iic-whole")))
        try whole.run()
        let cutFolder = TinyRun.folder("iic-cut")
        let recipe = try Self.recipe(output: cutFolder, overrides: ["train.checkpoint_every=3"])
        let first = try Trainer(recipe: recipe)
        try first.run(stopAfter: 3)
        let second = try Trainer(recipe: recipe, resume: cutFolder)
        #expect(second.step == 3)
        try second.run()
        #expect(second.step == whole.step && whole.step == whole.totalSteps)
        // Backbone and the three banks continue exactly.
        #expect(Self.state(second) == Self.state(whole))
        #expect(second.optimizer.learningRate == 0.01 * 0.2)
    }

    @Test(arguments: [("c3d", "c3d"), ("r3d", "r3d_10"), ("r21d", "r21d_10")])
    func theUCF101RecipesMirrorTrainSSL(file: String, model: String) throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/iic/\(file)_ucf101.yaml")
        #expect(r.model.name == model)
        let s = try r.objective.settings(as: IICTrainingObjective.Settings.self)
        #expect(r.objective.kind == "iic" && s.modality == .res && s.neg == .repeat && s.intraNeg && s.softmax)
        #expect(s.nceK == 1024 && s.nceT == 0.07 && s.nceM == 0.5)
        #expect(r.data.frames == 16 && r.data.samplingRate == 1 && r.data.sampler == .dense)
        #expect(r.data.decodeSize == [171, 128] && r.data.crop == 112 && !r.data.flip)
        #expect(r.data.mean == [0, 0, 0] && r.data.std == [1, 1, 1])
        #expect(r.optimizer.name == .sgd && r.optimizer.lr == 0.01 && r.optimizer.momentum == 0.9)
        #expect(r.optimizer.weightDecay == 1e-4 && r.optimizer.weightDecayRule == .all)
        #expect(r.schedule.policy == .multiStep && r.schedule.milestones == [45, 90, 125, 160] && r.schedule.gamma == 0.2)
        #expect(r.training.epochs == 240 && r.training.batchSize == 16 && r.seed == 632)
        // The backbone the recipe names exists and offers IIC's retrieval features.
        var g = RandomGenerator(seed: 0)
        let backbone = try Backbones.create(model, overrides: ["width": 2], using: &g)
        #expect(backbone.hasRetrievalFeatures)
    }

    @Test func theSyntheticRecipeParsesWithTheReferenceSettings() throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/iic/synthetic_tiny.yaml")
        let s = try r.objective.settings(as: IICTrainingObjective.Settings.self)
        #expect(r.objective.kind == "iic" && s.modality == .res && s.neg == .repeat && s.intraNeg)
        // τ 0.5 instead of 0.07 keeps the tiny CNN's unnormalised features from collapsing (see the recipe).
        #expect(r.model.name == "r3d_tiny" && s.nceT == 0.5 && s.nceM == 0.5 && s.softmax)
        #expect(r.data.mean == [0, 0, 0] && r.data.std == [1, 1, 1] && r.data.sampler == .dense && !r.data.flip)
        #expect(r.optimizer.name == .sgd && r.optimizer.lr == 0.01 && r.optimizer.momentum == 0.9 && r.optimizer.weightDecay == 1e-4)
        #expect(r.optimizer.weightDecayRule == .all)

        // The fine-tuning recipe: unscaled residual input, IIC's centred test clips, logits averaged.
        let f = try Recipe(contentsOf: "\(Self.configs)/iic/synthetic_tiny_finetune.yaml")
        #expect(f.objective.kind == "supervised" && f.data.input == .residualUnscaled)
        #expect(f.optimizer.lr == 1e-3 && f.optimizer.weightDecay == 5e-4 && f.optimizer.name == .sgd)
        let views = f.testViews()
        #expect(views.sampling == .centred && views.clips == 10 && views.crops == 1 && views.aggregation == .mean)
        #expect(views.resizeShortSide == 64 && views.input == .residualUnscaled)
        #expect(r.schedule.policy == .multiStep && r.schedule.milestones == [45, 90, 125, 160] && r.schedule.gamma == 0.2)
        do {
            _ = try Self.recipe(output: "/tmp/x", overrides: ["schedule.milestones=[3, 2]"])
            Issue.record("decreasing milestones were accepted")
        } catch {
            #expect("\(error)".contains("schedule.milestones"), "\(error)")
        }
        // Reference defaults when the section names only the kind.
        let defaults = IICTrainingObjective.Settings()
        #expect(defaults.nceK == 1024 && defaults.modality == .res && defaults.neg == .repeat && defaults.intraNeg)
        #expect(throws: RecipeError.self) { _ = try Self.recipe(output: "/tmp/x", overrides: ["objective.neg=blur"]) }
        #expect(throws: RecipeError.self) { _ = try Self.recipe(output: "/tmp/x", overrides: ["objective.modality=flow"]) }
    }

    @Test func residualInputIsADataOptionForSupervisedTraining() throws {
        var data = Recipe.DataSection()
        data.train = "x.txt"
        data.mean = [0, 0, 0]
        data.std = [1, 1, 1]
        data.scaleJitter = [8, 8]
        data.crop = 8
        data.input = .residualUnscaled
        let transform = try ClipPipeline.training(data)
        var g = RandomGenerator(seed: 3)
        let decoded = Tensor.uniform([4, 3, 8, 8], using: &g)
        var clip = decoded
        var generator = RandomGenerator(seed: 0)
        try transform(&clip, &generator)
        #expect(clip.scalars == (try ClipTransforms.residual(decoded, scaling: .unscaled)).scalars)
        let r = try Recipe(yaml: TinyRun.yaml(output: "/tmp/x", kind: "supervised"), overrides: ["data.input=residual_unscaled"])
        #expect(r.data.input == .residualUnscaled && r.testViews().input == .residualUnscaled)
    }
}

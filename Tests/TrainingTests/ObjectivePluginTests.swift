import Foundation
import Testing
import TensorCore
import TemporalSSL
import VideoIO
import Training
import VideoTransformers
import _TestSupport

/// A method defined entirely in this file — settings, heads, loss, state — trains through the
/// public API with no change to Training: the proof that a new objective is one file and one
/// registry entry.
///
/// Frame reversal: half of each batch has its frames reversed; a linear head on the class
/// embedding says which (`reversal_head.*`), beside the usual classification term. A non-module
/// counter of clips seen travels through checkpoints.
final class FrameReversalObjective: TrainingObjective {
    struct Settings: RecipeSection {
        var weight = 1.0
        var labelSmoothing = 0.0
        static var fields: [RecipeField<Self>] {
            [.double("weight", \.weight, .positive), .double("label_smoothing", \.labelSmoothing, .fraction)]
        }
    }

    final class Heads: Module {
        let reversalHead: Linear
        init(width: Int, using generator: inout RandomGenerator) {
            reversalHead = Linear(inFeatures: width, outFeatures: 2, using: &generator)
        }
    }

    static let registration = Objectives.Registration(
        kind: "frame_reversal", summary: "is the clip played backwards?", settings: Settings.self
    ) { settings, context, generator in
        FrameReversalObjective(settings, width: context.backbone.embedDim, using: &generator)
    }

    /// Registers once per test process.
    static let registered: Void = { try! Objectives.register(registration) }()

    let settings: Settings
    let head: Heads
    private(set) var clipsSeen: Float = 0

    init(_ settings: Settings, width: Int, using generator: inout RandomGenerator) {
        self.settings = settings
        head = Heads(width: width, using: &generator)
    }

    var heads: Module? { head }

    func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        let b = batch.clips.shape[0], t = batch.clips.shape[1]
        let reversed = batch.clips.indexSelect(axis: 1, indices: Array((0..<t).reversed()))
        let firstHalf = b / 2
        let clips = Tensor.concat([batch.clips.slice(axis: 0, range: 0..<firstHalf),
                                   reversed.slice(axis: 0, range: firstHalf..<b)], axis: 0)
        let targets = (0..<b).map { $0 < firstHalf ? 0 : 1 }
        let cls = model.backbone.classEmbedding(clips)
        let logits = model.backbone.head(cls)
        let classification = crossEntropy(logits: logits, labels: batch.labels, labelSmoothing: Float(settings.labelSmoothing))
        let reversal = crossEntropy(logits: head.reversalHead(cls), labels: targets)
        clipsSeen += Float(b)
        return ObjectiveOutput(terms: LossTerms([("cls", classification), ("reversal", reversal * Float(settings.weight))]),
                               logits: logits)
    }

    func checkpointState() -> [(String, Tensor)] { [("clips_seen", Tensor(clipsSeen))] }

    func restoreCheckpointState(_ state: [String: Tensor]) throws {
        guard let seen = state["clips_seen"], state.count == 1 else {
            throw ObjectiveError.stateMismatch(reason: "expected clips_seen, got \(state.keys.sorted())")
        }
        clipsSeen = seen.item
    }
}

@Suite("Objective plug-in")
struct ObjectivePluginTests {
    init() { FrameReversalObjective.registered }

    static func recipe(_ output: String, _ overrides: [String] = []) throws -> Recipe {
        try Recipe(yaml: TinyRun.yaml(output: output, kind: "frame_reversal", extra: ""),
                   overrides: ["objective.weight=0.5", "train.checkpoint_every=2"] + overrides)
    }

    @Test func aTestDefinedObjectiveTrainsResumesAndWritesItsHeads() throws {
        #expect(Objectives.kinds.contains("frame_reversal"))
        let whole = try Trainer(recipe: Self.recipe(TinyRun.folder("reverse-whole")))
        var names: [String] = []
        whole.onEvent = { if case .step(let p) = $0 { names = p.terms.map(\.name) } }
        try whole.run()
        #expect(names == ["cls", "reversal"])
        #expect(whole.namedParameters().map(\.0).contains("reversal_head.weight"))
        let reverse = try #require(whole.objective as? FrameReversalObjective)
        #expect(reverse.clipsSeen == 32)  // 2 epochs × 4 steps × 4 clips

        // The written checkpoint holds the heads under their own keys and the objective's state.
        let checkpoint = try CheckpointStore.read(try CheckpointStore.resolve(whole.runDirectory))
        #expect(checkpoint.weights.contains { $0.0 == "reversal_head.bias" })
        #expect(checkpoint.objectiveState["clips_seen"]?.item == 32)
        #expect(checkpoint.recipeYAML.contains("kind: \"frame_reversal\"") && checkpoint.recipeYAML.contains("weight: 0.5"))

        // Interrupted after 3 steps and resumed from the step-2 checkpoint: the same weights.
        let cut = TinyRun.folder("reverse-cut")
        let first = try Trainer(recipe: Self.recipe(cut))
        try first.run(stopAfter: 3)
        let second = try Trainer(recipe: Self.recipe(cut), resume: cut)
        #expect(second.step == 3 && (second.objective as? FrameReversalObjective)?.clipsSeen == 12)
        try second.run()
        #expect(TinyRun.bits(second) == TinyRun.bits(whole))
    }

    @Test func registryErrorsAreTyped() throws {
        #expect(throws: ObjectiveError.duplicateKind("frame_reversal")) {
            try Objectives.register(FrameReversalObjective.registration)
        }
        #expect(throws: ObjectiveError.duplicateKind("time")) { try Objectives.register(TIMETrainingObjective.registration) }
        do {
            _ = try Self.recipe("/tmp/x", ["objective.kind=nope"])
            Issue.record("an unknown kind was accepted")
        } catch let error as RecipeError {
            #expect(error.description.contains("frame_reversal") && error.description.contains("supervised"))
        }
        // Keys belong to the objective named: TIME's weights are not the reversal objective's.
        #expect(throws: RecipeError.self) { _ = try Self.recipe("/tmp/x", ["objective.weights.order=1"]) }
    }
}

/// A backbone without patch tokens (the shape of a 3D CNN: pooled features only).
final class PooledBackbone: Module, VideoBackbone {
    let fc: Linear
    init(using generator: inout RandomGenerator) { fc = Linear(inFeatures: 3, outFeatures: 4, using: &generator) }
    var embedDim: Int { 3 }
    var frameCount: Int { 4 }
    var noWeightDecayKeys: Set<String> { [] }
    func classEmbedding(_ clip: Tensor) -> Tensor { clip.mean(axes: [1, 3, 4]) }
    func head(_ cls: Tensor) -> Tensor { fc(cls) }
}

@Suite("Backbone capabilities")
struct BackboneCapabilityTests {
    @Test func TIMEOnABackboneWithoutTokensIsATypedError() throws {
        var g = RandomGenerator(seed: 0)
        let context = ObjectiveContext(backbone: PooledBackbone(using: &g), backboneName: "pooled_cnn", classCount: 4,
                                       frames: 4, crop: 32)
        #expect(throws: ObjectiveError.needsTokens(objective: "time", backbone: "pooled_cnn")) {
            _ = try TIMETrainingObjective(.init(), context: context, using: &g)
        }
        // The supervised objective asks for the class embedding only.
        let supervised = try SupervisedObjective(.init())
        let model = try TrainingModel(backbone: context.backbone, heads: supervised.heads)
        let output = try supervised.lossTerms(
            TrainingBatch(clips: Tensor.normal([2, 4, 3, 8, 8], using: &g), labels: [0, 3]), model: model, using: &g)
        #expect(output.terms.values.map(\.name) == ["cls"] && output.logits?.shape == [2, 4])
    }

    /// A registered 3D CNN (IIC's R3D) paired with a token objective is the same typed error; the
    /// supervised objective trains it.
    @Test func aRegisteredCNNHasNoTokensButTrainsSupervised() throws {
        var g = RandomGenerator(seed: 0)
        let backbone = try Backbones.create("r3d_tiny", overrides: ["width": 2, "num_classes": 4], using: &g)
        let context = ObjectiveContext(backbone: backbone, backboneName: "r3d_tiny", classCount: 4, frames: 8, crop: 16)
        #expect(throws: ObjectiveError.needsTokens(objective: "time", backbone: "r3d_tiny")) {
            _ = try TIMETrainingObjective(.init(), context: context, using: &g)
        }
        let supervised = try SupervisedObjective(.init())
        let model = try TrainingModel(backbone: backbone, heads: supervised.heads)
        let output = try supervised.lossTerms(
            TrainingBatch(clips: Tensor.normal([2, 8, 3, 16, 16], using: &g), labels: [0, 3]), model: model, using: &g)
        #expect(output.logits?.shape == [2, 4] && output.terms.values.map(\.name) == ["cls"])
    }
}

/// A backbone whose outputs are NaN (a diverged model).
final class DivergedBackbone: Module, VideoBackbone {
    var embedDim: Int { 3 }
    var frameCount: Int { 4 }
    var noWeightDecayKeys: Set<String> { [] }
    func classEmbedding(_ clip: Tensor) -> Tensor { Tensor(repeating: .nan, shape: [clip.shape[0], 3]) }
    func head(_ cls: Tensor) -> Tensor { Tensor(repeating: .nan, shape: [cls.shape[0], 8]) }
}

@Suite("Non-finite outputs and unsuitable inputs")
struct NonFiniteOutputTests {
    @Test func NaNLogitsAreNeverScoredCorrect() throws {
        let logits = Tensor(shape: [3, 4], scalars: [.nan, .nan, .nan, .nan, 0, 1, 2, 3, 5, .infinity, 0, 0])
        let ranks = ClassificationMetrics.labelRanks(logits, labels: [0, 3, 0])
        #expect(ranks == [4, 0, 4])
        #expect(ClassificationMetrics.topKAccuracy(logits, labels: [0, 3, 0], k: 1) == 1.0 / 3)
        #expect(ClassificationMetrics.nonFiniteRows(logits) == [0, 2])
        #expect(ClassificationMetrics.perClassAccuracy(logits, labels: [0, 3, 0]) == [0, nil, nil, 1])
    }

    @Test func evaluatingADivergedModelIsRefused() throws {
        let dataset = try VideoDataset.pathLabelList(at: TinyRun.data + "/val.txt", root: TinyRun.data)
        let evaluator = Evaluator(EvaluationConfiguration(frames: 4, cropSize: 32, crops: 1, workerCount: 1))
        let error = #expect(throws: EvaluationError.self) { _ = try evaluator.evaluate(DivergedBackbone(), on: dataset) }
        guard case .nonFiniteOutputs(let videos, _)? = error else {
            Issue.record("expected nonFiniteOutputs, got \(String(describing: error))")
            return
        }
        #expect(videos == dataset.count)
    }

    @Test(arguments: [("data.frames=1", "at least 2"), ("data.crop=30", "multiple of the patch size")])
    func TIMERefusesClipsItCannotUse(override: String, message: String) throws {
        let error = #expect(throws: (any Error).self) {
            _ = try TrainingSetup(recipe: TinyRun.recipe(output: "/tmp/x", overrides: [override]))
        }
        #expect(String(describing: error.map { "\($0)" } ?? "").contains(message))
    }
}

/// Losses scripted per step (1, 1, 4e16, 4e16, NaN): a run that diverges slowly before it turns NaN.
final class ScriptedLossObjective: TrainingObjective {
    struct Settings: RecipeSection {
        static var fields: [RecipeField<Self>] { [] }
    }

    static let registered: Void = {
        try! Objectives.register(.init(kind: "scripted_loss", summary: "scripted losses", settings: Settings.self) { _, _, _ in
            ScriptedLossObjective()
        })
    }()

    static let script: [Float] = [1, 1, 4e16, 4e16, .nan]
    var steps = 0

    func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        let value = Self.script[min(steps, Self.script.count - 1)]
        return ObjectiveOutput(terms: LossTerms([("cls", model.backbone(batch.clips).mean() * 0 + Tensor(value))]))
    }

    func didStep(_ step: Int, of totalSteps: Int) { steps = step }
}

@Suite("Divergence")
struct DivergenceTests {
    @Test func theLastCheckpointOfSaneLossIsNamedAndKept() throws {
        ScriptedLossObjective.registered
        let folder = TinyRun.folder("diverging")
        let trainer = try Trainer(recipe: Recipe(yaml: TinyRun.yaml(output: folder, kind: "scripted_loss"), overrides: [
            "train.checkpoint_every=1", "train.keep_checkpoints=1", "train.eval_every=0",
        ]))
        let error = #expect(throws: TrainerError.self) { try trainer.run() }
        guard case .nonFiniteLoss(let step, _, let last)? = error else {
            Issue.record("expected a non-finite loss, got \(String(describing: error))")
            return
        }
        let store = CheckpointStore(directory: folder + "/checkpoints")
        #expect(step == 4)
        // Steps 3 and 4 were finite but 4e16: the checkpoint named is step 2's, kept despite keep 1.
        #expect(last == store.folder(step: 2))
        #expect(store.completeSteps() == [2, 4])
        #expect(try CheckpointStore.read(store.folder(step: 2)).state.meanLoss == 1)
        #expect(error?.description.contains("checkpoint-00000002") == true)
    }
}

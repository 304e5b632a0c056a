import Foundation
import Testing
import TensorCore
import Training
import VideoTransformers
import _TestSupport

/// `model.weights` through a recipe, on checkpoints written by
/// `Scripts/reference/make_pretrained_fixtures.py`: a timm ViT (safetensors and `.pth`) inflated
/// into a TimeSformer, and a facebookresearch TimeSformer `.pyth` with another class count. Every
/// loaded tensor is compared with its source after the documented mapping; resampled embeddings
/// with PyTorch's `F.interpolate` (bicubic grid, nearest frames) from the same script.
@Suite("Fine-tuning from weights")
struct FineTuningTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/pretrained/" + name, withExtension: nil)).path
    }

    static func expected(_ key: String) throws -> Tensor {
        try SafeTensors.read(contentsOf: URL(fileURLWithPath: try fixture("pretrained_expected.safetensors")))
            .tensor(named: key)
    }

    /// The TinyRun recipe (TimeSformer, embed 24, depth 1, patch 8, 32² crops) at 4 frames with `weights`.
    static func setup(_ weights: String, _ overrides: [String]) throws -> TrainingSetup {
        try TrainingSetup(recipe: TinyRun.recipe(output: TinyRun.folder("finetune"), overrides: [
            "model.weights=\(weights)", "model.overrides.num_frames=4",
        ] + overrides))
    }

    static func values(_ setup: TrainingSetup) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: setup.model.stateDict())
    }

    @Test(arguments: ["timm_vit_tiny.safetensors", "timm_vit_tiny.pth"])
    func anImageNetViTInflatesIntoTheTimeSformer(file: String) throws {
        let path = try Self.fixture(file)
        let setup = try Self.setup(path, ["model.key_map=timm-inflation"])
        let report = try #require(setup.weightReport)
        let model = Self.values(setup)
        let source = Dictionary(uniqueKeysWithValues: try Checkpoint.load(contentsOf: URL(fileURLWithPath: path)).tensors)

        // Copied by name: everything but the ImageNet head and the resampled position embedding.
        for (key, tensor) in source where !key.hasPrefix("head.") && key != "pos_embed" {
            #expect(model[key]?.scalars == tensor.scalars, "\(key)")
        }
        // Inflated: temporal attention and its norm are copies of the spatial ones; the gate and the
        // time embedding start at zero, so step 0 computes the frame-wise ViT.
        for suffix in ["qkv.weight", "qkv.bias", "proj.weight", "proj.bias"] {
            #expect(model["blocks.0.temporal_attn.\(suffix)"]?.scalars == source["blocks.0.attn.\(suffix)"]?.scalars)
        }
        #expect(model["blocks.0.temporal_norm1.weight"]?.scalars == source["blocks.0.norm1.weight"]?.scalars)
        #expect(model["blocks.0.temporal_fc.weight"]?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(model["time_embed"]?.shape == [1, 4, 24] && model["time_embed"]?.scalars.allSatisfy { $0 == 0 } == true)
        // pos_embed: 2×2 ImageNet grid → 4×4 grid, as PyTorch's bicubic interpolation.
        let pos = try #require(model["pos_embed"])
        #expect(isClose(pos, try Self.expected("vit.pos_embed"), atol: 1e-5, rtol: 1e-5))
        #expect(report.resampled == [.init(key: "pos_embed", from: [1, 5, 24], to: [1, 17, 24])])
        // The 7-class ImageNet head is dropped and reported; the 8-class head and TIME's heads start
        // from their initialisation and are listed.
        #expect(Set(report.dropped) == ["head.weight", "head.bias"])
        #expect(report.initialised.contains("head.weight") && report.initialised.contains("temp_head.weight"))
        #expect(model["head.weight"]?.shape == [8, 24])
        #expect(report.missing.isEmpty && report.unexpected.isEmpty && report.mismatched.isEmpty)
        #expect(report.description.contains("resampled (1): pos_embed [1, 5, 24] → [1, 17, 24]"))
    }

    @Test func aClassifierOfAnotherClassCountStopsTheRunUnlessSkipped() throws {
        let path = try Self.fixture("fb_timesformer_tiny.pyth")
        var refused: WeightImportError?
        do { _ = try Self.setup(path, ["model.key_map=facebook"]) } catch let e as WeightImportError { refused = e }
        let error = try #require(refused)
        #expect(error.report.mismatched.map(\.key) == ["head.weight", "head.bias"])
        #expect(error.description.contains("SHAPE MISMATCH (2): head.weight model [8, 24] checkpoint [10, 24]"))
        #expect(error.description.contains("model.skip"))

        let setup = try Self.setup(path, ["model.key_map=facebook", "model.skip=[\"head.*\"]"])
        let report = try #require(setup.weightReport)
        #expect(report.skipped == ["head.weight", "head.bias"])
        #expect(report.ignored == ["head.weight", "head.bias"])
        let model = Self.values(setup)
        let source = try Checkpoint.load(contentsOf: URL(fileURLWithPath: path)).tensors
        for (prefixed, tensor) in source {
            let key = String(prefixed.dropFirst("model.".count))
            guard !key.hasPrefix("head."), key != "time_embed" else { continue }
            #expect(model[key]?.scalars == tensor.scalars, "\(key)")
        }
        // time_embed: 2 frames → 4 frames, nearest as F.interpolate.
        #expect(isClose(try #require(model["time_embed"]), try Self.expected("fb.time_embed"), atol: 0, rtol: 0))
        #expect(report.resampled.map(\.key) == ["time_embed"])
    }

    @Test func aPrefixSelectsASubDictAndAnAbsentPrefixIsAnError() throws {
        let path = try Self.fixture("fb_timesformer_tiny.pyth")
        let setup = try Self.setup(path, ["model.prefix=model.", "model.key_map=time", "model.skip=[\"head.*\"]"])
        #expect(setup.weightReport?.loaded.contains("blocks.0.temporal_fc.weight") == true)
        #expect(throws: CheckpointError.self) { _ = try Self.setup(path, ["model.prefix=backbone."]) }
    }

    @Test func aRunsOwnCheckpointStartsAFineTuningRun() throws {
        let first = TinyRun.folder("pretrain")
        let trainer = try Trainer(recipe: TinyRun.recipe(output: first, overrides: ["train.max_steps=2"]))
        try trainer.run()
        let weights = try CheckpointStore.resolve(first) + "/model.safetensors"
        // The same objective on a new dataset: every tensor loads, heads included.
        let same = try Self.setup(weights, ["model.key_map=time", "model.overrides.num_frames=8"])
        #expect(same.weightReport?.loaded.count == trainer.model.stateDict().count)
        let trained = Dictionary(uniqueKeysWithValues: trainer.model.stateDict())
        for (key, value) in same.model.stateDict() { #expect(value.scalars == trained[key]?.scalars, "\(key)") }
        // A supervised fine-tune leaves TIME's heads behind explicitly, as configs/finetune shows.
        let supervised = try Self.setup(weights, [
            "model.key_map=time", "model.overrides.num_frames=8", "objective.kind=supervised",
            "model.skip=[\"head.*\", \"temp_head.*\", \"mlp_*\", \"flow_head.*\"]",
        ])
        #expect(supervised.weightReport?.ignored.contains("temp_head.weight") == true)
        #expect(throws: WeightImportError.self) {
            _ = try Self.setup(weights, ["model.key_map=time", "model.overrides.num_frames=8", "objective.kind=supervised"])
        }
    }
}

@Suite("Resuming a fine-tuning run")
struct FineTuneResumeTests {
    @Test func aResumedRunDoesNotNeedTheOriginalWeightsFile() throws {
        let copy = Scratch.directory("weights-copy").appendingPathComponent("vit.safetensors").path
        try FileManager.default.copyItem(atPath: try FineTuningTests.fixture("timm_vit_tiny.safetensors"), toPath: copy)
        let folder = TinyRun.folder("finetune-resume")
        let recipe = try TinyRun.recipe(output: folder, overrides: [
            "model.weights=\(copy)", "model.key_map=timm-inflation", "model.overrides.num_frames=4", "train.eval_every=0",
        ])
        let first = try Trainer(recipe: recipe)
        try first.run(stopAfter: 2)
        try FileManager.default.removeItem(atPath: copy)
        let resumed = try Trainer(recipe: recipe, resume: folder)
        #expect(resumed.step == 2 && resumed.setup.weightReport == nil)
        #expect(TinyRun.bits(resumed) == TinyRun.bits(first))
    }
}

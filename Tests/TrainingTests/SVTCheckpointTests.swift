import Foundation
import Testing
import _TestSupport
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// SVT's released checkpoint layouts (written at tiny sizes with exactly the released keys by
/// `Scripts/reference/make_svt_checkpoint_fixtures.py`) load into our SVT and fine-tuning trees.
@Suite struct SVTCheckpointTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/svt_checkpoints/" + name, withExtension: nil)).path
    }

    static let expected: [String: Tensor] = {
        let url = Bundle.module.url(forResource: "Fixtures/svt_checkpoints/expected", withExtension: "safetensors")!
        return Dictionary(uniqueKeysWithValues: try! SafeTensors.read(contentsOf: url).floatTensors())
    }()

    static func recipe(kind: String, weights: String, keyMap: String, output: String) throws -> Recipe {
        try Recipe(yaml: """
        model:
          name: svt_tiny_8x64
          overrides: {embed_dim: 16, depth: 1, num_heads: 2, patch_size: 8, img_size: 16}
          weights: \(weights)
          key_map: \(keyMap)
        data: {root: \(TinyRun.data), train: train.txt, frames: 8, decode_size: [32, 32], crop: 16, scale_jitter: [16, 20], workers: 1}
        objective:
          kind: \(kind)
        \(kind == "svt" ? "  out_dim: 64\n  hidden_dim: 32\n  bottleneck_dim: 8\n  views: {global_size: 16, local_size: 8}" : "")
        train: {epochs: 1, batch_size: 4}
        output_dir: \(output)
        """)
    }

    static func values(_ setup: TrainingSetup) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: setup.model.stateDict().map { ($0.0, $0.1.scalars) })
    }

    @Test(arguments: ["released_flat.pth", "released_teacher.pth", "training.pth"])
    func releasedLayoutsLoadIntoTheSVTTree(file: String) throws {
        let setup = try TrainingSetup(recipe: Self.recipe(
            kind: "svt", weights: Self.fixture(file), keyMap: "svt", output: TinyRun.folder("svt-load")))
        let report = try #require(setup.weightReport)
        #expect(report.isAcceptable && report.unexpected.isEmpty)
        let values = Self.values(setup)
        // The released file is the teacher; a training checkpoint's teacher is the one taken.
        var compared = 0
        for (key, tensor) in Self.expected where !key.hasPrefix("student.") && key != "center" {
            #expect(values[key] == tensor.scalars, "\(key)")
            compared += 1
        }
        #expect(compared > 30)
        #expect(report.loaded.count == compared)
        // The teacher copy and the centre start from the model (the teacher takes the student at step 1).
        #expect(report.initialised.contains("dino_loss.center") && report.initialised.contains("teacher.cls_token"))
    }

    @Test func theBackboneAloneLoadsForFineTuning() throws {
        let setup = try TrainingSetup(recipe: Self.recipe(
            kind: "supervised", weights: Self.fixture("released_flat.pth"), keyMap: "svt-backbone",
            output: TinyRun.folder("svt-ft")))
        let report = try #require(setup.weightReport)
        #expect(report.isAcceptable)
        #expect(Set(report.initialised) == ["head.weight", "head.bias"])
        #expect(report.dropped.contains("head.last_layer.weight_v") || report.dropped.contains("backbone.head.last_layer.weight_v")
                || report.dropped.contains { $0.hasSuffix("head.last_layer.weight_v") })
        let values = Self.values(setup)
        for (key, tensor) in Self.expected where !key.hasPrefix("student.") && !key.hasPrefix("head.") && key != "center" {
            #expect(values[key] == tensor.scalars, "\(key)")
        }
    }

    @Test func aDINOImageViTInflatesWithCopiedOrFreshTemporalAttention() throws {
        // An image ViT's keys under DINO's `backbone.` prefix, with a DINO head that is dropped.
        var image: [(String, Tensor)] = []
        for (key, tensor) in Self.expected where !key.hasPrefix("student.") && key != "center" && key != "time_embed"
            && !key.contains("temporal_") {
            image.append(("backbone." + key, tensor))
        }
        let config = try Backbones.transformerConfig("svt_tiny_8x64", overrides: [
            "embed_dim": .int(16), "depth": .int(1), "num_heads": .int(2), "patch_size": .int(8), "img_size": .int(16)])
        let copied = try KeyMaps.apply("dino-inflation", to: image, context: KeyMapContext(config: config))
        #expect(copied.tensor(named: "blocks.0.temporal_attn.qkv.weight")?.scalars
                == Self.expected["blocks.0.attn.qkv.weight"]!.scalars)
        #expect(copied.tensor(named: "blocks.0.temporal_fc.weight")?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(copied.tensor(named: "time_embed")?.shape == [1, 8, 16])
        #expect(copied.dropped.contains("backbone.head.mlp.0.weight"))
        let fresh = try KeyMaps.apply("dino-inflation-random-temporal", to: image, context: KeyMapContext(config: config))
        #expect(fresh.tensor(named: "blocks.0.temporal_attn.qkv.weight") == nil)
        #expect(fresh.initialised.contains("blocks.*.temporal_attn.*"))
        // Loaded into a TimeSformer, the fresh temporal attention keeps the model's own start.
        var generator = RandomGenerator(seed: 1)
        let model = TimeSformer(config, using: &generator)
        let before = model.stateDict().first { $0.0 == "blocks.0.temporal_attn.qkv.weight" }!.1.scalars
        let (report, assignments) = WeightImport.plan(fresh, for: model, mayInitialise: { $0.hasPrefix("head.") })
        #expect(report.isAcceptable, "\(report)")
        try model.loadStateDict(assignments, strict: false)
        #expect(model.stateDict().first { $0.0 == "blocks.0.temporal_attn.qkv.weight" }!.1.scalars == before)
        #expect(model.stateDict().first { $0.0 == "blocks.0.attn.qkv.weight" }!.1.scalars
                == Self.expected["blocks.0.attn.qkv.weight"]!.scalars)
    }

    @Test func ourTeacherExportsToTheReleasedLayoutAndLoadsBack() throws {
        let folder = TinyRun.folder("svt-export")
        let trainer = try Trainer(recipe: SVTObjectiveTests.recipe(output: folder))
        try trainer.run(stopAfter: 2)
        let weights = try #require(trainer.lastCheckpoint) + "/model.safetensors"
        let saved = try SafeTensors.read(contentsOf: URL(fileURLWithPath: weights)).floatTensors()
        let teacher = saved.filter { $0.0.hasPrefix("teacher.") }.map { (String($0.0.dropFirst(8)), $0.1) }
        let exported = try KeyMaps.apply("svt-export", to: teacher, context: KeyMapContext(config: trainer.setup.config))
        // The released file's key names, exactly (its sizes differ: it is written at other widths).
        let released = try Checkpoint.load(contentsOf: URL(fileURLWithPath: Self.fixture("released_flat.pth"))).names
        #expect(Set(exported.names) == Set(released))
        let file = folder + "/teacher_release_layout.safetensors"
        try SafeTensors.write(exported.tensors, to: URL(fileURLWithPath: file))
        // Loaded back with the `svt` map, the student of a new run starts from that teacher.
        var recipe = try SVTObjectiveTests.recipe(output: TinyRun.folder("svt-reload"))
        recipe.model.weights = file
        recipe.model.keyMap = "svt"
        let setup = try TrainingSetup(recipe: recipe)
        #expect(setup.weightReport?.isAcceptable == true)
        let reloaded = Dictionary(uniqueKeysWithValues: setup.model.stateDict().map { ($0.0, $0.1.scalars) })
        for (key, tensor) in teacher { #expect(reloaded[key] == tensor.scalars, "\(key)") }
    }
}

/// SVT's slow-fast inference: the mean of a slow and a fast clip's class embeddings.
@Suite struct SlowFastFeaturesTests {
    @Test func eachVideosFeatureIsTheMeanOfItsSlowAndFastEmbeddings() throws {
        var generator = RandomGenerator(seed: 4)
        let model = try Backbones.create("svt_tiny_8x64", overrides: [
            "embed_dim": .int(16), "depth": .int(1), "num_heads": .int(2), "patch_size": .int(8), "img_size": .int(32),
            "num_frames": .int(4)], using: &generator)
        let dataset = try VideoDataset.pathLabelList(at: TinyRun.data + "/val.txt", root: TinyRun.data)
        let slow = EvaluationConfiguration(frames: 4, cropSize: 32, frameSize: FrameSize(width: 32, height: 32),
                                           crops: 1, aggregation: .mean)
        let pair = SlowFastFeatures(slow, fastFrames: 8, fastCrop: 16)
        #expect(pair.fast.frames == 8 && pair.fast.cropSize == 16 && pair.slow.cropSize == 32)
        let both = try pair.outputs(of: model, on: dataset)
        let s = try Evaluator(pair.slow).outputs(of: model, on: dataset, kind: .classEmbedding)
        let f = try Evaluator(pair.fast).outputs(of: model, on: dataset, kind: .classEmbedding)
        #expect(both.videoIndices == s.videoIndices && both.labels == s.labels && both.values.shape == [dataset.count, 16])
        let expected = (s.values + f.values) * 0.5
        #expect(maxAbsDifference(both.values, expected) < 1e-6)
        // The two clips see different embeddings (time 4→8 frames, grid 4×4→2×2): the rows differ.
        #expect(maxAbsDifference(s.values, f.values) > 1e-3)
    }
}

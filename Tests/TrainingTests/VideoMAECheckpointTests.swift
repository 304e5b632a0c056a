import Foundation
import Testing
import _TestSupport
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// VideoMAE's and VideoMS's repository checkpoints and the Hugging Face layout, written at tiny
/// sizes with the real key names by `Scripts/reference/make_videomae_checkpoint_fixtures.py`.
@Suite struct VideoMAECheckpointTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/videomae_checkpoints/" + name, withExtension: nil)).path
    }

    static let tiny = "{embed_dim: 24, depth: 2, num_heads: 2, img_size: 32, patch_size: 8, num_frames: 8, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2}"

    static func recipe(kind: String, weights: String, keyMap: String, output: String, overrides: [String] = []) throws -> Recipe {
        try Recipe(yaml: """
        model:
          name: videomae_tiny_16x112
          overrides: \(tiny)
          weights: \(weights)
          key_map: \(keyMap)
        data: {root: \(TinyRun.data), train: train.txt, frames: 8, decode_size: [32, 32], crop: 32, scale_jitter: [32, 36], workers: 1}
        objective: {kind: \(kind)}
        train: {epochs: 1, batch_size: 4}
        output_dir: \(output)
        """, overrides: overrides)
    }

    static let golden: [String: Tensor] = {
        let url = Bundle.module.url(forResource: "videomae_golden", withExtension: "safetensors", subdirectory: "Fixtures")!
        return Dictionary(uniqueKeysWithValues: try! SafeTensors.read(contentsOf: url).floatTensors())
    }()

    @Test func aPretrainingCheckpointLoadsEncoderAndDecoderForMorePretraining() throws {
        let setup = try TrainingSetup(recipe: Self.recipe(
            kind: "videomae", weights: Self.fixture("pretrain.pth"), keyMap: "videomae", output: TinyRun.folder("mae-load")))
        let report = try #require(setup.weightReport)
        #expect(report.isAcceptable && report.initialised.isEmpty, "\(report)")
        let values = Dictionary(uniqueKeysWithValues: setup.model.stateDict().map { ($0.0, $0.1.scalars) })
        var compared = 0
        for (key, tensor) in Self.golden where !key.hasPrefix("input") && !key.hasPrefix("output") && !key.hasPrefix("grad")
            && !key.hasPrefix("mask.") && !key.hasPrefix("mcm") && !key.hasPrefix("table") && key != "loss" {
            let ours = key.hasPrefix("encoder.") ? String(key.dropFirst(8)) : key
            #expect(values[ours] == tensor.scalars, "\(key)")
            compared += 1
        }
        #expect(compared == report.loaded.count && compared > 40)
    }

    @Test func aPretrainingCheckpointStartsFineTuningAsTheReferenceScriptDoes() throws {
        let setup = try TrainingSetup(recipe: Self.recipe(
            kind: "supervised", weights: Self.fixture("pretrain.pth"), keyMap: "videomae-encoder",
            output: TinyRun.folder("mae-ft")))
        let report = try #require(setup.weightReport)
        #expect(report.isAcceptable, "\(report)")
        #expect(Set(report.initialised) == ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
        #expect(report.dropped.contains("encoder.norm.weight") && report.dropped.contains("mask_token"))
    }

    @Test(arguments: [("finetune.pth", "videomae"), ("hf_videomae.safetensors", "hf-videomae")])
    func fineTunedWeightsGiveTheReferenceLogits(file: String, keyMap: String) throws {
        var config = try #require(try Backbones.config("videomae_tiny_16x112", overrides: [
            "embed_dim": .int(24), "depth": .int(2), "num_heads": .int(2), "img_size": .int(32), "patch_size": .int(8),
            "num_frames": .int(8), "num_classes": .int(5)]) as? VideoMAEConfig)
        config.useMeanPooling = true
        var generator = RandomGenerator(seed: 0)
        let model = VideoMAEViT(config, using: &generator)
        let report = try WeightImport.load(WeightSource(path: Self.fixture(file), keyMap: keyMap), into: model, config: config)
        #expect(report.isAcceptable && report.initialised.isEmpty, "\(report)")
        let url = try #require(Bundle.module.url(forResource: "Fixtures/videomae_checkpoints/expected_logits", withExtension: "safetensors"))
        let expected = try SafeTensors.read(contentsOf: url)
        model.eval()
        let clip = try expected.tensor(named: "input.clip").permuted([0, 2, 1, 3, 4])
        let logits = noGrad { model(clip) }
        // Hugging Face's fc_norm uses eps 1e-5 where the reference uses 1e-6 (4.7e-6 apart here).
        #expect(maxAbsDifference(logits, try expected.tensor(named: "logits.reference")) < 2e-5)
    }

    @Test func layerDecayScalesEachBlockAsVideoMAE() throws {
        let setup = try TrainingSetup(recipe: Self.recipe(
            kind: "supervised", weights: Self.fixture("pretrain.pth"), keyMap: "videomae-encoder",
            output: TinyRun.folder("mae-ld"), overrides: ["optimizer.layer_decay=0.75"]))
        var scales: [String: Double] = [:]
        for group in setup.optimizer.parameterGroups { for (key, _) in group.parameters { scales[key] = group.learningRateScale } }
        // depth 2: embeddings 0.75^3, block i 0.75^(2 − i), fc_norm and head 1.
        #expect(abs(scales["patch_embed.proj.weight"]! - pow(0.75, 3)) < 1e-12)
        #expect(abs(scales["blocks.0.attn.qkv.weight"]! - pow(0.75, 2)) < 1e-12)
        #expect(abs(scales["blocks.1.mlp.fc2.bias"]! - 0.75) < 1e-12)
        #expect(scales["fc_norm.weight"] == 1 && scales["head.weight"] == 1)
        #expect(setup.optimizer.parameterGroups.count >= 4)
    }
}

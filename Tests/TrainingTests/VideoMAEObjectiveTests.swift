import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// VideoMAE / VideoMS pre-training through the trainer on the tiny synthetic dataset.
@Suite struct VideoMAEObjectiveTests {
    static func recipe(output: String, masking: String, overrides: [String] = []) throws -> Recipe {
        try Recipe(yaml: """
        model:
          name: videomae_tiny_16x112
          overrides: {embed_dim: 24, depth: 2, num_heads: 2, img_size: 32, patch_size: 8, num_frames: 8, decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2}
        data: {root: \(TinyRun.data), train: train.txt, frames: 8, decode_size: [32, 32], crop: 32, scale_jitter: [32, 36], workers: 1}
        objective: {kind: videomae, masking: \(masking), mask_ratio: 0.75, reconstructions_every: 1}
        optimizer: {name: adamw, lr: 1.0e-3, betas: [0.9, 0.95], weight_decay: 0.05}
        schedule: {policy: iteration_cosine, warmup_epochs: 1}
        train: {epochs: 2, batch_size: 4, checkpoint_every: 100}
        seed: 2
        output_dir: \(output)
        """, overrides: overrides)
    }

    @Test(arguments: ["tube", "random", "motion_centric"])
    func pretrainingRunsResumesExactlyAndWritesReconstructions(masking: String) throws {
        let whole = try Trainer(recipe: Self.recipe(output: TinyRun.folder("mae-whole-\(masking)"), masking: masking))
        #expect(whole.setup.config.numClasses == 0)
        #expect((whole.backbone as? VideoMAEViT)?.norm != nil)
        try whole.run()
        let png = whole.runDirectory + "/reconstructions/epoch-1.png"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let cut = TinyRun.folder("mae-cut-\(masking)")
        let recipe = try Self.recipe(output: cut, masking: masking, overrides: ["train.checkpoint_every=3"])
        try Trainer(recipe: recipe).run(stopAfter: 3)
        let resumed = try Trainer(recipe: recipe, resume: cut)
        try resumed.run()
        #expect(TinyRun.bits(resumed) == TinyRun.bits(whole))
    }

    @Test func maskingThatLeavesNothingToSeeOrReconstructIsRefused() throws {
        #expect(throws: ObjectiveError.self) {
            try Trainer(recipe: Self.recipe(output: TinyRun.folder("mae-bad"), masking: "motion_centric",
                                            overrides: ["objective.motion_centric_ratio=0.99"]))
        }
        // The objective needs a VideoMAE backbone.
        var generator = RandomGenerator(seed: 0)
        let other = try Backbones.create("timesformer_tiny_8x112", using: &generator)
        let section = try Self.recipe(output: TinyRun.folder("mae-bad2"), masking: "tube").objective
        #expect(throws: ObjectiveError.self) {
            try Objectives.make(section, context: ObjectiveContext(
                backbone: other, backboneName: "timesformer_tiny_8x112", classCount: 0, frames: 8, crop: 112),
                using: &generator)
        }
    }

    @Test func fineTuningSelectionKeepsTheMostMovingTokensDeterministically() throws {
        var config = VideoMAEConfig(embedDim: 24, depth: 1, numHeads: 2, imgSize: 32, numFrames: 8)
        config.patchSize = 8
        config.mcmRatio = 0.4
        var generator = RandomGenerator(seed: 1)
        let model = VideoMAEViT(config, using: &generator)
        let clip = Tensor.normal([2, 8, 3, 32, 32], using: &generator)
        let chosen = model.selectedTokens(model.patchEmbeddings(clip))
        #expect(chosen.allSatisfy { $0.count == Int(0.6 * 64) && $0 == $0.sorted() })
        #expect(model.selectedTokens(model.patchEmbeddings(clip)) == chosen)
        model.eval()
        #expect(noGrad { model.classEmbedding(clip) }.shape == [2, 24])
    }

    @Test func headDropoutActsInTrainingModeOnly() throws {
        var generator = RandomGenerator(seed: 2)
        let model = try Backbones.create("videomae_tiny_16x112", overrides: [
            "img_size": .int(32), "patch_size": .int(8), "embed_dim": .int(24), "depth": .int(1), "num_heads": .int(2),
            "num_frames": .int(4), "num_classes": .int(5), "fc_drop_rate": .double(0.5)], using: &generator)
        guard let mae = model as? VideoMAEViT, let classifier = mae.classifier, let dropout = mae.fcDropout else {
            Issue.record("fc_drop_rate 0.5 built no fc_dropout")
            return
        }
        #expect(dropout.probability == 0.5)
        let features = Tensor.normal([64, 24], using: &generator)
        let plain = noGrad { classifier(features) }
        model.train()
        var stream = dropout.generator
        let dropped = noGrad { mae.head(features) }
        // The classifier of the dropped-out features, drawn from the layer's own stream.
        let want = noGrad { classifier(features.dropout(probability: 0.5, training: true, using: &stream)) }
        #expect(dropped == want)
        #expect(maxAbsDifference(dropped, plain) > 1e-3, "dropout changed nothing in training mode")
        model.eval()
        #expect(noGrad { mae.head(features) } == plain)
        var unchanged = RandomGenerator(seed: 2)
        let without = try Backbones.create("videomae_tiny_16x112", overrides: [
            "img_size": .int(32), "patch_size": .int(8), "embed_dim": .int(24), "depth": .int(1), "num_heads": .int(2),
            "num_frames": .int(4), "num_classes": .int(5)], using: &unchanged)
        #expect((without as? VideoMAEViT)?.fcDropout == nil)
        #expect(throws: BackboneConfigError.self) {
            var g = RandomGenerator(seed: 0)
            _ = try Backbones.create("videomae_tiny_16x112", overrides: ["fc_drop_rate": .double(1.0)], using: &g)
        }
    }

    @Test func softmaxAveragingOfViewsGivesProbabilities() throws {
        var generator = RandomGenerator(seed: 3)
        let model = try Backbones.create("timesformer_tiny_8x112", overrides: [
            "img_size": .int(32), "patch_size": .int(8), "embed_dim": .int(24), "depth": .int(1), "num_heads": .int(2),
            "num_frames": .int(4), "num_classes": .int(8)], using: &generator)
        let dataset = try VideoDataset.pathLabelList(at: TinyRun.data + "/val.txt", root: TinyRun.data)
        let views = EvaluationConfiguration(frames: 4, cropSize: 32, frameSize: FrameSize(width: 32, height: 32),
                                            sampling: .dense(interval: 1), clips: 2, crops: 3, aggregation: .softmaxMean)
        let out = try Evaluator(views).outputs(of: model, on: dataset)
        for row in 0..<out.values.shape[0] {
            let sum = out.values.slice(axis: 0, range: row..<(row + 1)).sum().scalars[0]
            #expect(abs(sum - 1) < 1e-5)
        }
    }
}

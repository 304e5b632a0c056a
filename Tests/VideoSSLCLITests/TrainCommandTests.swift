import Foundation
import _TestSupport
import Testing
import VideoIO

/// `videossl train` on a generated 8-class dataset with a one-block TimeSformer.
@Suite("videossl train")
final class TrainCommandTests {
    let folder = Scratch.directory("videossl-train")

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SyntheticDataset.write(to: folder.path, configuration: .init(
            width: 32, height: 32, frameCount: 4, fps: 4, trainVideosPerClass: 1, valVideosPerClass: 0, seed: 2))
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func printsTheMemoryEstimateBeforeTheFirstStep() throws {
        let recipe = folder.appendingPathComponent("recipe.yaml").path
        try """
            model:
              name: timesformer_tiny_8x112
              overrides: {depth: 1, img_size: 32, num_frames: 4, num_classes: 8, embed_dim: 24, num_heads: 2, patch_size: 8}
            data:
              root: \(folder.path)
              train: train.txt
              frames: 4
              decode_size: [32, 32]
              scale_jitter: [32, 36]
              crop: 32
              workers: 1
            train:
              epochs: 1
              batch_size: 4
              max_steps: 1
            output_dir: \(folder.path)/run
            """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let result = try runVideoSSL(["train", "--config", recipe])
        #expect(result.status == 0, "\(result.output)")
        let estimate = try #require(result.output.range(of: "memory estimate for a training step:"), "\(result.output)")
        let step = try #require(result.output.range(of: "step 1/1"), "\(result.output)")
        #expect(estimate.lowerBound < step.lowerBound)
        for text in ["per clip", "per batch of 4", "parameters", "gradients", "optimizer state", "in all"] {
            #expect(result.output.contains(text), "missing '\(text)' in\n\(result.output)")
        }
    }
}

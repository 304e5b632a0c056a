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

    @Test func validatesKeepsTheRunFolderAndEvaluatesTheBestCheckpointAsTheREADMEShows() throws {
        let data = folder.appendingPathComponent("with-val").path
        try SyntheticDataset.write(to: data, configuration: .init(
            width: 32, height: 32, frameCount: 4, fps: 4, trainVideosPerClass: 1, valVideosPerClass: 1, seed: 4))
        let recipe = folder.appendingPathComponent("recipe-val.yaml").path
        let run = folder.path + "/run-val"
        try """
            model:
              name: timesformer_tiny_8x112
              overrides: {depth: 1, img_size: 32, num_frames: 4, embed_dim: 24, num_heads: 2, patch_size: 8}
            data: {root: /nonexistent, train: train.txt, val: val.txt, classes: classes.txt, frames: 4,
                   decode_size: [32, 32], scale_jitter: [32, 36], crop: 32, workers: 1}
            objective: {kind: supervised}
            train: {epochs: 2, batch_size: 4, eval_every: 1}
            eval: {crops: 1}
            output_dir: \(run)
            """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let first = try runVideoSSL(["train", "--config", recipe, "data.root=\(data)"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("validation (val.txt):") && first.output.contains("top1"), "\(first.output)")
        #expect(first.output.contains("best checkpoint: \(run)/checkpoints/best (val_top1"), "\(first.output)")
        let epochs = try String(contentsOfFile: run + "/epochs.csv", encoding: .utf8)
        #expect(epochs.split(separator: "\n").count == 3 && epochs.contains("val_top1"))

        let again = try runVideoSSL(["train", "--config", recipe, "data.root=\(data)"])
        #expect(again.status != 0 && again.output.contains("already holds a run"), "\(again.output)")
        let resumed = try runVideoSSL(["train", "--resume", run, "train.epochs=3"])
        #expect(resumed.status == 0 && resumed.output.contains("writing to \(run)"), "\(resumed.output)")
        // The resumed run's table lists the earlier epochs' validations too.
        let table = try #require(resumed.output.components(separatedBy: "validation (val.txt):").last)
        let rows = table.split(separator: "\n").filter { line in
            let cells = line.split(separator: " ")
            return cells.count > 3 && Int(cells[0]) != nil && Int(cells[1]) != nil
        }
        #expect(rows.count == 3, "\(table)")  // epochs 0 and 1 from the first process, 2 from this one
        #expect(try String(contentsOfFile: run + "/epochs.csv", encoding: .utf8).split(separator: "\n").count == 4)

        // README: `videossl eval --config RECIPE data.root=… --weights RUN/checkpoints/best/model.safetensors`.
        let eval = try runVideoSSL(["eval", "--config", recipe, "data.root=\(data)", "--weights",
                                    run + "/checkpoints/best/model.safetensors", "--crops", "1", "--workers", "1"])
        #expect(eval.status == 0 && eval.output.contains("loaded:"), "\(eval.output)")
        let overwritten = try runVideoSSL(["train", "--config", recipe, "data.root=\(data)", "--overwrite"])
        #expect(overwritten.status == 0, "\(overwritten.output)")
    }
}

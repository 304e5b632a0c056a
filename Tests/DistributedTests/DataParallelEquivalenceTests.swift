import Foundation
import XCTest
import _TestSupport

/// `mpirun -np 2 videossl train` with batch B per rank against one process with batch B and
/// accumulation 2, for the supervised, TIME and SVT objectives.
///
/// The two runs are the same computation up to the order of floating-point additions: every
/// batch goes through the same forward pass (same batch size, one compute thread, draws from the
/// batch's own streams), rank r takes batches 2k + r of the epoch, which the single process takes
/// as micro-batches 1 and 2 of step k, and the two gradients are summed and halved — by the
/// accumulator in one, by MPI_SUM and × 0.5 in the other. SVT's centre takes the same summed
/// teacher rows either way. The one difference: the accumulator adds micro-batch 2's gradient
/// contributions one by one onto micro-batch 1's total, while MPI adds two complete gradients,
/// so a parameter used in several places (a bias shared by heads, a weight shared by views)
/// rounds differently in the last bit. Measured after 6–8 steps at lr 1e-3: weights differ by at
/// most 4e-7 (10–16% of the values differ at all) and the logged losses agree to 1e-7 relative.
/// The tolerance, 1e-5 absolute on weights and relative on losses, leaves 25× headroom for other
/// CPUs' kernel choices while failing on any real mistake (a per-iteration schedule counting the
/// wrong steps, or SVT's centre fed twice, moved weights by 1e-2 and 8e-4 here).
final class DataParallelEquivalenceTests: XCTestCase {
    static func recipe(kind: String, folder: String) throws -> String {
        let body: String
        switch kind {
        case "svt":
            body = """
                model:
                  name: svt_tiny_8x64
                  overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2, drop_path_rate: 0.1}
                data:
                  root: \(MPIRun.data)
                  train: train.txt
                  frames: 8
                  decode_size: [32, 32]
                  sampler: uniform
                  workers: 1
                objective:
                  kind: svt
                  out_dim: 32
                  hidden_dim: 16
                  bottleneck_dim: 8
                  teacher_momentum: 0.9
                  freeze_last_layer: 1
                  views: {global_frames: [4, 8], local_frames: [2, 2, 4], global_size: 32, local_size: 16}
                optimizer: {name: adamw, lr: 1.0e-3, weight_decay: 0.04}
                schedule: {policy: iteration_cosine, warmup_epochs: 1, end_lr: 1.0e-6, weight_decay_end: 0.4}
                train: {epochs: 2, batch_size: 2, clip_grad_per_tensor: 3.0, checkpoint_every: 100, max_steps: 6}
                """
        case "videomae":
            body = """
                model:
                  name: videomae_tiny_16x112
                  overrides: {img_size: 32, patch_size: 8, num_frames: 4, embed_dim: 24, depth: 1, num_heads: 2,
                              decoder_embed_dim: 16, decoder_depth: 1, decoder_num_heads: 2}
                data: {root: \(MPIRun.data), train: train.txt, frames: 4, decode_size: [32, 32], scale_jitter: [32, 36],
                       crop: 32, sampler: uniform, workers: 1}
                objective: {kind: videomae, masking: tube, mask_ratio: 0.75, normalize_target: true, reconstructions_every: 1}
                optimizer: {name: adamw, lr: 1.0e-3, betas: [0.9, 0.95], weight_decay: 0.05}
                schedule: {policy: iteration_cosine, warmup_epochs: 1, warmup_start_lr: 0, end_lr: 1.0e-5}
                train: {epochs: 2, batch_size: 2, checkpoint_every: 100, max_steps: 6}
                """
        default:
            body = """
                model:
                  name: timesformer_tiny_8x112
                  overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2, drop_path_rate: 0.1}
                data:
                  root: \(MPIRun.data)
                  train: train.txt
                  frames: 4
                  decode_size: [32, 32]
                  scale_jitter: [32, 36]
                  crop: 32
                  workers: 1
                objective:
                  kind: \(kind)
                optimizer:
                  lr: 1.0e-3
                  weight_decay: 0.05
                schedule:
                  policy: cosine
                train:
                  epochs: 2
                  batch_size: 2
                  checkpoint_every: 100
                  clip_grad_norm: 1.0
                  max_steps: 6
                """
        }
        let path = folder + "/\(kind).yaml"
        try (body + "\nseed: 11\noutput_dir: \(folder)/unused\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func check(_ kind: String) throws {
        let launch = try MPIRun.launch(2)
        let folder = Scratch.directory("mpi-\(kind)").path
        let recipe = try Self.recipe(kind: kind, folder: folder)
        let videossl = try MPIRun.videossl()
        let single = folder + "/single", ranks = folder + "/ranks"
        try MPIRun.run([videossl, "train", "--config", recipe, "--distributed", "off", "--threads", "1",
                    "train.accumulation=2", "output_dir=\(single)"])
        let output = try MPIRun.run(launch + [videossl, "train", "--config", recipe, "--threads", "1", "output_dir=\(ranks)"])
        XCTAssertTrue(output.contains("2 processes (2 on this machine), 1 threads each"), output)
        // Rank 0 alone prints: one header line, not two.
        XCTAssertEqual(output.components(separatedBy: "objective \(kind)").count - 1, 1, output)

        let a = try MPIRun.losses(single), b = try MPIRun.losses(ranks)
        XCTAssertEqual(a.keys.sorted(), Array(1...6))
        XCTAssertEqual(b.keys.sorted(), Array(1...6))
        for step in 1...6 {
            XCTAssertEqual(a[step]!, b[step]!, accuracy: 1e-5 * max(1, abs(a[step]!)), "\(kind) loss at step \(step)")
        }
        // The loss moved: the runs trained, not merely started from the same weights.
        XCTAssertNotEqual(a[1]!, a[6]!)
        let difference = try MPIRun.weightDifference(single, ranks)
        XCTAssertEqual(difference.steps.0, 6)
        XCTAssertEqual(difference.steps.1, 6)
        XCTAssertGreaterThan(difference.count, 1000)
        XCTAssertLessThanOrEqual(difference.maxDifference, 1e-5, "\(kind): largest weight difference")
        if kind == "videomae" {
            // Rank 0 alone writes the objective's files: one image per epoch, as one process does.
            let images = try FileManager.default.contentsOfDirectory(atPath: ranks + "/reconstructions").sorted()
            XCTAssertEqual(images, try FileManager.default.contentsOfDirectory(atPath: single + "/reconstructions").sorted())
            XCTAssertEqual(images, ["epoch-0.png", "epoch-1.png"])
        }
    }

    func testSupervisedTwoRanksEqualOneProcessWithAccumulationTwo() throws { try check("supervised") }
    func testTIMETwoRanksEqualOneProcessWithAccumulationTwo() throws { try check("time") }
    func testSVTTwoRanksEqualOneProcessWithAccumulationTwo() throws { try check("svt") }
    /// VideoMAE keeps no state across ranks; each batch's masks come from its own stream.
    func testVideoMAETwoRanksEqualOneProcessWithAccumulationTwo() throws { try check("videomae") }
}

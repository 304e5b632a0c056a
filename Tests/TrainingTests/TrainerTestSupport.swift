import Foundation
import _TestSupport
import TensorCore
import Training
import VideoIO

/// A tiny synthetic dataset (8 classes, 2 training videos each, 32×32, lossless) written once per
/// test process, and tiny recipes over it.
enum TinyRun {
    static let data: String = {
        FFmpegLogLevel.set(.error)
        let root = Scratch.directory("trainer-data").path
        _ = try! SyntheticDataset.write(to: root, configuration: SyntheticDataset.Configuration(
            width: 32, height: 32, frameCount: 8, trainVideosPerClass: 2, valVideosPerClass: 1, codec: .ffv1, seed: 3))
        return root
    }()

    /// A fresh, empty run folder.
    static func folder(_ name: String) -> String {
        Scratch.directory("trainer-\(name)").path
    }

    /// Recipe YAML for a one-block TimeSformer on 4 frames of 32×32 with 8×8 patches.
    static func yaml(output: String, kind: String = "time", extra: String = "") -> String {
        """
        model:
          name: timesformer_tiny_8x112
          overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2, drop_path_rate: 0.1}
        data:
          root: \(data)
          train: train.txt
          val: val.txt
          frames: 4
          decode_size: [32, 32]
          scale_jitter: [32, 36]
          crop: 32
          workers: 1
        objective:
          kind: \(kind)
        optimizer:
          lr: 1.0e-3
          amsgrad: true
        schedule:
          policy: constant
        train:
          epochs: 2
          batch_size: 4
          checkpoint_every: 100
        seed: 7
        output_dir: \(output)
        \(extra)
        """
    }

    static func recipe(output: String, kind: String = "time", overrides: [String] = []) throws -> Recipe {
        try Recipe(yaml: yaml(output: output, kind: kind), overrides: overrides)
    }

    /// Every parameter's bits, by key.
    static func bits(_ trainer: Trainer) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: trainer.namedParameters().map { ($0.0, $0.1.value.scalars.map(\.bitPattern)) })
    }
}

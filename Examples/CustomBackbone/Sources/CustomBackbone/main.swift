// Adds a backbone of this package's own to VideoSSL and uses it by name with the whole command set.
//
// With arguments, this program *is* `videossl` plus `factorised_tiny` / `factorised_small`:
//   .build/release/CustomBackbone train --config my.yaml      (model.name: factorised_tiny)
//   .build/release/CustomBackbone infer --help                (lists the registered names)
// Without arguments, it runs the worked example: synthetic videos, TIME training of
// `factorised_tiny` through `videossl train`, the shuffled-frame Gap through `videossl eval`, and a
// checkpoint in this package's own legacy layout converted with the key map it registers.
import Foundation
import TensorCore
import VideoIO
import VideoSSLCommands
import VideoTransformers

// 1. Register the family's variants and a key map for its older checkpoints (keys under `net.`).
do {
    let build: @Sendable (FactorisedConfig, inout RandomGenerator) -> any VideoBackbone = { config, generator in
        FactorisedTransformer(config, using: &generator)
    }
    try Backbones.register([
        "factorised_tiny": .init(family: "factorised", config: FactorisedConfig(), build: build),
        "factorised_small": .init(family: "factorised", config: FactorisedConfig(embedDim: 96, depth: 4, numHeads: 4),
                                  build: build),
    ])
    try KeyMaps.register("factorised-legacy") { tensors, _ in CheckpointKeyMaps.stripPrefix("net.", from: tensors) }
} catch {
    print("error: \(error)")
    exit(1)
}

// 2. With arguments: the whole `videossl` command set, with the registered names in it.
if CommandLine.arguments.count > 1 {
    VideoSSLCommand.main()
    exit(0)
}

// 3. The worked example.
FFmpegLogLevel.set(.error)
let work = FileManager.default.currentDirectoryPath + "/.build/example-run"
try? FileManager.default.removeItem(atPath: work)
let data = work + "/data", run = work + "/run", recipe = work + "/factorised_time.yaml"
print("writing synthetic videos to \(data) …")
_ = try SyntheticDataset.write(to: data, configuration: SyntheticDataset.Configuration(
    width: 32, height: 32, frameCount: 8, trainVideosPerClass: 8, valVideosPerClass: 2, seed: 0))
try """
    # TIME on the registered backbone, by name.
    model:
      name: factorised_tiny
      overrides: {img_size: 32, patch_size: 8, embed_dim: 48, depth: 2, num_heads: 3}
    data: {root: \(data), train: train.txt, val: val.txt, subsets: subsets.json, classes: classes.txt,
           frames: 8, decode_size: [32, 32], scale_jitter: [32, 36], crop: 32, workers: 1}
    objective: {kind: time, label_smoothing: 0.1}
    optimizer: {lr: 1.0e-3}
    schedule: {policy: cosine, warmup_epochs: 1}
    train: {epochs: 24, batch_size: 8, clip_grad_norm: 1.0, eval_every: 8, log_every: 32}
    eval: {crops: 1, shuffled: true}
    output_dir: \(run)
    """.write(toFile: recipe, atomically: true, encoding: .utf8)

print("\n== videossl train: registered backbone factorised_tiny, objective time ==")
VideoSSLCommand.main(["train", "--config", recipe])

print("\n== videossl eval --shuffled: factorised_tiny's best checkpoint ==")
let best = run + "/checkpoints/best/model.safetensors"
VideoSSLCommand.main(["eval", "--config", recipe, "--weights", best, "--shuffled", "--crops", "1", "--workers", "1"])

// 4. A checkpoint in the family's legacy layout converts through its registered key map.
let legacy = work + "/legacy.safetensors"
let weights = try SafeTensors.read(contentsOf: URL(fileURLWithPath: best))
try SafeTensors.write(try weights.floatTensors().map { ("net." + $0.0, $0.1) }, to: URL(fileURLWithPath: legacy))
print("\n== videossl convert --key-map factorised-legacy ==")
VideoSSLCommand.main(["convert", "--input", legacy, "--output", work + "/converted.safetensors",
                      "--key-map", "factorised-legacy", "--model", "factorised_tiny",
                      "--set", "img_size=32", "--set", "num_classes=8"])
let converted = try SafeTensors.read(contentsOf: URL(fileURLWithPath: work + "/converted.safetensors"))
guard try converted.floatTensors().map(\.0) == weights.floatTensors().map(\.0) else {
    print("error: the converted checkpoint's keys differ from the original's")
    exit(1)
}
print("\nfactorised_tiny: trained, evaluated and converted by its registered name")

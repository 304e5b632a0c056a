import ArgumentParser
import Foundation
import Training
import VideoIO

/// `videossl bg-challenge`: top-1 on every Backgrounds Challenge variant and the BG-Gap.
struct BackgroundsChallengeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bg-challenge",
        abstract: "Accuracy on each Backgrounds Challenge variant (ImageNet-9 layout) and the BG-Gap.",
        discussion: """
            --root holds one folder per variant (original, only_fg, only_bg_b, only_bg_t, no_fg, \
            mixed_same, mixed_rand, mixed_next), each with class folders directly or under val/; labels \
            are the sorted class folders of original. Each image is one view: short side resized to \
            --size, centre crop, normalised with --mean/--std. BG-Gap = top-1(mixed_same) − \
            top-1(mixed_rand). Example (a run of image-time-demo):

              videossl bg-challenge --model vit_tiny_patch8_32 --set num_classes=4 \\
                  --weights runs/image-time-demo/seed0/image_time/checkpoints/<step>/model.safetensors \\
                  --root runs/image-time-demo/data/bg_challenge --size 32 --json bg.json
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var weightsOptions: WeightsOptions

    @Option(help: "The Backgrounds Challenge folder.")
    var root: String

    @Option(help: "Crop side the model sees (ImageNet-9: 224).")
    var size = 224

    @Option(help: "Variants to evaluate, comma-separated (default: every one present).")
    var variants: String?

    @Option(help: "Per-channel mean, comma-separated (TIME: 0.5,0.5,0.5).")
    var mean: ListOption<Float>?

    @Option(help: "Per-channel standard deviation, comma-separated (TIME: 0.5,0.5,0.5).")
    var std: ListOption<Float>?

    @Option(help: "Write the report to this JSON file.")
    var json: String?

    func run() throws {
        FFmpegLogLevel.set(.error)
        let challenge = try BackgroundsChallenge(root: root)
        var chosen: [BackgroundsChallenge.Variant]?
        if let variants {
            chosen = try variants.split(separator: ",").map { name in
                guard let v = BackgroundsChallenge.Variant(rawValue: String(name)) else {
                    throw ValidationError("unknown variant '\(name)'; known: "
                        + BackgroundsChallenge.Variant.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return v
            }
        }
        let mean = self.mean?.values ?? [0.5, 0.5, 0.5], std = self.std?.values ?? [0.5, 0.5, 0.5]
        guard mean.count == 3, std.count == 3 else { throw ValidationError("--mean and --std take three values") }
        let (model, _) = try weightsOptions.loadModel(modelOptions)
        print("classes: \(challenge.classNames.joined(separator: ", "))")
        let report = try BackgroundsChallengeReport.evaluate(model, on: challenge, variants: chosen, cropSize: size,
                                                             mean: mean, std: std)
        print(report.table)
        if let json {
            try report.json().write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}

import ArgumentParser
import Foundation
import VideoIO

/// `videossl make-synthetic`: writes the temporal/static synthetic video dataset, or with
/// `--images` the synthetic Backgrounds Challenge.
struct MakeSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-synthetic",
        abstract: "Write a small labelled video dataset whose classes need either time or appearance.",
        discussion: """
            Writes videos/, train.txt and val.txt (`path label` lists), classes.txt and subsets.json under --output.

            With --images, writes a synthetic Backgrounds Challenge instead (PNG, --size pixels square): \
            shapes name the classes, backgrounds match the class in --correlation of the training images; \
            train/ and train_bg/ (each image without its shape), train.txt (`path label background`), \
            val.txt, classes.txt and bg_challenge/<variant>/val/<class>/ for original, only_fg, only_bg_b, \
            only_bg_t, no_fg, mixed_same, mixed_rand and mixed_next (--val-per-class images each).
            """)

    @Flag(help: "Write the synthetic Backgrounds Challenge (images) instead of videos.")
    var images = false

    @Option(help: "With --images: the number of classes (shapes), 2 to 6.")
    var classes = 4

    @Option(help: "With --images: the fraction of training images whose background matches their class.")
    var correlation = 0.9

    @Option(help: "With --images: the most clutter objects (of no class) in a background.")
    var distractors = 0

    @Option(help: "The dataset folder (created if missing).")
    var output: String

    @Option(help: "Frame width and height in pixels.")
    var size: Int = 64

    @Option(help: "Frames per video.")
    var frames: Int = 16

    @Option(help: "Training videos per class.")
    var perClass: Int = 16

    @Option(help: "Validation videos per class.")
    var valPerClass: Int = 4

    @Option(help: "Seed of every video.")
    var seed: UInt64 = 0

    @Option(help: "The backdrop: noise (gray pixel noise), smooth (a low-frequency gray wave) or plain (flat gray).")
    var background: String = "noise"

    func validate() throws {
        if images {
            guard size >= 16 else { throw ValidationError("--size must be at least 16 with --images") }
            guard (2...SyntheticBackgrounds.shapeNames.count).contains(classes) else {
                throw ValidationError("--classes must be 2 to \(SyntheticBackgrounds.shapeNames.count)")
            }
            guard (0...1).contains(correlation) else { throw ValidationError("--correlation must be in [0, 1]") }
            guard distractors >= 0 else { throw ValidationError("--distractors must not be negative") }
        }
        guard size >= 8 && size % 2 == 0 else { throw ValidationError("--size must be even and at least 8") }
        guard frames >= 2 else { throw ValidationError("--frames must be at least 2") }
        guard perClass >= 1 && valPerClass >= 0 else { throw ValidationError("--per-class must be at least 1") }
        guard SyntheticDataset.Configuration.Background(rawValue: background) != nil else {
            throw ValidationError("--background must be noise, smooth or plain, not \(background)")
        }
    }

    func run() throws {
        FFmpegLogLevel.set(.error)
        if images {
            let summary = try SyntheticBackgrounds.write(to: output, configuration: .init(
                size: size, classCount: classes, trainImagesPerClass: perClass, testImagesPerClass: valPerClass,
                correlation: correlation, seed: seed, distractors: distractors))
            print("wrote \(classes) classes × (\(perClass) train + \(valPerClass) per test variant) images to \(output)")
            print("classes: \(summary.classNames.joined(separator: ", ")); challenge: \(summary.challengeRoot)")
            return
        }
        var configuration = SyntheticDataset.Configuration(
            width: size, height: size, frameCount: frames, trainVideosPerClass: perClass,
            valVideosPerClass: valPerClass, seed: seed)
        configuration.background = SyntheticDataset.Configuration.Background(rawValue: background) ?? .noise
        let summary = try SyntheticDataset.write(to: output, configuration: configuration)
        let temporal = summary.classNames.filter { summary.subsets[$0] == .temporal }
        print("wrote \(summary.classNames.count) classes × (\(perClass) train + \(valPerClass) val) videos to \(output)")
        print("temporal classes: \(temporal.joined(separator: ", "))")
        print("lists: \(summary.trainList), \(summary.valList)")
    }
}

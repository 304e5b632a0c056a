import ArgumentParser
import Foundation
import VideoIO

/// `videossl make-synthetic`: writes the temporal/static synthetic video dataset.
struct MakeSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-synthetic",
        abstract: "Write a small labelled video dataset whose classes need either time or appearance.",
        discussion: "Writes videos/, train.txt and val.txt (`path label` lists), classes.txt and subsets.json under --output.")

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
        guard size >= 8 && size % 2 == 0 else { throw ValidationError("--size must be even and at least 8") }
        guard frames >= 2 else { throw ValidationError("--frames must be at least 2") }
        guard perClass >= 1 && valPerClass >= 0 else { throw ValidationError("--per-class must be at least 1") }
        guard SyntheticDataset.Configuration.Background(rawValue: background) != nil else {
            throw ValidationError("--background must be noise, smooth or plain, not \(background)")
        }
    }

    func run() throws {
        FFmpegLogLevel.set(.error)
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

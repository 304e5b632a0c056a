import ArgumentParser

/// The `videossl` command set, as a library: a program that registers backbones, objectives or key
/// maps of its own gets every subcommand with them by calling this after registering, since a Swift
/// binary cannot load another package's code at run time.
///
/// ```swift
/// import VideoSSLCommands
/// import VideoTransformers
///
/// try Backbones.register("mynet_tiny", Backbones.Variant(family: "mynet", config: MyNetConfig()) { c, g in
///     MyNet(c, using: &g)
/// })
/// VideoSSLCommand.main()   // `mytool train --config …`, `mytool eval --model mynet_tiny …`
/// ```
///
/// Listings (`--help`, error messages) are computed when a command is first parsed, so names
/// registered before ``main()`` appear in them.
public struct VideoSSLCommand: ParsableCommand {
    /// The subcommands: `decode`, `flow`, `infer`, `convert`, `train`, `eval`, `extract-features`,
    /// `knn`, `linear-probe`, `retrieve`, `bg-challenge`, `make-synthetic`, `demo`, `image-time-demo`, `bench`.
    public static let configuration = CommandConfiguration(
        commandName: "videossl",
        abstract: "Self-supervised video transformers on the CPU.",
        version: "0.1.0",
        subcommands: [
            DecodeCommand.self, FlowCommand.self, InferCommand.self, ConvertCommand.self, TrainCommand.self,
            EvalCommand.self, ExtractFeaturesCommand.self, KNNCommand.self, LinearProbeCommand.self, RetrieveCommand.self,
            BackgroundsChallengeCommand.self, MakeSyntheticCommand.self, DemoCommand.self, SVTDemoCommand.self,
            VideoMAEDemoCommand.self, IICDemoCommand.self, ImageTIMEDemoCommand.self, BenchCommand.self,
        ])

    /// The root command (it only dispatches to its subcommands).
    public init() {}
}

/// `WxH` as given on the command line.
struct SizeOption: ExpressibleByArgument {
    var width: Int
    var height: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        (width, height) = (w, h)
    }
}

/// A comma-separated list of numbers.
struct ListOption<Element: LosslessStringConvertible>: ExpressibleByArgument {
    var values: [Element]

    init?(argument: String) {
        let parsed = argument.split(separator: ",").map { Element(String($0.trimmingCharacters(in: .whitespaces))) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        values = parsed.map { $0! }
    }
}

import Foundation

import ArgumentParser

@main
struct VideoSSLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videossl",
        abstract: "Self-supervised video transformers on the CPU.",
        version: "0.1.0",
        subcommands: [
            DecodeCommand.self, FlowCommand.self, InferCommand.self, ConvertCommand.self, TrainCommand.self,
            EvalCommand.self, ExtractFeaturesCommand.self, MakeSyntheticCommand.self, DemoCommand.self,
            BenchCommand.self,
        ])
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

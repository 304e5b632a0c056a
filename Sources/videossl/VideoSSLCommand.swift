import ArgumentParser
import TensorCore
import Training

@main
struct VideoSSLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videossl",
        abstract: "Self-supervised video transformers on the CPU.",
        version: "0.1.0")
}

import ArgumentParser
import Foundation
import Testing
import TensorCore
import VideoSSLCommands
import VideoTransformers

/// The command set as a library: a backbone registered by the program before parsing appears in
/// the `--help` listings and in the error that lists valid names, and commands build it by name.
@Suite("Registered backbones in the command set")
struct RegisteredBackboneCLITests {
    static let name = "cli_registered_vit_test"

    static let registered: Void = {
        try! Backbones.register(name, .init(
            family: "vit",
            config: TransformerConfig(embedDim: 16, depth: 1, numHeads: 2, patchSize: 8, numFrames: 1, imgSize: 16,
                                      numClasses: 4)) { config, generator in VisionTransformer(config, using: &generator) })
    }()

    /// The `--help` text of the subcommand `arguments` parse to.
    static func help(_ arguments: [String]) throws -> String {
        let command = try VideoSSLCommand.parseAsRoot(arguments)
        return VideoSSLCommand.helpMessage(for: type(of: command))
    }

    @Test func helpAndErrorsListTheRegisteredName() throws {
        Self.registered
        let help = try Self.help(["infer", "--model", Self.name, "--input", "x", "--output", "y"])
        #expect(help.contains(Self.name) && help.contains("Models:"), "\(help)")
        var command = try VideoSSLCommand.parseAsRoot(["infer", "--model", "no_such_net", "--input", "x", "--output", "y"])
        let error = #expect(throws: (any Error).self) { try command.run() }
        #expect("\(error.map { String(describing: $0) } ?? "")".contains(Self.name))
    }

    @Test func commandsBuildTheRegisteredBackboneByName() throws {
        Self.registered
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("registered-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var g = RandomGenerator(seed: 1)
        let input = folder.appendingPathComponent("clip.safetensors"), output = folder.appendingPathComponent("out.safetensors")
        try SafeTensors.write([("clip", Tensor.normal([2, 1, 3, 16, 16], using: &g))], to: input)
        var command = try VideoSSLCommand.parseAsRoot(["infer", "--model", Self.name, "--input", input.path,
                                                       "--output", output.path])
        try command.run()
        let logits = try SafeTensors.read(contentsOf: output).tensor(named: "logits")
        #expect(logits.shape == [2, 4])
    }
}

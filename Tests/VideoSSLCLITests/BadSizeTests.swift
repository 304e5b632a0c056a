import Foundation
import Testing
import TensorCore
import VideoIO
import _TestSupport

/// Sizes, counts and shapes from the outside world are checked before anything is allocated or run:
/// each case ends with exit status 1 or 64 and a message naming the limit, never a signal.
@Suite("Bad sizes from the command line")
final class BadSizeTests {
    let folder = Scratch.directory("bad-sizes")

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SyntheticDataset.write(to: folder.path, configuration: .init(
            width: 32, height: 32, frameCount: 4, fps: 4, trainVideosPerClass: 1, valVideosPerClass: 1, seed: 5))
    }

    let model = ["--model", "timesformer_tiny_8x112", "--set", "img_size=32", "--set", "patch_size=8", "--set", "depth=1",
                 "--set", "embed_dim=24", "--set", "num_heads=2"]

    func clip(_ shape: [Int]) throws -> String {
        let path = folder.appendingPathComponent("clip-\(shape.map(String.init).joined(separator: "x")).safetensors")
        try SafeTensors.write([("clip", Tensor(zeros: shape))], to: path)
        return path.path
    }

    func expectRefused(_ arguments: [String], saying text: String) throws {
        let result = try runVideoSSL(arguments)
        #expect(result.status == 1 || result.status == 64, "status \(result.status): \(result.output)")
        #expect(result.output.contains(text), "\(result.output)")
    }

    @Test func inferRefusesClipsTheModelCannotTake() throws {
        let out = folder.appendingPathComponent("out.safetensors").path
        for (shape, text) in [([1, 4, 3, 20, 32], "not a multiple"), ([1, 4, 3, 4, 4], "not a multiple"),
                              ([0, 4, 3, 32, 32], "is empty"), ([1, 0, 3, 32, 32], "is empty"),
                              ([1, 4, 1, 32, 32], "[B, T, 3, H, W]")] {
            try expectRefused(["infer"] + model + ["--input", try clip(shape), "--output", out], saying: text)
        }
    }

    @Test func evalAndDecodeRefuseSizesBeyondTheirLimits() throws {
        let list = folder.path + "/val.txt"
        try expectRefused(["eval"] + model + ["--list", list, "--root", folder.path, "--size", "30"], saying: "8-pixel patches")
        try expectRefused(["eval"] + model + ["--list", list, "--root", folder.path, "--frames", "100000"], saying: "exceeds 1024")
        let firstLine = try #require(try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").first)
        let video = folder.path + "/" + String(try #require(firstLine.split(separator: " ").first))
        try expectRefused(["decode", "--input", video, "--indices", "0", "--size", "65536x65536",
                           "--output", folder.appendingPathComponent("f.safetensors").path], saying: "16384 pixels a side")
    }
}

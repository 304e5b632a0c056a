import Foundation
import _TestSupport
import Testing
import TensorCore
import VideoIO

/// Runs the built `videossl` executable (it sits next to the test bundle) on generated inputs.
@Suite("videossl command line")
struct CommandLineTests {
    let folder = Scratch.directory("videossl-cli")

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runVideoSSL(arguments)
    }

    /// A lossless 6-frame video of a textured pattern moving 2 px right per frame.
    private func movingTexture() throws -> String {
        let path = folder.appendingPathComponent("moving.mkv").path
        let (w, h) = (64, 48)
        var generator = RandomGenerator(seed: 1)
        let texture = (0..<(w * h)).map { _ in UInt8(generator.nextInt(below: 256)) }
        let writer = try VideoWriter(path: path, width: w, height: h, fps: 25, codec: .ffv1)
        for t in 0..<6 {
            var rgb = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    let v = texture[y * w + ((x - 2 * t) % w + w) % w]
                    for c in 0..<3 { rgb[(y * w + x) * 3 + c] = v }
                }
            }
            try writer.append(rgb: rgb)
        }
        try writer.finish()
        return path
    }

    @Test func decodeWritesTheRequestedFramesInOrder() throws {
        let video = try movingTexture()
        let out = folder.appendingPathComponent("frames.safetensors").path
        let result = try run(["decode", "--input", video, "--indices", "4,0,2", "--output", out])
        #expect(result.status == 0, "\(result.output)")
        let file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: out))
        let frames = try file.uint8s(named: "frames")
        #expect(frames.shape == [3, 48, 64, 3])
        let reader = try VideoReader(path: video)
        #expect(Array(frames.values[0..<(48 * 64 * 3)]) == (try reader.frame(at: 4)).pixels)
    }

    @Test func flowFindsTheRightwardMotion() throws {
        let video = try movingTexture()
        let out = folder.appendingPathComponent("flow.safetensors").path
        let pngs = folder.appendingPathComponent("png").path
        let result = try run(["flow", "--input", video, "--patch", "16", "--output", out, "--png", pngs])
        #expect(result.status == 0, "\(result.output)")
        let file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: out))
        let flow = try file.tensor(named: "flow")
        #expect(flow.shape == [5, 48, 64, 2])
        // Interior mean displacement ≈ (2, 0) px.
        var dx: Float = 0, dy: Float = 0, n: Float = 0
        for t in 0..<5 { for y in 12..<36 { for x in 16..<48 {
            dx += flow[t, y, x, 0]; dy += flow[t, y, x, 1]; n += 1
        } } }
        #expect(Swift.abs(dx / n - 2) < 0.1 && Swift.abs(dy / n) < 0.1, "mean flow (\(dx / n), \(dy / n))")
        let labels = try file.integers(named: "labels")
        #expect(labels.shape == [5, 12])
        #expect(Set(labels.values).isSubset(of: [0, 1, 8]), "rightward motion is labelled 1 or 8 (or static)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: pngs).count == 5)
    }

    @Test func inferRunsARegisteredBackbone() throws {
        var generator = RandomGenerator(seed: 3)
        let clipPath = folder.appendingPathComponent("clip.safetensors")
        try SafeTensors.write([("clip", Tensor.normal([1, 2, 3, 32, 32], using: &generator))], to: clipPath)
        let out = folder.appendingPathComponent("out.safetensors").path
        let result = try run(["infer", "--model", "timesformer_tiny_8x112", "--set", "depth=1", "--set", "img_size=32",
                              "--set", "num_frames=2", "--input", clipPath.path, "--output", out])
        #expect(result.status == 0, "\(result.output)")
        let file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: out))
        #expect(try file.tensor(named: "logits").shape == [1, 174])
        #expect(try file.tensor(named: "tokens").shape == [1, 2, 4, 192])
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let missing = try run(["flow", "--input", "/nonexistent.mp4", "--output", "/tmp/x.safetensors"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("/nonexistent.mp4"))
        let unknown = try run(["infer", "--model", "no_such_model", "--input", "a", "--output", "b"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("timesformer_tiny_8x112"), "lists the valid models: \(unknown.output)")
    }
}

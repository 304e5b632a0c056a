import ArgumentParser
import Foundation
import TensorCore
import VideoIO

/// `videossl decode`: the frames the loader would see, as a tensor file or PNGs.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode chosen frames of a video exactly (by index or time) to safetensors or PNGs.")

    @Option(help: "The video file.")
    var input: String

    @Option(help: "Frame indices in presentation order, e.g. 0,7,15.")
    var indices: ListOption<Int>?

    @Option(help: "Timestamps in seconds, e.g. 0.5,1.0 (the frame on screen at each time).")
    var times: ListOption<Double>?

    @Option(help: "Resize while decoding, WxH.")
    var size: SizeOption?

    @Option(help: "OUT.safetensors (UInt8 tensor `frames` [K, H, W, 3]) or a folder for PNGs.")
    var output: String

    func validate() throws {
        guard (indices == nil) != (times == nil) else {
            throw ValidationError("give exactly one of --indices and --times")
        }
    }

    func run() throws {
        let reader = try VideoReader(path: input)
        let wanted = try indices?.values ?? times!.values.map { try reader.frameIndex(atTime: $0) }
        let frames = try reader.frames(at: wanted, size: size.map { FrameSize(width: $0.width, height: $0.height) })
        guard let first = frames.first else { return }
        let url = URL(fileURLWithPath: output)
        if output.hasSuffix(".safetensors") {
            let bytes = frames.flatMap(\.pixels)
            try SafeTensors.write(
                arrays: [("frames", .uint8(bytes, shape: [frames.count, first.height, first.width, 3]))],
                metadata: ["source": input, "indices": wanted.map(String.init).joined(separator: ",")], to: url)
            print("wrote \(frames.count) frames of \(first.width)×\(first.height) to \(output)")
        } else {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for frame in frames {
                let file = url.appendingPathComponent(String(format: "frame_%06d.png", frame.index))
                try PNGEncoder.writeRGB(width: frame.width, height: frame.height, pixels: frame.pixels, to: file)
            }
            print("wrote \(frames.count) PNG frames to \(output)/")
        }
    }
}

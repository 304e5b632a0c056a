import ArgumentParser
import Foundation
import TensorCore
import VideoIO

/// `videossl flow`: Farneback flow and TIME flow-direction labels for a video or gray frames.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Dense optical flow (OpenCV's Farneback, TIME's parameters) and TIME's 9-class patch labels.",
        discussion: """
            For a video, every frame is decoded (resized with --size), normalised to [-1, 1] and turned \
            into TIME's gray image (0.299 R + 0.587 G + 0.114 B, ×128). A .safetensors input must hold \
            Float32 gray frames `frames` [T, H, W], used as given. Writes `flow` [T-1, H, W, 2] (dx, dy \
            in pixels) and `labels` [T-1, N] (int64, patches row-major).
            """)

    @Option(help: "A video file, or FRAMES.safetensors with Float32 `frames` [T, H, W].")
    var input: String

    @Option(help: "Resize video frames while decoding, WxH.")
    var size: SizeOption?

    @Option(help: "Patch side for the labels.")
    var patch: Int = 16

    @Option(help: "OUT.safetensors")
    var output: String

    @Option(help: "Also write colour-coded flow PNGs into this folder.")
    var png: String?

    func run() throws {
        let frames = try loadGrayFrames()
        guard frames.count >= 2 else {
            throw ValidationError("\(input): at least two frames are needed, found \(frames.count)")
        }
        let labeler = FlowDirectionLabels(patchSize: patch)
        var flowValues: [Float] = [], labels: [Int] = []
        var flows: [FlowField] = []
        for t in 0..<(frames.count - 1) {
            let flow = try OpticalFlow.farneback(previous: frames[t], next: frames[t + 1], parameters: labeler.parameters)
            flowValues += flow.vectors
            labels += try labeler.labels(for: flow)
            flows.append(flow)
        }
        let (w, h) = (frames[0].width, frames[0].height)
        let pairs = frames.count - 1
        try SafeTensors.write(
            arrays: [
                ("flow", .float32(Tensor(shape: [pairs, h, w, 2], scalars: flowValues))),
                ("labels", .int64(labels, shape: [pairs, labels.count / pairs])),
            ],
            metadata: ["source": input, "patch": String(patch)], to: URL(fileURLWithPath: output))
        print("wrote flow [\(pairs), \(h), \(w), 2] and labels [\(pairs), \(labels.count / pairs)] to \(output)")
        if let png {
            let folder = URL(fileURLWithPath: png)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var largest: Float = 0
            for flow in flows {
                for i in 0..<(w * h) {
                    let (dx, dy) = (flow.vectors[2 * i], flow.vectors[2 * i + 1])
                    largest = Swift.max(largest, (dx * dx + dy * dy).squareRoot())
                }
            }
            for (t, flow) in flows.enumerated() {
                try PNGEncoder.writeRGB(width: w, height: h, pixels: FlowVisualization.rgb(flow, maxMagnitude: largest),
                                        to: folder.appendingPathComponent(String(format: "flow_%04d.png", t)))
            }
            print("wrote \(flows.count) flow PNGs to \(png)/ (hue: direction, brightness: magnitude up to \(largest) px)")
        }
    }

    private func loadGrayFrames() throws -> [GrayImage] {
        if input.hasSuffix(".safetensors") {
            let frames = try SafeTensors.read(contentsOf: URL(fileURLWithPath: input)).tensor(named: "frames")
            guard frames.rank == 3 else {
                throw ValidationError("\(input): `frames` must be [T, H, W], got \(frames.shape)")
            }
            let (t, h, w) = (frames.shape[0], frames.shape[1], frames.shape[2])
            let values = frames.scalars
            return try (0..<t).map { i in
                try GrayImage(width: w, height: h, pixels: Array(values[(i * h * w)..<((i + 1) * h * w)]))
            }
        }
        let reader = try VideoReader(path: input)
        let clip = try reader.clip(at: Array(0..<reader.frameCount),
                                   size: size.map { FrameSize(width: $0.width, height: $0.height) })
        // [T, H, W, 3] in 0…1 → TIME's normalisation (x − 0.5) / 0.5 as [T, 3, H, W].
        let normalised = ((clip - 0.5) / 0.5).permuted([0, 3, 1, 2])
        return try FlowDirectionLabels.grayFrames(clip: normalised)
    }
}

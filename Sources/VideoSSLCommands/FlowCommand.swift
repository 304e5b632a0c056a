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
        let source = try GrayFrameSource(input: input, size: size.map { FrameSize(width: $0.width, height: $0.height) })
        guard source.count >= 2 else {
            throw InputError(description: "\(input): at least two frames are needed, found \(source.count)")
        }
        let labeler = FlowDirectionLabels(patchSize: patch)
        let (w, h) = (source.width, source.height)
        let pairs = source.count - 1
        let patches = (h / patch) * (w / patch)
        // One frame pair at a time: memory does not grow with the video's length. Flow streams into
        // the output file; the (much smaller) labels wait in a scratch file and follow it.
        let writer = try SafeTensorsStreamWriter(
            url: URL(fileURLWithPath: output),
            arrays: [("flow", .float32, [pairs, h, w, 2]), ("labels", .int64, [pairs, patches])],
            metadata: ["source": input, "patch": String(patch)])
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("videossl-flow-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: scratch.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let labelFile = try FileHandle(forWritingTo: scratch)
        var largest: Float = 0
        var previous = try source.frame(0)
        for t in 1...pairs {
            let next = try source.frame(t)
            let flow = try OpticalFlow.farneback(previous: previous, next: next, parameters: labeler.parameters)
            let labels = try labeler.labels(for: flow)
            try writer.append(flow.vectors.withUnsafeBytes { Data($0) })
            try labelFile.write(contentsOf: labels.map { Int64($0).littleEndian }.withUnsafeBytes { Data($0) })
            if png != nil {
                for i in 0..<(w * h) {
                    let (dx, dy) = (flow.vectors[2 * i], flow.vectors[2 * i + 1])
                    largest = Swift.max(largest, (dx * dx + dy * dy).squareRoot())
                }
            }
            previous = next
        }
        try labelFile.close()
        let labelsIn = try FileHandle(forReadingFrom: scratch)
        while let chunk = try labelsIn.read(upToCount: 1 << 22), !chunk.isEmpty { try writer.append(chunk) }
        try labelsIn.close()
        try writer.finish()
        print("wrote flow [\(pairs), \(h), \(w), 2] and labels [\(pairs), \(patches)] to \(output)")
        if let png { try writePNGs(to: png, pairs: pairs, width: w, height: h, maxMagnitude: largest) }
    }

    /// Colour-coded flow PNGs, one per frame pair, read back pair by pair from the output file and
    /// scaled to the video's largest motion.
    private func writePNGs(to folderPath: String, pairs: Int, width w: Int, height h: Int, maxMagnitude: Float) throws {
        let folder = URL(fileURLWithPath: folderPath)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: output))
        defer { try? file.close() }
        let lengthBytes = try file.read(upToCount: 8) ?? Data()
        let headerLength = lengthBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        let pairBytes = w * h * 2 * MemoryLayout<Float>.size
        for t in 0..<pairs {
            try file.seek(toOffset: 8 + headerLength + UInt64(t * pairBytes))
            let data = try file.read(upToCount: pairBytes) ?? Data()
            let vectors = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let flow = try FlowField(width: w, height: h, vectors: vectors)
            try PNGEncoder.writeRGB(width: w, height: h, pixels: FlowVisualization.rgb(flow, maxMagnitude: maxMagnitude),
                                    to: folder.appendingPathComponent(String(format: "flow_%04d.png", t)))
        }
        print("wrote \(pairs) flow PNGs to \(folderPath)/ (hue: direction, brightness: magnitude up to \(maxMagnitude) px)")
    }
}

/// TIME's gray frames one at a time, from a video (decoded on demand) or a safetensors tensor.
private struct GrayFrameSource {
    let count: Int, width: Int, height: Int
    private let frameAt: (Int) throws -> GrayImage

    init(input: String, size: FrameSize?) throws {
        if input.hasSuffix(".safetensors") {
            let frames = try SafeTensors.read(contentsOf: URL(fileURLWithPath: input)).tensor(named: "frames")
            guard frames.rank == 3 else {
                throw InputError(description: "\(input): `frames` must be [T, H, W], got \(frames.shape)")
            }
            let (t, h, w) = (frames.shape[0], frames.shape[1], frames.shape[2])
            (count, height, width) = (t, h, w)
            let values = frames.scalars
            frameAt = { i in try GrayImage(width: w, height: h, pixels: Array(values[(i * h * w)..<((i + 1) * h * w)])) }
            return
        }
        let reader = try VideoReader(path: input)
        let target = size ?? FrameSize(width: reader.metadata.width, height: reader.metadata.height)
        (count, width, height) = (reader.frameCount, target.width, target.height)
        frameAt = { i in
            // [1, H, W, 3] in 0…1 → TIME's normalisation (x − 0.5) / 0.5 as [1, 3, H, W].
            let clip = try reader.clip(at: [i], size: target)
            return try FlowDirectionLabels.grayFrames(clip: ((clip - 0.5) / 0.5).permuted([0, 3, 1, 2]))[0]
        }
    }

    func frame(_ index: Int) throws -> GrayImage { try frameAt(index) }
}

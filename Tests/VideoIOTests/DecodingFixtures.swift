import Foundation
import VideoIO

/// Synthetic test videos written at test time, so decode checks compare against known pixels.
enum Fixture {
    static let width = 64
    static let height = 48

    /// Frame `k` of the synthetic pattern: red carries the index, green and blue vary with position
    /// and index, so any swapped, repeated or shifted frame differs in many pixels.
    static func pattern(_ k: Int, width: Int = width, height: Int = height) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * 3
                pixels[o] = UInt8((k * 8) % 256)
                pixels[o + 1] = UInt8((x * 4 + k * 3) % 256)
                pixels[o + 2] = UInt8((y * 5 + k * 7) % 256)
            }
        }
        return pixels
    }

    /// A fresh directory for one test's files.
    static func directory() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("videoio-tests-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The container that suits a codec (FFV1 is not allowed in MP4).
    static func fileExtension(for codec: VideoCodecChoice) -> String {
        codec == .ffv1 ? "mkv" : "mp4"
    }

    /// Writes `frames` pattern frames and returns the path.
    static func write(
        frames: Int = 30, codec: VideoCodecChoice = .bestLossless, maxBFrames: Int = 0,
        keyframeInterval: Int = 10, pts: [Int64]? = nil, rotation: Int = 0,
        extension ext: String? = nil, frame: (Int) -> [UInt8] = { pattern($0) }
    ) throws -> String {
        let path = directory().appendingPathComponent("video.\(ext ?? fileExtension(for: codec))").path
        let writer = try VideoWriter(
            path: path, width: width, height: height, fps: 30, codec: codec, maxBFrames: maxBFrames,
            keyframeInterval: keyframeInterval, rotation: rotation)
        for k in 0..<frames {
            try writer.append(rgb: frame(k), pts: pts?[k])
        }
        try writer.finish()
        return path
    }
}

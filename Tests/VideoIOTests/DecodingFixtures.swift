import Foundation
import _TestSupport
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

    /// The source frame that lossy decoded pixels show, read from the mean red level (which the
    /// pattern sets to `8 k` everywhere, `k < 32`), and the mean absolute error to that frame.
    static func identify(_ pixels: [UInt8]) -> (index: Int, error: Double) {
        var red = 0
        for i in stride(from: 0, to: pixels.count, by: 3) { red += Int(pixels[i]) }
        let k = min(max(Int((Double(red) / Double(pixels.count / 3) / 8).rounded()), 0), 31)
        let error = zip(pixels, pattern(k)).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(pixels.count)
        return (k, error)
    }

    /// Keeps FFmpeg's encoder summaries out of the test log (errors still show).
    private static let quietLog: Void = FFmpegLogLevel.set(.error)

    /// A fresh directory for one test's files.
    static func directory() -> URL {
        _ = quietLog
        return Scratch.directory("videoio")
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

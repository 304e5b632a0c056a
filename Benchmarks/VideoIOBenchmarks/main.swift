// Decode throughput of VideoReader on a synthetic H.264 stream, printed as JSON.
//
// Usage: VideoIOBenchmarks [width height frames]   (default 320 240 300)
import Foundation
import VideoIO

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let width = arguments.count > 0 ? arguments[0] : 320
let height = arguments.count > 1 ? arguments[1] : 240
let frameCount = arguments.count > 2 ? arguments[2] : 300
FFmpegLogLevel.set(.error)

let path = FileManager.default.temporaryDirectory.appendingPathComponent("videoio-bench-\(getpid()).mp4").path
defer { try? FileManager.default.removeItem(atPath: path) }

// Moving gradients so that the encoder has real motion and texture to code.
let writer = try VideoWriter(
    path: path, width: width, height: height, fps: 30, codec: .h264(crf: 20), maxBFrames: 2,
    keyframeInterval: 60)
for k in 0..<frameCount {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let o = (y * width + x) * 3
            pixels[o] = UInt8(truncatingIfNeeded: x + 2 * k)
            pixels[o + 1] = UInt8(truncatingIfNeeded: y * 2 + k)
            pixels[o + 2] = UInt8(truncatingIfNeeded: (x ^ y) + k)
        }
    }
    try writer.append(rgb: pixels)
}
try writer.finish()

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

var openTime = 0.0, sequential = 0.0, resized = 0.0, scattered = 0.0
var reader: VideoReader!
openTime = try seconds { reader = try VideoReader(path: path) }
sequential = try seconds { _ = try reader.frames(at: Array(0..<frameCount)) }
let small = FrameSize(width: 112, height: 112)
resized = try seconds { _ = try VideoReader(path: path).frames(at: Array(0..<frameCount), size: small) }
var generator = SystemRandomNumberGenerator()
let picks = (0..<16).map { _ in Int.random(in: 0..<frameCount, using: &generator) }
scattered = try seconds { _ = try VideoReader(path: path).frames(at: picks) }

let report: [String: Any] = [
    "video": "\(width)x\(height) h264 crf20 bframes2 gop60, \(frameCount) frames",
    "open_and_index_ms": openTime * 1000,
    "sequential_rgb_fps": Double(frameCount) / sequential,
    "sequential_resized_112_fps": Double(frameCount) / resized,
    "random_16_frames_ms": scattered * 1000,
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))

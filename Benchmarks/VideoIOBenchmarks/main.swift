// VideoIO benchmarks, each printing one JSON object.
//
// Usage:
//   VideoIOBenchmarks [width height frames]      decode throughput on a synthetic H.264 stream
//                                               (default 320 240 300)
//   VideoIOBenchmarks clips [--threads 1,2] [--repeats N] [--skip on|off|both] FILE...
//                                               clips/s for 8 uniformly spaced frames resized to
//                                               224×224 RGB, one fresh reader per clip, per thread count;
//                                               --skip picks VideoReader.skipsUnneededFrames (default on)
//   VideoIOBenchmarks compare [--rounds 7] [--clips 4] [--derived DIR] [--python python3]
//                             [--scripts Benchmarks/video] FILE...
//                                               the same task, one thread, VideoIO against decord and
//                                               PyAV in interleaved rounds per file: medians per file,
//                                               total-time and geometric-mean ratios, peak RSS of each
//                                               (see Comparison.swift); --derived adds re-encoded
//                                               copies made by make_training_like.py, cached in DIR
//   VideoIOBenchmarks memory [--clips N] [FILE]  resident memory while one reader decodes N random
//                                               8-frame clips at 112² (default 1000; synthetic video
//                                               when no file is given)
//   VideoIOBenchmarks open FILE...               opens each file and decodes every frame, reporting
//                                               the frame count or the error (for leak checks of
//                                               the error paths under a sanitizer), the metadata,
//                                               and digests of the pixels (every frame at 32², the
//                                               uniform 8-frame clip at 224²) to check that a change
//                                               to the reader leaves its output alone
import Foundation
import TensorCore
import VideoIO

FFmpegLogLevel.set(.error)

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func printJSON(_ report: [String: Any]) throws {
    let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// A memory field of this process in MiB (`VmRSS`, `VmHWM`, … in `/proc/self/status`), -1 if unreadable.
func statusMiB(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let kilobytes = line.split(separator: " ").compactMap({ Int($0) }).first
    else { return -1 }
    return Double(kilobytes) / 1024
}

/// Resident memory in MiB.
func residentMiB() -> Double { statusMiB("VmRSS") }

/// Writes a synthetic H.264 video of moving gradients (real motion and texture for the encoder).
func writeSyntheticVideo(width: Int, height: Int, frames: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("videoio-bench-\(getpid()).mp4").path
    let writer = try VideoWriter(
        path: path, width: width, height: height, fps: 30, codec: .h264(crf: 20), maxBFrames: 2,
        keyframeInterval: 60)
    for k in 0..<frames {
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
    return path
}

/// Values following `--name`, and the remaining positional arguments.
func options(_ arguments: [String]) -> (named: [String: String], files: [String]) {
    var named: [String: String] = [:], files: [String] = []
    var i = 0
    while i < arguments.count {
        if arguments[i].hasPrefix("--"), i + 1 < arguments.count {
            named[String(arguments[i].dropFirst(2))] = arguments[i + 1]
            i += 2
        } else {
            files.append(arguments[i])
            i += 1
        }
    }
    return (named, files)
}

func syntheticBenchmark(_ numbers: [Int]) throws {
    let width = numbers.count > 0 ? numbers[0] : 320
    let height = numbers.count > 1 ? numbers[1] : 240
    let frameCount = numbers.count > 2 ? numbers[2] : 300
    let path = try writeSyntheticVideo(width: width, height: height, frames: frameCount)
    defer { try? FileManager.default.removeItem(atPath: path) }

    var reader: VideoReader!
    let openTime = try seconds { reader = try VideoReader(path: path) }
    let sequential = try seconds { _ = try reader.frames(at: Array(0..<frameCount)) }
    let small = FrameSize(width: 112, height: 112)
    let resized = try seconds { _ = try VideoReader(path: path).frames(at: Array(0..<frameCount), size: small) }
    var generator = SystemRandomNumberGenerator()
    let picks = (0..<16).map { _ in Int.random(in: 0..<frameCount, using: &generator) }
    let scattered = try seconds { _ = try VideoReader(path: path).frames(at: picks) }
    try printJSON([
        "video": "\(width)x\(height) h264 crf20 bframes2 gop60, \(frameCount) frames",
        "open_and_index_ms": openTime * 1000,
        "sequential_rgb_fps": Double(frameCount) / sequential,
        "sequential_resized_112_fps": Double(frameCount) / resized,
        "random_16_frames_ms": scattered * 1000,
    ])
}

/// The training-loader access pattern: open, take 8 uniformly spaced frames at 224², close.
/// The benchmark's clip: 8 uniformly spaced frame indices (empty for a video without frames).
func uniformIndices(frameCount: Int) -> [Int] {
    guard frameCount > 0 else { return [] }
    var unused = RandomGenerator(seed: 0)
    return UniformSampler(numFrames: 8).clips(frameCount: frameCount, using: &unused)[0].frameIndices
}

/// Returns how many frames the decoder produced and how many seeks it made.
@discardableResult
func uniformClip(_ path: String, skip: Bool = true) throws -> (decoded: Int, seeks: Int) {
    let reader = try VideoReader(path: path)
    reader.skipsUnneededFrames = skip
    let frames = try reader.frames(at: uniformIndices(frameCount: reader.frameCount),
                                   size: FrameSize(width: 224, height: 224))
    precondition(frames.count == 8 && frames[0].pixels.count == 224 * 224 * 3, "clips: wrong clip shape")
    return (reader.decodedFrameCount, reader.seekCount)
}

func clipsBenchmark(_ arguments: [String]) throws {
    let (named, files) = options(arguments)
    precondition(!files.isEmpty, "clips: give one or more video files")
    let threadCounts = (named["threads"] ?? "1,2").split(separator: ",").compactMap { Int($0) }
    let repeats = Int(named["repeats"] ?? "3") ?? 3
    let modes: [Bool]
    switch named["skip"] ?? "on" {
    case "off": modes = [false]
    case "both": modes = [true, false]
    default: modes = [true]
    }
    // One pass first warms the page cache and the libraries, and counts the work per file.
    var work: [[String: Any]] = []
    for file in files {
        let reader = try VideoReader(path: file)
        let (decoded, seeks) = try uniformClip(file)
        let (decodedWithoutSkipping, _) = try uniformClip(file, skip: false)
        work.append([
            "file": (file as NSString).lastPathComponent, "frames": reader.frameCount,
            "size": "\(reader.metadata.width)x\(reader.metadata.height)", "decoded_frames": decoded,
            "decoded_frames_without_skipping": decodedWithoutSkipping, "seeks": seeks,
        ])
    }

    var report: [String: Any] = [
        "task": "8 uniformly spaced frames resized to 224x224 RGB (UInt8), new reader per clip",
        "files": work,
        "repeats": repeats,
    ]
    for skip in modes {
        var results: [[String: Any]] = []
        for threads in threadCounts {
            // Each thread has its own readers and walks the whole file list `repeats` times, so the
            // total work grows with the thread count and clips/s shows the scaling directly.
            let failures = ManagedFailures()
            let elapsed = seconds {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    for _ in 0..<repeats {
                        for file in files {
                            do { try uniformClip(file, skip: skip) } catch { failures.record("\(error)") }
                        }
                    }
                }
            }
            if let first = failures.first { throw BenchmarkFailure(message: first) }
            let clips = threads * repeats * files.count
            results.append(["threads": threads, "clips": clips, "seconds": elapsed, "clips_per_second": Double(clips) / elapsed])
        }
        let base = (results.first?["clips_per_second"] as? Double) ?? 1
        for i in results.indices { results[i]["scaling"] = (results[i]["clips_per_second"] as! Double) / base }
        report[skip ? "videoio" : "videoio_without_skipping"] = results
    }
    try printJSON(report)
}

struct BenchmarkFailure: Error {
    var message: String
}

/// Error messages collected from the worker threads.
final class ManagedFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func record(_ message: String) { lock.withLock { messages.append(message) } }
    var first: String? { lock.withLock { messages.first } }
}

func memoryBenchmark(_ arguments: [String]) throws {
    let (named, files) = options(arguments)
    let total = Int(named["clips"] ?? "1000") ?? 1000
    let path = try files.first ?? writeSyntheticVideo(width: 320, height: 240, frames: 300)
    defer { if files.isEmpty { try? FileManager.default.removeItem(atPath: path) } }
    let reader = try VideoReader(path: path)
    var generator = RandomGenerator(seed: 1)
    let sampler = RandomClipSampler(clipLength: 8, interval: 2)
    let size = FrameSize(width: 112, height: 112)
    var samples: [[String: Double]] = [["clips": 0, "rss_mib": residentMiB()]]
    let elapsed = try seconds {
        for k in 1...total {
            let indices = sampler.clips(frameCount: reader.frameCount, using: &generator)[0].frameIndices
            _ = try reader.clip(at: indices, size: size)
            if k % 100 == 0 { samples.append(["clips": Double(k), "rss_mib": residentMiB()]) }
        }
    }
    let afterWarmUp = samples.count > 1 ? samples[1]["rss_mib"]! : samples[0]["rss_mib"]!
    try printJSON([
        "task": "\(total) random 8-frame clips (stride 2) at 112x112 from one reader, as Float tensors",
        "file": files.first.map { ($0 as NSString).lastPathComponent } ?? "synthetic 320x240 h264, 300 frames",
        "frames_in_video": reader.frameCount,
        "seconds": elapsed,
        "rss_samples": samples,
        "growth_after_first_100_mib": samples.last!["rss_mib"]! - afterWarmUp,
        "seeks": reader.seekCount,
        "decoded_frames": reader.decodedFrameCount,
    ])
}

/// FNV-1a over the bytes of several frames: equal digests before and after a change to the reader
/// mean it returns the same pixels.
func digest(_ frames: [VideoFrame]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for frame in frames {
        for byte in frame.pixels { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }
    return String(hash, radix: 16)
}

func openBenchmark(_ files: [String]) throws {
    var outcomes: [[String: Any]] = []
    let elapsed = seconds {
        for file in files {
            do {
                let reader = try VideoReader(path: file)
                var failures = 0
                var small: [VideoFrame] = []
                for k in 0..<reader.frameCount {
                    do { small.append(try reader.frame(at: k, size: FrameSize(width: 32, height: 32))) } catch { failures += 1 }
                }
                let indices = uniformIndices(frameCount: reader.frameCount)
                let clip = indices.isEmpty ? nil
                    : try? VideoReader(path: file).frames(at: indices, size: FrameSize(width: 224, height: 224))
                let m = reader.metadata
                outcomes.append([
                    "file": file, "frames": reader.frameCount, "failed_frames": failures,
                    "metadata": [
                        "container_frames": m.containerFrameCount ?? -1, "fps": m.fps, "duration": m.duration,
                        "size": "\(m.width)x\(m.height)", "rotation": m.rotation, "codec": m.codecName,
                    ],
                    "every_frame_32_digest": digest(small), "uniform_clip_224_digest": clip.map(digest) ?? "failed",
                ])
            } catch {
                outcomes.append(["file": file, "error": "\(error)"])
            }
        }
    }
    try printJSON(["seconds": elapsed, "files": outcomes])
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "clips": try clipsBenchmark(Array(arguments.dropFirst()))
case "compare": try compareBenchmark(Array(arguments.dropFirst()))
case "memory": try memoryBenchmark(Array(arguments.dropFirst()))
case "open": try openBenchmark(Array(arguments.dropFirst()))
default: try syntheticBenchmark(arguments.compactMap { Int($0) })
}

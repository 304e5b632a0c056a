// DataLoader throughput against worker count, on a generated dataset of H.264 clips.
// Usage: LoaderBenchmarks [size] [batches]   (default 112, 12)
// Prints JSON: clips/s per worker count (decode + TSN sampling of 8 frames + resize in swscale +
// normalisation + TIME flow labels), the speed-up over one worker, and peak RSS.
import Foundation
import TensorCore
import VideoIO

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let size = arguments.count > 0 ? arguments[0] : 112
let batches = arguments.count > 1 ? arguments[1] : 12
let root = FileManager.default.temporaryDirectory.appendingPathComponent("loader-bench-\(getpid())").path
defer { try? FileManager.default.removeItem(atPath: root) }

FFmpegLogLevel.set(.error)
let summary = try SyntheticDataset.write(
    to: root,
    configuration: .init(width: 160, height: 128, frameCount: 32, fps: 25, trainVideosPerClass: 8, valVideosPerClass: 0))
let dataset = try VideoDataset.pathLabelList(at: summary.trainList, root: root)

func peakRSS() -> String {
    ((try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? "")
        .split(separator: "\n").first { $0.hasPrefix("VmHWM") }?
        .split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? "?"
}

var results: [String] = []
var oneWorker = 0.0
let maxWorkers = max(ComputeContext.threadCount, 2)
for workers in 1...maxWorkers {
    var rates: [Double] = []
    for _ in 0..<3 {
        let loader = DataLoader(dataset: dataset, configuration: .init(
            batchSize: 4, frameSize: FrameSize(width: size, height: size),
            sampler: SegmentSampler(segments: 8, mode: .train), seed: 1, workerCount: workers,
            transform: { clip, _ in clip = (clip - 0.5) / 0.5 },
            extras: ["flow": DataLoader.flowDirections(FlowDirectionLabels(patchSize: 16))]))
        let iterator = loader.batches(from: .init(epoch: 0, batchIndex: 0))
        let start = Date()
        var clips = 0
        while clips < batches * 4, let batch = try iterator.next() { clips += batch.labels.count }
        rates.append(Double(clips) / Date().timeIntervalSince(start))
        iterator.close()
    }
    let median = rates.sorted()[rates.count / 2]
    if workers == 1 { oneWorker = median }
    results.append("{\"workers\": \(workers), \"clipsPerSecond\": \(String(format: "%.2f", median)), \"speedup\": \(String(format: "%.2f", median / oneWorker))}")
}
print("""
{"dataset": "synthetic 160x128, 32 frames, H.264", "clip": "8 TSN frames resized to \(size)x\(size) + TIME flow labels", \
"cores": \(ComputeContext.threadCount), "results": [\(results.joined(separator: ", "))], "peakRSSkB": \(peakRSS())}
""")

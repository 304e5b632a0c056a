// Training-step and inference throughput of TimeSformer against PyTorch eager, alternating runs in
// one invocation. Benchmarks/README.md ("ModelBenchmarks") explains every figure.
//
//   ModelBenchmarks [--reps 5] [--steps 3] [--batch 4] [--model timesformer_tiny_8x112] [--no-pytorch]
//   ModelBenchmarks --worker train|infer [--steps 3] [--batch 4] [--model NAME]   (one measurement)
import Foundation
import TensorCore
import VideoTransformers

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default value: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return value }
    return arguments[i + 1]
}

let model = option("--model", default: "timesformer_tiny_8x112")
let batch = Int(option("--batch", default: "4"))!
let steps = Int(option("--steps", default: "3"))!
let reps = Int(option("--reps", default: "5"))!

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1) * 1024
    }
    return -1
}

/// FLOPs of the matrix products in one forward pass of one clip: patch embedding, and per block the
/// qkv/proj/temporal_fc/MLP projections plus the two attention products of both attentions.
func forwardMatmulFlops(_ config: TransformerConfig) -> Double {
    let (c, t) = (Double(config.embedDim), Double(config.numFrames))
    let n = Double((config.imgSize / config.patchSize) * (config.imgSize / config.patchSize))
    let heads = Double(config.numHeads), hidden = Double(config.mlpHidden)
    let patch = 2 * t * n * Double(3 * config.patchSize * config.patchSize) * c
    let temporal = 2 * t * n * c * 3 * c + 2 * 2 * (t * n) * c * c + 2 * 2 * n * heads * t * t * (c / heads)
    let spatial = 2 * t * (n + 1) * c * 3 * c + 2 * t * (n + 1) * c * c
        + 2 * 2 * t * heads * (n + 1) * (n + 1) * (c / heads)
    let mlp = 2 * 2 * (t * n + 1) * c * hidden
    return patch + Double(config.depth) * (temporal + spatial + mlp) + 2 * c * Double(config.numClasses)
}

/// One measurement in this process: the median step time over `steps` after one warm-up step.
func worker(mode: String) throws {
    var generator = RandomGenerator(seed: 0)
    let network = try Backbones.create(model, using: &generator)
    let config = try Backbones.config(model)
    let clip = Tensor.normal([batch, config.numFrames, 3, config.imgSize, config.imgSize], using: &generator)
    let labels = (0..<batch).map { $0 % config.numClasses }
    let step: () -> Void
    if mode == "train" {
        network.train()
        step = {
            network.zeroGrad()
            crossEntropy(logits: network(clip), labels: labels).backward()
        }
    } else {
        network.eval()
        step = { _ = noGrad { network(clip) } }
    }
    var times: [Double] = []
    for _ in 0...steps {
        let start = now()
        step()
        times.append(now() - start)
    }
    let seconds = median(Array(times.dropFirst()))
    print("""
    {"mode": "\(mode)", "batch": \(batch), "threads": \(ComputeContext.threadCount), \
    "stepSeconds": \(seconds), "clipsPerSecond": \(Double(batch) / seconds), \
    "peakRSSBytes": \(peakResidentBytes())}
    """)
}

/// Runs a command and decodes the JSON object on the last line of its standard output.
func measure(_ executable: String, _ args: [String]) -> [String: Any]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    else { return nil }
    return object
}

/// Raw sgemm throughput on a 1536³ product through `Tensor.matmul` (best of several calls), the
/// machine's ceiling in this run.
func sgemmProbe() -> Double {
    var generator = RandomGenerator(seed: 1)
    let size = 1536
    let a = Tensor.normal([size, size], using: &generator), b = Tensor.normal([size, size], using: &generator)
    var best = Double.infinity
    for _ in 0..<6 {
        let start = now()
        _ = noGrad { Tensor.matmul(a, b) }
        best = min(best, now() - start)
    }
    return 2 * Double(size * size * size) / best / 1e9
}

if arguments.first == "--worker" {
    try worker(mode: arguments[1])
    exit(0)
}

let config = try Backbones.config(model)
let flopsPerClip = (train: 3 * forwardMatmulFlops(config), infer: forwardMatmulFlops(config))
let runPyTorch = !arguments.contains("--no-pytorch") && model == "timesformer_tiny_8x112"
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("pytorch/timesformer_bench.py").path
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
let pythonPrefix = python == "/usr/bin/env" ? ["python3"] : []
let own = CommandLine.arguments[0].hasPrefix("/")
    ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
let common = ["--steps", String(steps), "--batch", String(batch)]

var samples: [String: [[String: Any]]] = [:]
var sgemm: [Double] = []
for rep in 0..<reps {
    sgemm.append(sgemmProbe())
    for mode in ["train", "infer"] {
        // Swap which side goes first every repetition so warm-up effects hit both alike.
        var sides: [(String, () -> [String: Any]?)] = [
            ("swift", { measure(own, ["--worker", mode, "--model", model] + common) }),
        ]
        if runPyTorch {
            sides.append(("pytorch", { measure(python, pythonPrefix + [script, "--mode", mode] + common) }))
        }
        if rep % 2 == 1 { sides.reverse() }
        for (side, run) in sides {
            guard let result = run() else {
                FileHandle.standardError.write(Data("ModelBenchmarks: the \(side) \(mode) run failed\n".utf8))
                exit(1)
            }
            samples["\(side).\(mode)", default: []].append(result)
        }
    }
}

func summary(_ runs: [[String: Any]]?, flopsPerClip: Double) -> [String: Any]? {
    guard let runs else { return nil }
    let clips = median(runs.map { $0["clipsPerSecond"] as! Double })
    let rss = median(runs.map { Double($0["peakRSSBytes"] as! Int) })
    return [
        "clipsPerSecond": clips, "msPerStep": 1000 * Double(batch) / clips,
        "peakRSSMiB": rss / 1_048_576, "matmulGFLOPs": clips * flopsPerClip / 1e9,
        "clipsPerSecondRuns": runs.map { $0["clipsPerSecond"] as! Double },
    ]
}

var report: [String: Any] = [
    "model": model, "batch": batch, "threads": ComputeContext.threadCount, "reps": reps, "stepsPerRun": steps,
    "trainStep": "forward + cross-entropy + backward (no optimizer step), both sides",
    "sgemmGFLOPs": median(sgemm), "matmulGFLOPPerClip": ["train": flopsPerClip.train / 1e9,
                                                          "infer": flopsPerClip.infer / 1e9],
]
var sides: [String: Any] = [:]
for side in ["swift", "pytorch"] {
    var entry: [String: Any] = [:]
    entry["train"] = summary(samples["\(side).train"], flopsPerClip: flopsPerClip.train)
    entry["infer"] = summary(samples["\(side).infer"], flopsPerClip: flopsPerClip.infer)
    if !entry.isEmpty { sides[side] = entry }
}
report["results"] = sides
if runPyTorch, let s = sides["swift"] as? [String: [String: Any]], let p = sides["pytorch"] as? [String: [String: Any]] {
    func ratio(_ mode: String, _ key: String) -> Double { (s[mode]![key] as! Double) / (p[mode]![key] as! Double) }
    report["swiftOverPyTorch"] = [
        "trainThroughput": ratio("train", "clipsPerSecond"), "inferThroughput": ratio("infer", "clipsPerSecond"),
        "trainPeakRSS": ratio("train", "peakRSSMiB"), "inferPeakRSS": ratio("infer", "peakRSSMiB"),
    ]
}
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))

// Training-step and inference throughput and memory of the tiny TimeSformer, Motionformer and X-ViT
// configurations against PyTorch eager, alternating runs in one invocation. Benchmarks/README.md
// ("ModelBenchmarks") explains every figure.
//
//   ModelBenchmarks [--models a,b,c] [--modes train,train+time,infer] [--reps 5] [--steps 3] [--batch 4]
//                   [--threads N] [--no-pytorch] [--markdown FILE]
//   ModelBenchmarks --worker MODE --model NAME [--steps 3] [--batch 4] [--threads N]   (one measurement)
import Foundation
import TensorCore
import Training

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default value: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return value }
    return arguments[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ModelBenchmarks: \(message)\n".utf8))
    exit(1)
}

func required<T>(_ value: T?, _ message: @autoclosure () -> String) -> T {
    guard let value else { fail(message()) }
    return value
}

// Unknown options stop the run: a mistyped flag would otherwise start a ten-minute benchmark.
let usage = """
    usage: ModelBenchmarks [--models a,b,c] [--modes train,train+time,infer] [--reps 5] [--steps 3]
                           [--batch 4] [--threads N] [--no-pytorch] [--markdown FILE]
    """
let valued: Set = ["--models", "--modes", "--reps", "--steps", "--batch", "--threads", "--markdown", "--worker",
                   "--model"]
var index = 0
while index < arguments.count {
    let argument = arguments[index]
    if argument == "--help" || argument == "-h" {
        print(usage)
        exit(0)
    } else if valued.contains(argument) {
        index += 2
    } else if argument == "--no-pytorch" {
        index += 1
    } else {
        fail("unknown option \(argument)\n\(usage)")
    }
}

let allModels = ["timesformer_tiny_8x112", "motionformer_tiny_8x112", "xvit_tiny_8x112"]
let models = option("--models", default: allModels.joined(separator: ",")).split(separator: ",").map(String.init)
let modes = option("--modes", default: "train,train+time,infer").split(separator: ",").map { name in
    required(StepBenchmark.Mode(rawValue: String(name)), "unknown mode \(name); modes: train, train+time, infer")
}
let batch = required(Int(option("--batch", default: "4")), "--batch expects an integer")
let steps = required(Int(option("--steps", default: "3")), "--steps expects an integer")
let reps = required(Int(option("--reps", default: "5")), "--reps expects an integer")
if arguments.contains("--threads") {
    let threads = required(Int(option("--threads", default: "")), "--threads expects an integer")
    guard threads > 0 else { fail("--threads must be positive") }
    ComputeContext.threadCount = threads
}
let threads = ComputeContext.threadCount

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// One measurement in this process (the parent runs each in a fresh one).
if arguments.first == "--worker" {
    guard arguments.count > 1, let mode = StepBenchmark.Mode(rawValue: arguments[1]) else { fail("--worker MODE") }
    let bench = try StepBenchmark(model: option("--model", default: allModels[0]), batchSize: batch, steps: steps)
    print(String(decoding: try JSONEncoder().encode(bench.measure(mode)), as: UTF8.self))
    exit(0)
}

/// Runs a command and returns the JSON object on the last line of its standard output.
func run(_ executable: String, _ args: [String]) -> Data? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last else { return nil }
    return Data(line.utf8)
}

let runPyTorch = !arguments.contains("--no-pytorch")
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("pytorch/model_bench.py").path
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
let pythonPrefix = python == "/usr/bin/env" ? ["python3"] : []
let own = Bundle.main.executablePath ?? CommandLine.arguments[0]
let common = ["--steps", String(steps), "--batch", String(batch), "--threads", String(threads)]

var benches: [String: StepBenchmark] = [:]
for model in models {
    do { benches[model] = try StepBenchmark(model: model, batchSize: batch, steps: steps) } catch { fail("\(error)") }
}

/// What the PyTorch script counts for one clip: parameters and matrix-product FLOPs.
struct PyTorchCount: Decodable {
    var parameterCount: [String: Int]
    var forwardGFLOPPerClip: [String: Double]
    var stepGFLOPPerClip: [String: Double]
    var torch: String
}
var counts: [String: PyTorchCount] = [:]
if runPyTorch {
    for model in models {
        guard let data = run(python, pythonPrefix + [script, "--model", model, "--count"] + common),
              let count = try? JSONDecoder().decode(PyTorchCount.self, from: data)
        else { fail("the PyTorch count for \(model) failed (is torch installed? PYTHON=...)") }
        counts[model] = count
    }
}

var samples: [String: [StepBenchmark.Measurement]] = [:]
var sgemm: [Double] = []
var adamw = "?"
for rep in 0..<reps {
    sgemm.append(StepBenchmark.sgemmGFLOPs())
    for model in models {
        for mode in modes {
            // Swap which side goes first every repetition so warm-up effects hit both alike.
            var sides: [(String, () -> Data?)] = [
                ("swift", { run(own, ["--worker", mode.rawValue, "--model", model] + common) }),
            ]
            if runPyTorch {
                sides.append(("pytorch", {
                    run(python, pythonPrefix + [script, "--model", model, "--mode", mode.rawValue] + common)
                }))
            }
            if rep % 2 == 1 { sides.reverse() }
            for (side, measure) in sides {
                guard let data = measure(),
                      let result = try? JSONDecoder().decode(StepBenchmark.Measurement.self, from: data)
                else { fail("the \(side) \(mode.rawValue) run of \(model) failed") }
                if side == "pytorch", mode != .inference,
                   let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                   let name = object["adamw"] as? String { adamw = name }
                samples["\(model).\(side).\(mode.rawValue)", default: []].append(result)
            }
        }
    }
    FileHandle.standardError.write(Data("ModelBenchmarks: repetition \(rep + 1)/\(reps) done\n".utf8))
}

let mebibyte = 1_048_576.0

func summary(_ runs: [StepBenchmark.Measurement]?, flopsPerClip: Double) -> [String: Any]? {
    guard let runs, !runs.isEmpty else { return nil }
    let clips = median(runs.map(\.clipsPerSecond))
    return [
        "clipsPerSecond": clips, "msPerStep": 1000 * Double(batch) / clips,
        "peakRSSMiB": median(runs.map { Double($0.peakRSSBytes) }) / mebibyte,
        "rssGrowthMiB": median(runs.map { Double($0.peakGrowthBytes) }) / mebibyte,
        "matmulGFLOPs": clips * flopsPerClip / 1e9,
        "clipsPerSecondRuns": runs.map(\.clipsPerSecond),
    ]
}

var modelReports: [String: Any] = [:]
var table: [String] = []
for model in models {
    let bench = benches[model]!
    var entry: [String: Any] = ["family": bench.family]
    var flops: [String: Double] = [:], swiftParameters: [String: Int] = [:]
    for mode in modes {
        flops[mode.rawValue] = bench.matmulFlopsPerClip(mode) / 1e9
        swiftParameters[mode.rawValue] = bench.parameterCount(mode)
    }
    entry["matmulGFLOPPerClip"] = flops
    var parameters: [String: Any] = ["swift": swiftParameters]
    if let count = counts[model] {
        parameters["pytorch"] = count.parameterCount
        entry["pytorchCountedGFLOPPerClip"] = ["forward": count.forwardGFLOPPerClip, "step": count.stepGFLOPPerClip]
    }
    entry["parameterCount"] = parameters
    var results: [String: [String: [String: Any]]] = [:]
    for side in ["swift", "pytorch"] {
        for mode in modes {
            if let s = summary(samples["\(model).\(side).\(mode.rawValue)"], flopsPerClip: 1e9 * flops[mode.rawValue]!) {
                results[side, default: [:]][mode.rawValue] = s
            }
        }
    }
    entry["results"] = results
    if runPyTorch, let s = results["swift"], let p = results["pytorch"] {
        var ratios: [String: Any] = [:]
        for mode in modes.map(\.rawValue) {
            func ratio(_ key: String) -> Double { (s[mode]![key] as! Double) / (p[mode]![key] as! Double) }
            ratios[mode] = ["throughput": ratio("clipsPerSecond"), "peakRSS": ratio("peakRSSMiB")]
            func figure(_ side: [String: [String: Any]], _ key: String) -> Double { side[mode]![key] as! Double }
            table.append(String(
                format: "| %@ | %@ | %.2f | %.2f | %.2f | %.0f (%.0f) | %.0f (%.0f) | %.0f / %.0f |", model, mode,
                figure(s, "clipsPerSecond"), figure(p, "clipsPerSecond"), ratio("clipsPerSecond"),
                figure(s, "peakRSSMiB"), figure(s, "rssGrowthMiB"), figure(p, "peakRSSMiB"), figure(p, "rssGrowthMiB"),
                figure(s, "matmulGFLOPs"), figure(p, "matmulGFLOPs")))
        }
        entry["swiftOverPyTorch"] = ratios
    }
    modelReports[model] = entry
}

var report: [String: Any] = [
    "batch": batch, "threads": threads, "reps": reps, "stepsPerRun": steps,
    "steps": [
        "train": "forward + cross-entropy + backward + AdamW (lr 1e-4, weight decay 0.05 on parameters with ≥ 2 dimensions)",
        "train+time": "TIME's objective: clip forward (cross-entropy, frame order, flow direction with random labels) + frame-shuffled forward (debias) + backward + AdamW",
        "infer": "forward in eval mode without a graph",
    ],
    "sgemmGFLOPs": median(sgemm), "sgemmGFLOPsRuns": sgemm, "models": modelReports,
]
if runPyTorch {
    report["torch"] = counts.values.first?.torch ?? "?"
    report["pytorchAdamW"] = adamw
}
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))

if let i = arguments.firstIndex(of: "--markdown"), i + 1 < arguments.count {
    let header = """
    | model | mode | Swift clips/s | PyTorch clips/s | Swift / PyTorch | Swift peak RSS (growth), MiB | PyTorch peak RSS (growth), MiB | matmul GFLOP/s, Swift / PyTorch |
    |---|---|---|---|---|---|---|---|
    """
    let text = header + "\n" + table.joined(separator: "\n") + "\n\n"
        + String(format: "sgemm probe: %.1f GFLOP/s (median of %d, this run); batch %d, %d threads, %d steps per run, medians of %d repetitions\n",
                 median(sgemm), sgemm.count, batch, threads, steps, reps)
    try text.write(toFile: arguments[i + 1], atomically: true, encoding: .utf8)
}

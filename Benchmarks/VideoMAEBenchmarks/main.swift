// One VideoMAE / VideoMS pre-training step at masking 0 %, 75 %, 90 % and with motion-centric
// selection (90 %, 70 % dropped) in Swift against the same step in PyTorch eager
// (`Benchmarks/pytorch/videomae_bench.py`), alternating fresh processes.
//
//   VideoMAEBenchmarks [--reps 3] [--steps 3] [--batch 4] [--threads N] [--no-pytorch]
//   VideoMAEBenchmarks --worker MODE RATIO [--steps 3] [--batch 4] [--threads N]   (one Swift measurement)
//
// Prints one JSON object: per mode each side's median clips/s and peak RSS over the repetitions,
// the Swift / PyTorch ratio, and every run.
import Foundation
import TensorCore
import Training

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default value: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return value }
    return arguments[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("VideoMAEBenchmarks: \(message)\n".utf8))
    exit(2)
}

func positive(_ name: String, _ fallback: String) -> Int {
    guard let v = Int(option(name, default: fallback)), v > 0 else { fail("\(name) expects a positive integer") }
    return v
}

let reps = positive("--reps", "3"), steps = positive("--steps", "3"), batch = positive("--batch", "4")
if arguments.contains("--threads") { ComputeContext.threadCount = positive("--threads", "1") }
let threads = ComputeContext.threadCount
let modes: [(String, Double)] = [("tube", 0), ("tube", 0.75), ("tube", 0.9), ("motion", 0.9)]

if let i = arguments.firstIndex(of: "--worker") {
    guard i + 2 < arguments.count, let ratio = Double(arguments[i + 2]) else { fail("--worker MODE RATIO") }
    let masking: VideoMAEStepBenchmark.Masking = arguments[i + 1] == "motion" ? .motionCentric(ratio, 0.7) : .tube(ratio)
    let measurement = try VideoMAEStepBenchmark(batchSize: batch, steps: steps).measure(masking)
    print(String(decoding: try JSONEncoder().encode(measurement), as: UTF8.self))
    exit(0)
}

/// Runs a command and returns the JSON object on the last line of its standard output.
func run(_ executable: String, _ args: [String]) -> [String: Any]? {
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
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
    return object
}

let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("pytorch/videomae_bench.py").path
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
let pythonPrefix = python == "/usr/bin/env" ? ["python3"] : []
let own = Bundle.main.executablePath ?? CommandLine.arguments[0]
let common = ["--steps", String(steps), "--batch", String(batch), "--threads", String(threads)]
let sides = arguments.contains("--no-pytorch") ? ["swift"] : ["swift", "pytorch"]

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
var report: [String: Any] = ["threads": threads, "batch": batch, "steps": steps, "reps": reps,
                             "model": "encoder 192 wide, 6 blocks; decoder 96 wide, 2 blocks; 16 frames of 112², tubelets 2×16×16 (392 tokens)"]
var table: [[String: Any]] = []
for (mode, ratio) in modes {
    var runs: [String: [[String: Any]]] = [:]
    for rep in 0..<reps {
        for side in rep % 2 == 0 ? sides : sides.reversed() {
            let pyMode = mode == "motion" ? ["--mask", "motion", "--ratio", String(ratio), "--mc-ratio", "0.7"]
                : ["--mask", "tube", "--ratio", String(ratio)]
            let result = side == "swift"
                ? run(own, ["--worker", mode, String(ratio)] + common)
                : run(python, pythonPrefix + [script] + pyMode + common)
            guard let result else { fail("the \(side) \(mode) \(ratio) run failed (PyTorch: is torch installed? PYTHON=...)") }
            runs[side, default: []].append(result)
        }
    }
    var row: [String: Any] = ["mode": mode, "ratio": ratio, "runs": runs]
    var clips: [String: Double] = [:]
    for side in sides {
        clips[side] = median(runs[side]!.map { $0["clipsPerSecond"] as! Double })
        row[side] = ["clipsPerSecond": clips[side]!,
                     "peakRSSMiB": median(runs[side]!.map { Double($0["peakRSSBytes"] as! Int) / 1_048_576 }),
                     "visibleTokens": runs[side]![0]["visibleTokens"] ?? runs[side]![0]["visible_tokens"] ?? -1]
    }
    if let s = clips["swift"], let p = clips["pytorch"] { row["swiftOverPyTorch"] = s / p }
    table.append(row)
}
report["modes"] = table
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: json, as: UTF8.self))

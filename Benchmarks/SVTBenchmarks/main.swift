// One SVT training step (all views, forward + backward + EMA teacher) in Swift against the same
// step in PyTorch eager (`Benchmarks/pytorch/svt_bench.py`), alternating fresh processes.
//
//   SVTBenchmarks [--reps 5] [--steps 3] [--batch 4] [--threads N] [--no-pytorch]
//   SVTBenchmarks --worker [--steps 3] [--batch 4] [--threads N]     (one Swift measurement)
//
// Prints one JSON object: each side's median views/s and peak RSS over the repetitions, every run,
// and the Swift / PyTorch throughput ratio.
import Foundation
import TensorCore
import Training

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default value: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return value }
    return arguments[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SVTBenchmarks: \(message)\n".utf8))
    exit(2)
}

func positive(_ name: String, _ fallback: String) -> Int {
    guard let v = Int(option(name, default: fallback)), v > 0 else { fail("\(name) expects a positive integer") }
    return v
}

let known: Set = ["--reps", "--steps", "--batch", "--threads", "--worker", "--no-pytorch"]
for (i, a) in arguments.enumerated() where a.hasPrefix("--") && !known.contains(a) {
    _ = i
    fail("unknown option \(a); options: \(known.sorted().joined(separator: ", "))")
}
let reps = positive("--reps", "5"), steps = positive("--steps", "3"), batch = positive("--batch", "4")
if arguments.contains("--threads") { ComputeContext.threadCount = positive("--threads", "1") }
let threads = ComputeContext.threadCount

if arguments.contains("--worker") {
    let measurement = try SVTStepBenchmark(batchSize: batch, steps: steps).measure()
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
    .appendingPathComponent("pytorch/svt_bench.py").path
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
let pythonPrefix = python == "/usr/bin/env" ? ["python3"] : []
let own = Bundle.main.executablePath ?? CommandLine.arguments[0]
let common = ["--steps", String(steps), "--batch", String(batch), "--threads", String(threads)]
let sides = arguments.contains("--no-pytorch") ? ["swift"] : ["swift", "pytorch"]

var runs: [String: [[String: Any]]] = [:]
for rep in 0..<reps {
    // Alternate which side goes first, so drift on a shared machine hits both alike.
    for side in rep % 2 == 0 ? sides : sides.reversed() {
        let result = side == "swift"
            ? run(own, ["--worker"] + common)
            : run(python, pythonPrefix + [script] + common)
        guard let result else { fail("the \(side) run failed (PyTorch: is torch installed? PYTHON=...)") }
        runs[side, default: []].append(result)
    }
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
var report: [String: Any] = ["threads": threads, "batch": batch, "steps": steps, "reps": reps, "runs": runs,
                             "step": "student over 2 global + 8 local views, teacher over the globals, DINO loss "
                                 + "and centre, backward, per-tensor clip 3.0, AdamW, EMA teacher"]
var medians: [String: Double] = [:]
for side in sides {
    let views = median(runs[side]!.map { $0["viewsPerSecond"] as! Double })
    let peak = median(runs[side]!.map { Double($0["peakRSSBytes"] as! Int) / 1_048_576 })
    medians[side] = views
    report[side] = ["viewsPerSecond": views, "peakRSSMiB": peak]
}
if let s = medians["swift"], let p = medians["pytorch"] { report["swiftOverPyTorch"] = s / p }
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: json, as: UTF8.self))

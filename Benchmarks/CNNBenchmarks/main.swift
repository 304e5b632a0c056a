// Conv3d forward + backward on the R3D-18 layer shapes and one full r3d_18 training step at
// 16×112², in Swift against PyTorch eager (`Benchmarks/pytorch/cnn_bench.py`) on the same number
// of threads, alternating fresh processes.
//
//   CNNBenchmarks [--reps 5] [--steps 3] [--batch 2] [--threads N] [--only convs|step] [--no-pytorch]
//   CNNBenchmarks --worker convs|step [--steps 3] [--batch 2] [--threads N] [--conv layer1]
//                                                      (one Swift measurement; --conv: one shape)
//
// Prints one JSON object: per side the median over the repetitions of each convolution's
// milliseconds and of the step's clips/s and peak RSS, every run, and the PyTorch / Swift time
// ratios (above 1: Swift is faster).
import Foundation
import TensorCore
import Training
import VideoTransformers

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String, default value: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return value }
    return arguments[i + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CNNBenchmarks: \(message)\n".utf8))
    exit(2)
}

func positive(_ name: String, _ fallback: String) -> Int {
    guard let v = Int(option(name, default: fallback)), v > 0 else { fail("\(name) expects a positive integer") }
    return v
}

let known: Set = ["--reps", "--steps", "--batch", "--threads", "--worker", "--only", "--no-pytorch", "--conv"]
for a in arguments where a.hasPrefix("--") && !known.contains(a) {
    fail("unknown option \(a); options: \(known.sorted().joined(separator: ", "))")
}
let reps = positive("--reps", "5"), steps = positive("--steps", "3"), batch = positive("--batch", "2")
if arguments.contains("--threads") { ComputeContext.threadCount = positive("--threads", "1") }
let threads = ComputeContext.threadCount

/// The convolutions of torchvision's r3d_18 on 16×112² clips (as `CONVS` in cnn_bench.py):
/// input `[C, T, H, W]`, weight `[O, C, kt, kh, kw]`, stride, padding.
let convShapes: [(String, [Int], [Int], (Int, Int, Int), (Int, Int, Int))] = [
    ("stem", [3, 16, 112, 112], [64, 3, 3, 7, 7], (1, 2, 2), (1, 3, 3)),
    ("layer1", [64, 16, 56, 56], [64, 64, 3, 3, 3], (1, 1, 1), (1, 1, 1)),
    ("layer2.down", [64, 16, 56, 56], [128, 64, 3, 3, 3], (2, 2, 2), (1, 1, 1)),
    ("layer2", [128, 8, 28, 28], [128, 128, 3, 3, 3], (1, 1, 1), (1, 1, 1)),
    ("layer3", [256, 4, 14, 14], [256, 256, 3, 3, 3], (1, 1, 1), (1, 1, 1)),
    ("layer4", [512, 2, 7, 7], [512, 512, 3, 3, 3], (1, 1, 1), (1, 1, 1)),
    ("shortcut", [64, 16, 56, 56], [128, 64, 1, 1, 1], (2, 2, 2), (0, 0, 0)),
]

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func peakRSSBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return -1 }
    return kb * 1024
}

func measureConvs() -> [String: Any] {
    var g = RandomGenerator(seed: 0)
    var out: [String: Double] = [:]
    let selected = option("--conv", default: "")
    for (name, xs, ws, stride, padding) in convShapes where selected.isEmpty || selected == name {
        let x = Tensor.normal([batch] + xs, using: &g).requiringGrad()
        let w = Tensor.normal(ws, std: 0.05, using: &g).requiringGrad()
        let upstream = noGrad { Tensor.conv3d(x, weight: w, stride: stride, padding: padding) }
        let seed = Tensor.normal(upstream.shape, using: &g)
        var times: [Double] = []
        for i in 0...steps {
            x.zeroGrad(); w.zeroGrad()
            let t = seconds { Tensor.conv3d(x, weight: w, stride: stride, padding: padding).backward(seed) }
            if i > 0 { times.append(t) }
        }
        out[name] = median(times) * 1000
    }
    return ["convs": out]
}

func measureStep() throws -> [String: Any] {
    var g = RandomGenerator(seed: 0)
    let model = try Backbones.create("r3d_18", using: &g)
    model.train()
    let optimizer = SGD([ParameterGroup(name: "all", parameters: model.namedParameters(), weightDecay: 1e-4)],
                        learningRate: 0.01, momentum: 0.9)
    let clip = Tensor.uniform([batch, 16, 3, 112, 112], low: 0, high: 1, using: &g)
    let labels = (0..<batch).map { ($0 * 97) % 400 }
    var times: [Double] = []
    for i in 0...steps {
        let t = seconds {
            let loss = crossEntropy(logits: model(clip), labels: labels)
            loss.backward()
            optimizer.step()
            model.zeroGrad()
        }
        if i > 0 { times.append(t) }
    }
    let s = median(times)
    return ["stepSeconds": s, "clipsPerSecond": Double(batch) / s, "peakRSSBytes": peakRSSBytes()]
}

if let i = arguments.firstIndex(of: "--worker") {
    let what = i + 1 < arguments.count ? arguments[i + 1] : "step"
    var result = what == "convs" ? measureConvs() : try measureStep()
    result.merge(["side": "swift", "what": what, "batch": batch, "threads": threads]) { a, _ in a }
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
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
    .appendingPathComponent("pytorch/cnn_bench.py").path
let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
let pythonPrefix = python == "/usr/bin/env" ? ["python3"] : []
let own = Bundle.main.executablePath ?? CommandLine.arguments[0]
let sides = arguments.contains("--no-pytorch") ? ["swift"] : ["swift", "pytorch"]
let only = option("--only", default: "")
let whats = only.isEmpty ? ["convs", "step"] : [only]
guard whats.allSatisfy({ $0 == "convs" || $0 == "step" }) else { fail("--only expects convs or step") }

var runs: [String: [String: [[String: Any]]]] = [:]
for what in whats {
    let common = ["--steps", String(steps), "--batch", String(batch), "--threads", String(threads)]
    for rep in 0..<reps {
        // Alternate which side goes first, so drift on a shared machine hits both alike.
        for side in rep % 2 == 0 ? sides : sides.reversed() {
            let result = side == "swift"
                ? run(own, ["--worker", what] + common)
                : run(python, pythonPrefix + [script, "--what", what] + common)
            guard let result else { fail("the \(side) \(what) run failed (PyTorch: torch and torchvision? PYTHON=...)") }
            runs[what, default: [:]][side, default: []].append(result)
        }
    }
}

var report: [String: Any] = ["threads": threads, "batch": batch, "steps": steps, "reps": reps, "runs": runs,
                             "clip": "[\(batch), 3, 16, 112, 112]",
                             "step": "r3d_18 (400 classes) forward, cross-entropy, backward, SGD momentum 0.9, wd 1e-4"]
if let convRuns = runs["convs"] {
    var table: [String: [String: Double]] = [:]
    for (name, _, _, _, _) in convShapes {
        var row: [String: Double] = [:]
        for side in sides {
            row["\(side)Ms"] = median(convRuns[side]!.map { (($0["convs"] as! [String: Any])[name] as! NSNumber).doubleValue })
        }
        if let s = row["swiftMs"], let p = row["pytorchMs"] { row["pytorchOverSwift"] = p / s }
        table[name] = row
    }
    report["convs"] = table
}
if let stepRuns = runs["step"] {
    var medians: [String: Double] = [:]
    for side in sides {
        let clips = median(stepRuns[side]!.map { ($0["clipsPerSecond"] as! NSNumber).doubleValue })
        let peak = median(stepRuns[side]!.map { ($0["peakRSSBytes"] as! NSNumber).doubleValue / 1_048_576 })
        medians[side] = clips
        report["step.\(side)"] = ["clipsPerSecond": clips, "peakRSSMiB": peak]
    }
    if let s = medians["swift"], let p = medians["pytorch"] { report["stepSwiftOverPyTorch"] = s / p }
}
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: json, as: UTF8.self))

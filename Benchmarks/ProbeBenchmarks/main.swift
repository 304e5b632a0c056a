// Weighted kNN over frozen features (DINO's evaluation) against NumPy and PyTorch doing the same
// computation on the same data and the same number of threads. Benchmarks/README.md
// ("ProbeBenchmarks") explains every figure. Prints one JSON object.
//
//   ProbeBenchmarks [--train 10000] [--test 10000] [--width 768] [--classes 400] [--k 20]
//                   [--repeats 5] [--threads N] [--no-python]
import Foundation
import TensorCore
import Training

let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ProbeBenchmarks: \(message)\n".utf8))
    exit(1)
}

func integer(_ name: String, default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name) else { return value }
    guard i + 1 < arguments.count, let parsed = Int(arguments[i + 1]), parsed > 0 else { fail("\(name) expects a positive integer") }
    return parsed
}

let valued: Set = ["--train", "--test", "--width", "--classes", "--k", "--repeats", "--threads"]
var position = 0
while position < arguments.count {
    if valued.contains(arguments[position]) { position += 2 } else if arguments[position] == "--no-python" { position += 1 } else {
        fail("unknown option \(arguments[position]); options: \(valued.sorted().joined(separator: " ")) --no-python")
    }
}
let trainCount = integer("--train", default: 10_000), testCount = integer("--test", default: 10_000)
let width = integer("--width", default: 768), classes = integer("--classes", default: 400)
let k = integer("--k", default: 20), repeats = integer("--repeats", default: 5)
if arguments.contains("--threads") { ComputeContext.threadCount = integer("--threads", default: 1) }
let threads = ComputeContext.threadCount

func statusKiB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    let line = status.split(separator: "\n").first { $0.hasPrefix(field) }
    return line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
}

/// Features with class structure, so the accuracies mean something: class centres N(0, 1), rows
/// centre + N(0, 4²) (top-1 about 60% with the default shape).
func clustered(_ rows: Int, seed: UInt64) -> FeatureSet {
    var centres = RandomGenerator(seed: 99)
    let means = Tensor.normal([classes, width], using: &centres).scalars
    var g = RandomGenerator(seed: seed)
    let labels = (0..<rows).map { _ in g.nextInt(below: classes) }
    let features = Tensor(shape: [rows, width]) { out in
        for i in 0..<rows { for j in 0..<width { out[i * width + j] = means[labels[i] * width + j] + 4 * g.nextNormal() } }
    }
    return try! FeatureSet(features: features, labels: labels)
}

let train = clustered(trainCount, seed: 1), test = clustered(testCount, seed: 2)
let residentBefore = statusKiB("VmRSS:")

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The floor: only the similarity products, in the classifier's blocks of rows, on inputs already
/// normalised (no selection, no vote).
func sgemmOnly(_ unitTrain: Tensor, _ unitTest: Tensor) -> Double {
    let blockRows = max(1, min(testCount, (1 << 23) / trainCount))
    let start = DispatchTime.now().uptimeNanoseconds
    for first in stride(from: 0, to: testCount, by: blockRows) {
        let block = unitTest.slice(axis: 0, range: first..<min(first + blockRows, testCount))
        _ = Tensor.matmul(block, unitTrain, transposeB: true)
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// A first, untimed evaluation: its peak resident memory is the kNN's alone (data plus what the
// classifier allocates), before the baseline's normalised copies exist.
var result = try KNNClassifier(train).evaluate(test, k: k, temperature: 0.07)
let peakAfterKNN = statusKiB("VmHWM:")
let unitTrain = KNNClassifier.l2Normalized(train.features), unitTest = KNNClassifier.l2Normalized(test.features)

var totals: [Double] = [], searches: [Double] = [], products: [Double] = []
for _ in 0..<repeats {
    products.append(sgemmOnly(unitTrain, unitTest))
    let start = DispatchTime.now().uptimeNanoseconds
    let knn = try KNNClassifier(train)
    let searchStart = DispatchTime.now().uptimeNanoseconds
    _ = try knn.nearestNeighbours(of: test.features, k: k)
    let searchEnd = DispatchTime.now().uptimeNanoseconds
    result = try knn.evaluate(test, k: k, temperature: 0.07)
    let end = DispatchTime.now().uptimeNanoseconds
    // The full evaluation is timed on its own; the search alone is the middle interval.
    totals.append(Double(end - searchEnd) / 1e9 + Double(searchStart - start) / 1e9)
    searches.append(Double(searchEnd - searchStart) / 1e9)
}
let swiftSeconds = median(totals)
let gflop = 2 * Double(trainCount) * Double(testCount) * Double(width) / 1e9

/// Runs the Python baseline on the same features (written to a temporary file) for one implementation.
func baseline(_ implementation: String, data: URL) -> [String: Any]? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("probes/knn_baseline.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [ProcessInfo.processInfo.environment["PYTHON"] ?? "python3", script.path, data.path,
                         "--impl", implementation, "--k", "\(k)", "--classes", "\(classes)", "--threads", "\(threads)",
                         "--repeats", "\(repeats)"]
    var environment = ProcessInfo.processInfo.environment
    for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[name] = "\(threads)" }
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.standardError
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
}

var report: [String: Any] = [
    "benchmark": "knn_weighted_vote",
    "shape": ["train": trainCount, "test": testCount, "width": width, "classes": classes, "k": k, "temperature": 0.07],
    "threads": threads, "repeats": repeats,
    "swift": [
        "seconds": swiftSeconds, "secondsRuns": totals, "searchSeconds": median(searches),
        "similarityGFLOP": gflop, "effectiveGFLOPs": gflop / swiftSeconds,
        "sgemmOnlySeconds": median(products), "sgemmOnlyRuns": products,
        "sgemmShare": median(products) / swiftSeconds,
        "top1": result.top1, "top5": result.top5,
        "peakResidentMiB": Double(peakAfterKNN) / 1024,
        "residentWithDataMiB": Double(residentBefore) / 1024,
        "peakGrowthMiB": Double(peakAfterKNN - residentBefore) / 1024,
    ] as [String: Any],
]
if !arguments.contains("--no-python") {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("probe-bench-\(getpid()).safetensors")
    defer { try? FileManager.default.removeItem(at: file) }
    try SafeTensors.write(arrays: [
        ("train.features", .float32(train.features)), ("train.labels", .int64(train.labels, shape: [trainCount])),
        ("test.features", .float32(test.features)), ("test.labels", .int64(test.labels, shape: [testCount])),
    ], to: file)
    for implementation in ["numpy", "torch"] {
        guard let figures = baseline(implementation, data: file), let seconds = figures["seconds"] as? Double else {
            report[implementation] = "unavailable (needs python3 with numpy, safetensors\(implementation == "torch" ? ", torch" : ""))"
            continue
        }
        report[implementation] = figures
        report["\(implementation)OverSwift"] = seconds / swiftSeconds
        if let top1 = figures["top1"] as? Double { report["\(implementation)Top1Agrees"] = Swift.abs(top1 - result.top1) < 1e-9 }
    }
}
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
print(String(decoding: json, as: UTF8.self))

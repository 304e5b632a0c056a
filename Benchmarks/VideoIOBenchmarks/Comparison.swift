import Foundation
import VideoIO

// `VideoIOBenchmarks compare`: VideoIO, decord and PyAV on the same files in one run, interleaved.
//
// Each round takes the files one after the other and, per file, times `--clips` clips with every
// library (the order of the libraries rotates from round to round), so that a change in machine
// load hits all of them alike. Per file and library the figure is the median over the rounds.
// decord and PyAV run in two long-lived worker processes (`decode_baselines.py --serve`), one per
// library, so that each peak resident memory is that library's own.

/// A baseline library behind a `decode_baselines.py --serve` process, one JSON line each way.
final class BaselineWorker {
    let name: String
    let version: String
    let residentAfterImportMiB: Double
    private(set) var peakResidentMiB = 0.0
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    init(name: String, python: String, script: String) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--serve", name]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var hello: [String: Any] = [:]
        do {
            hello = try BaselineWorker.readLine(output.fileHandleForReading, &pending)
        } catch {
            process.terminate()
            throw BenchmarkFailure(message: "compare: the \(name) worker did not start (\(error))")
        }
        version = hello["version"] as? String ?? "?"
        residentAfterImportMiB = hello["rss_after_import_mib"] as? Double ?? -1
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Seconds for `clips` clips of `file`, timed inside the worker.
    func time(_ file: String, clips: Int) throws -> Double {
        let request = try JSONSerialization.data(withJSONObject: ["file": file, "clips": clips])
        input.fileHandleForWriting.write(request + Data("\n".utf8))
        let answer = try BaselineWorker.readLine(output.fileHandleForReading, &pending)
        guard let seconds = answer["seconds"] as? Double else {
            throw BenchmarkFailure(message: "compare: \(name) failed on \(file): \(answer)")
        }
        peakResidentMiB = max(peakResidentMiB, answer["peak_rss_mib"] as? Double ?? -1)
        return seconds
    }

    private static func readLine(_ handle: FileHandle, _ pending: inout Data) throws -> [String: Any] {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                    throw BenchmarkFailure(message: "compare: unexpected worker output \(String(decoding: line, as: UTF8.self))")
                }
                return object
            }
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw BenchmarkFailure(message: "compare: a worker exited early") }
            pending += chunk
        }
    }
}

/// Peak resident memory of this process in MiB (`VmHWM`, as `ru_maxrss` reports it to the Python
/// workers).
func peakResidentMiB() -> Double { statusMiB("VmHWM") }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// Runs `make_training_like.py` and returns the paths it prints (generated or already cached).
func derivedFiles(from files: [String], into folder: String, python: String, script: String) throws -> [String] {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script, "--out", folder] + files
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let paths = try JSONSerialization.jsonObject(with: data) as? [String] else {
        throw BenchmarkFailure(message: "compare: \(script) failed (status \(process.terminationStatus))")
    }
    return paths
}

func compareBenchmark(_ arguments: [String]) throws {
    let (named, given) = options(arguments)
    precondition(!given.isEmpty, "compare: give one or more video files")
    let rounds = Int(named["rounds"] ?? "7") ?? 7
    precondition(rounds >= 5, "compare: --rounds \(rounds) is too few for a median; use 5 or more")
    let clips = Int(named["clips"] ?? "4") ?? 4
    let python = named["python"] ?? "python3"
    let folder = named["scripts"] ?? "Benchmarks/video"
    let baselines = folder + "/decode_baselines.py"
    guard FileManager.default.fileExists(atPath: baselines) else {
        throw BenchmarkFailure(message: "compare: \(baselines) not found; run from the package root or pass --scripts DIR")
    }
    var files = given
    if let cache = named["derived"] {
        files += try derivedFiles(from: given, into: cache, python: python, script: folder + "/make_training_like.py")
    }
    let startResident = peakResidentMiB()
    let workers = try ["decord", "pyav"].map { try BaselineWorker(name: $0, python: python, script: baselines) }

    // The libraries in the order of the first round, each as "time N clips of this file".
    typealias Runner = (name: String, run: (String) throws -> Double)
    let videoIO: [Runner] = [true, false].map { skip in
        (skip ? "videoio" : "videoio_without_skipping", { file in
            try seconds { for _ in 0..<clips { try uniformClip(file, skip: skip) } }
        })
    }
    let runners = videoIO + workers.map { worker in (worker.name, { file in try worker.time(file, clips: clips) }) }

    // Warm-up: one clip per file and library (page cache, library start-up, lazy binding).
    var work: [[String: Any]] = []
    for file in files {
        let reader = try VideoReader(path: file)
        let (decoded, seeks) = try uniformClip(file)
        let (decodedWithoutSkipping, _) = try uniformClip(file, skip: false)
        for worker in workers { _ = try worker.time(file, clips: 1) }
        work.append([
            "file": (file as NSString).lastPathComponent, "frames": reader.frameCount,
            "size": "\(reader.metadata.width)x\(reader.metadata.height)", "codec": reader.metadata.codecName,
            "decoded_frames": decoded, "decoded_frames_without_skipping": decodedWithoutSkipping, "seeks": seeks,
        ])
    }

    // samples[file][library] = clips/s of each round.
    var samples = [[String: [Double]]](repeating: [:], count: files.count)
    for round in 0..<rounds {
        let order = (0..<runners.count).map { runners[($0 + round) % runners.count] }
        for (f, file) in files.enumerated() {
            for runner in order {
                samples[f][runner.name, default: []].append(Double(clips) / (try runner.run(file)))
            }
        }
    }

    let names = runners.map(\.name)
    var medians = [[String: Double]](repeating: [:], count: files.count)
    for f in files.indices {
        for name in names { medians[f][name] = median(samples[f][name]!) }
        work[f]["clips_per_second"] = medians[f]
        work[f]["clips_per_second_each_round"] = samples[f]
        work[f]["videoio_over_decord"] = medians[f]["videoio"]! / medians[f]["decord"]!
        work[f]["videoio_over_pyav"] = medians[f]["videoio"]! / medians[f]["pyav"]!
    }

    /// Both summaries of a set of files: total clips over total time (dominated by the slowest
    /// file), and the geometric mean of the per-file ratios (each file counts once).
    func aggregate(_ set: Range<Int>) -> [String: Any] {
        var totalTime: [String: Double] = [:]
        for name in names {
            let seconds = set.map { Double(clips) / medians[$0][name]! }.reduce(0, +)
            totalTime[name] = Double(clips * set.count) / seconds
        }
        func geometricMean(over baseline: String) -> Double {
            exp(set.map { log(medians[$0]["videoio"]! / medians[$0][baseline]!) }.reduce(0, +) / Double(set.count))
        }
        return [
            "files": set.map { (files[$0] as NSString).lastPathComponent },
            "total_time_clips_per_second": totalTime,
            "total_time_videoio_over_decord": totalTime["videoio"]! / totalTime["decord"]!,
            "total_time_videoio_over_pyav": totalTime["videoio"]! / totalTime["pyav"]!,
            "geometric_mean_videoio_over_decord": geometricMean(over: "decord"),
            "geometric_mean_videoio_over_pyav": geometricMean(over: "pyav"),
        ]
    }
    var aggregates: [String: Any] = ["given_files": aggregate(0..<given.count)]
    if files.count > given.count { aggregates["given_and_derived_files"] = aggregate(0..<files.count) }

    var resident: [String: Any] = [
        "videoio": ["at_start": startResident, "peak": peakResidentMiB()]
    ]
    for worker in workers {
        resident[worker.name] = ["after_import": worker.residentAfterImportMiB, "peak": worker.peakResidentMiB]
    }
    try printJSON([
        "task": "8 uniformly spaced frames resized to 224x224 RGB (UInt8), new reader per clip, one thread",
        "method": "\(rounds) rounds; per round and file, \(clips) clips with each library in rotating order; medians over rounds",
        "versions": Dictionary(uniqueKeysWithValues: workers.map { ($0.name, $0.version) }),
        "files": work,
        "aggregate": aggregates,
        "resident_memory_mib": resident,
    ])
}

import ArgumentParser
import Foundation
import TensorCore
import Training
import VideoTransformers

/// `videossl bench`: training and inference speed and memory of one backbone on this machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure clips/s, ms per step, peak memory and matrix-product GFLOP/s of a backbone.",
        discussion: """
        A training step is forward, cross-entropy, backward and an AdamW step (with --time: TIME's \
        full objective, two forwards). Every mode runs in a fresh process, so its peak resident \
        memory is its own; the figures are medians over --steps steps after one warm-up step. Also \
        prints the machine's sgemm GFLOP/s measured in the same run and the activation-memory \
        estimate that `videossl train` prints before training. Models: \
        \(Backbones.names.joined(separator: ", ")).
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Clips per step.")
    var batch = 4

    @Option(help: "Frames per clip (default: the model's num_frames).")
    var frames: Int?

    @Option(help: "Crop side in pixels (default: the model's img_size).")
    var size: Int?

    @Option(help: "Compute threads (default: every core).")
    var threads: Int?

    @Option(help: "Timed steps per mode, after one warm-up step.")
    var steps = 3

    @Flag(help: "Also measure a TIME training step.")
    var time = false

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: .hidden)
    var worker: StepBenchmark.Mode?

    func validate() throws {
        guard batch > 0, steps > 0 else { throw ValidationError("--batch and --steps must be positive") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        if time, let frames, frames < 2 { throw ValidationError("--time needs at least 2 frames") }
    }

    func run() throws {
        if let threads { ComputeContext.threadCount = threads }
        var overrides = try modelOptions.parsedOverrides()
        if let frames { overrides["num_frames"] = .int(frames) }
        if let size { overrides["img_size"] = .int(size) }
        let bench = try StepBenchmark(model: try modelOptions.name(), overrides: overrides, batchSize: batch,
                                      steps: steps)
        if let worker {
            let data = try JSONEncoder().encode(bench.measure(worker))
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let modes: [StepBenchmark.Mode] = time ? [.train, .trainWithTIME, .inference] : [.train, .inference]
        let sgemm = StepBenchmark.sgemmGFLOPs()
        var estimates: [StepBenchmark.Mode: TrainingMemoryEstimate] = [:]
        for mode in modes { estimates[mode] = bench.memoryEstimate(mode) }
        var results: [(StepBenchmark.Mode, StepBenchmark.Measurement)] = []
        for mode in modes { results.append((mode, try measureInFreshProcess(mode))) }
        let report = BenchReport(bench: bench, sgemmGFLOPs: sgemm, results: results, estimates: estimates)
        print(json ? try report.json() : report.table())
    }

    /// Runs this command again as `--worker MODE` and decodes its measurement.
    private func measureInFreshProcess(_ mode: StepBenchmark.Mode) throws -> StepBenchmark.Measurement {
        guard let executable = Bundle.main.executableURL else {
            throw ValidationError("cannot find the videossl executable to run the measurements")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = Array(CommandLine.arguments.dropFirst()) + ["--worker", mode.rawValue]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
              let measurement = try? JSONDecoder().decode(StepBenchmark.Measurement.self, from: Data(line.utf8))
        else {
            throw BenchError(description: "the \(mode.rawValue) measurement failed (exit status \(process.terminationStatus))")
        }
        return measurement
    }
}

extension StepBenchmark.Mode: ExpressibleByArgument {}

/// A measurement that did not complete.
struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// The figures of one `videossl bench` run, as a table or JSON.
struct BenchReport {
    let bench: StepBenchmark
    let sgemmGFLOPs: Double
    let results: [(StepBenchmark.Mode, StepBenchmark.Measurement)]
    let estimates: [StepBenchmark.Mode: TrainingMemoryEstimate]

    private static let mebibyte = 1_048_576.0

    /// Per mode: throughput, step time, memory and achieved matrix-product rate.
    private func figures(_ mode: StepBenchmark.Mode, _ m: StepBenchmark.Measurement) -> [String: Double] {
        let flops = bench.matmulFlopsPerClip(mode)
        return [
            "clipsPerSecond": m.clipsPerSecond, "msPerStep": 1000 * m.stepSeconds,
            "peakRSSMiB": Double(m.peakRSSBytes) / Self.mebibyte,
            "rssGrowthMiB": Double(m.peakGrowthBytes) / Self.mebibyte,
            "matmulGFLOPs": m.clipsPerSecond * flops / 1e9, "matmulGFLOPPerClip": flops / 1e9,
        ]
    }

    func json() throws -> String {
        let c = bench.config
        var results: [String: Any] = [:]
        for (mode, m) in self.results { results[mode.rawValue] = figures(mode, m) }
        var memory: [String: Any] = [:]
        for (mode, e) in estimates { memory[mode.rawValue] = MemoryEstimateText.mebibytes(e) }
        let object: [String: Any] = [
            "model": bench.model, "family": bench.family, "batch": bench.batchSize, "steps": bench.steps,
            "frames": c.numFrames, "size": c.imgSize, "threads": ComputeContext.threadCount,
            "parameterCount": bench.parameterCount(.train), "sgemmGFLOPs": sgemmGFLOPs,
            "results": results, "memoryEstimate": memory,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    func table() -> String {
        let c = bench.config
        var lines = [
            "\(bench.model): embed \(c.embedDim), depth \(c.depth), heads \(c.numHeads), \(c.numFrames) frames of "
                + "\(c.imgSize)×\(c.imgSize), patch \(c.patchSize); \(bench.parameterCount(.train)) parameters",
            "batch \(bench.batchSize), \(ComputeContext.threadCount) threads, median of \(bench.steps) steps "
                + "after one warm-up, each mode in a fresh process",
            String(format: "sgemm probe (1536³, this run): %.1f GFLOP/s", sgemmGFLOPs),
            "",
            pad(["mode", "clips/s", "ms/step", "peak RSS", "RSS growth", "matmul GFLOP/s", "GFLOP/clip"]),
        ]
        for (mode, m) in results {
            let f = figures(mode, m)
            lines.append(pad([
                mode.rawValue, String(format: "%.2f", f["clipsPerSecond"]!), String(format: "%.1f", f["msPerStep"]!),
                String(format: "%.0f MiB", f["peakRSSMiB"]!), String(format: "%.0f MiB", f["rssGrowthMiB"]!),
                String(format: "%.1f", f["matmulGFLOPs"]!), String(format: "%.2f", f["matmulGFLOPPerClip"]!),
            ]))
        }
        for (mode, _) in results {
            guard let estimate = estimates[mode] else { continue }
            lines.append("")
            lines.append("memory estimate (\(mode.rawValue), AdamW):")
            lines += MemoryEstimateText.lines(estimate).map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ cells: [String]) -> String {
        let widths = [11, 9, 9, 10, 11, 15, 11]
        return zip(cells, widths).enumerated().map { i, pair in
            let (text, width) = pair
            let space = String(repeating: " ", count: max(0, width - text.count))
            return i == 0 ? text + space : space + text
        }.joined(separator: " ")
    }
}

/// How `videossl train` and `videossl bench` show a ``TrainingMemoryEstimate``.
enum MemoryEstimateText {
    private static let mebibyte = 1_048_576.0

    static func lines(_ e: TrainingMemoryEstimate) -> [String] {
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / mebibyte) }
        return [
            "activations \(mib(e.activationBytesPerClip)) per clip, \(mib(e.activationBytes)) per batch of \(e.batchSize)",
            "parameters \(mib(e.parameterBytes)), gradients \(mib(e.gradientBytes)), optimizer state \(mib(e.optimizerStateBytes))",
            "about \(mib(e.totalBytes)) in all (\(mib(e.trainingOverheadBytes)) on top of the model)",
        ]
    }

    static func mebibytes(_ e: TrainingMemoryEstimate) -> [String: Double] {
        [
            "activationMiBPerClip": Double(e.activationBytesPerClip) / mebibyte,
            "activationMiBPerBatch": Double(e.activationBytes) / mebibyte,
            "parameterMiB": Double(e.parameterBytes) / mebibyte,
            "gradientMiB": Double(e.gradientBytes) / mebibyte,
            "optimizerStateMiB": Double(e.optimizerStateBytes) / mebibyte,
            "trainingOverheadMiB": Double(e.trainingOverheadBytes) / mebibyte,
            "totalMiB": Double(e.totalBytes) / mebibyte,
        ]
    }
}

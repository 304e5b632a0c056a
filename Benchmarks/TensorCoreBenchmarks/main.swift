import Foundation
import TensorCore

/// TensorCore benchmarks: each figure beside a baseline measured in the same run, printed as one
/// JSON object on stdout. See Benchmarks/README.md.
///
/// Options: `--threads N` (compute thread budget; default every core), `--repeats N` (samples per
/// figure, alternating candidate and baseline; default 7), `--only GROUP` (one of matmul,
/// attention, bandwidth; default all).
struct Report: Codable {
    var threads: Int
    var repeats: Int
    var matmul: [MatmulEntry]
    var attention: [AttentionEntry]
    var bandwidth: [BandwidthEntry]
    var peakResidentMiB: Double?
}

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

keepFreedMemoryInHeap()

if let threads = option("--threads").flatMap({ Int($0) }) { ComputeContext.threadCount = threads }
let repeats = Swift.max(5, option("--repeats").flatMap { Int($0) } ?? 7)
let only = option("--only")
func selected(_ group: String) -> Bool { only == nil || only == group }

var report = Report(
    threads: ComputeContext.threadCount, repeats: repeats,
    matmul: selected("matmul") ? matmulBenchmarks(repeats: repeats) : [],
    attention: selected("attention") ? attentionBenchmarks(repeats: repeats) : [],
    bandwidth: selected("bandwidth") ? bandwidthBenchmarks(repeats: repeats) : [],
    peakResidentMiB: nil)
report.peakResidentMiB = peakResidentMiB()

let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
FileHandle.standardOutput.write(try encoder.encode(report))
FileHandle.standardOutput.write(Data("\n".utf8))
// Keeps the measured results alive; never true in practice.
if blackHole == .infinity { FileHandle.standardError.write(Data("unreachable\n".utf8)) }

// Data-parallel synchronisation costs, run under mpirun:
//
//   mpirun -np 2 --bind-to none .build/release/DistributedBenchmarks [--repeats 3] [--batch 2] [--no-base]
//
// Prints one JSON object (rank 0) with
// - `allreduce`: seconds, algorithm bandwidth (bytes / s) and bus bandwidth (2(n−1)/n · bytes / s)
//   of an in-place MPI all-reduce of Float buffers up to TimeSformer-B's gradient (every
//   parameter of `timesformer_base_8x224`), raw and as the trainer's 25 MiB buckets;
// - `blocking_seconds` beside each all-reduce: plain blocking `MPI_Allreduce` of the same buffer,
//   the baseline for the deadline-polled non-blocking collective the trainer uses;
// - `copy_GBps`: one-thread memcpy bandwidth of the same buffer in the same run (the baseline a
//   shared-memory all-reduce is bounded by);
// - `step`: a training step of a small TimeSformer alone (every rank computing at once, so the
//   ranks' contention for the cores is in the figure) and the gradient synchronisation of that
//   model, and their ratio (the overhead of data parallelism per step).
import Distributed
import Foundation
import _CMPI
import TensorCore
import Training
import VideoTransformers

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { arguments.count > $0 + 1 ? Int(arguments[$0 + 1]) : nil } ?? fallback
}
let repeats = option("--repeats", 3)
let batch = option("--batch", 2)
let includeBase = !arguments.contains("--no-base")

MPIProcessGroup.register()
let group = try ProcessGroups.make(.mpi, options: .init(collectiveTimeout: 600))
ComputeContext.threadCount = ProcessGroups.threadsPerProcess(localProcesses: group.localSize)
let n = group.worldSize

// TimeSformer-B's gradient: every parameter of the registry variant, in its own shapes.
var generator = RandomGenerator(seed: 0)
let baseParameters: [Parameter] = includeBase
    ? try Backbones.create("timesformer_base_8x224", using: &generator).namedParameters().map(\.1) : []
let baseCount = baseParameters.reduce(0) { $0 + $1.shape.reduce(1, *) }

var sizes = [1 << 20, 16 << 20]
if includeBase { sizes.append(baseCount) }
var reduceRows: [[String: Any]] = []
var copyGBps = 0.0
for size in sizes {
    var buffer = [Float](repeating: Float(group.rank + 1), count: size)
    var times: [Double] = []
    for _ in 0...repeats {
        try group.barrier()
        times.append(try seconds { try group.allReduce(&buffer, .sum) })
    }
    let t = median(Array(times.dropFirst()))
    var blocking: [Double] = []
    for _ in 0...repeats {
        try group.barrier()
        blocking.append(seconds {
            _ = buffer.withUnsafeMutableBufferPointer { b in
                MPI_Allreduce(cmpi_in_place(), b.baseAddress!, Int32(size), cmpi_float(), cmpi_sum(), cmpi_comm_world())
            }
        })
    }
    let bytes = Double(size * 4)
    reduceRows.append(["floats": size, "seconds": t, "algbw_GBps": bytes / t / 1e9,
                       "busbw_GBps": 2 * Double(n - 1) / Double(n) * bytes / t / 1e9,
                       "blocking_seconds": median(Array(blocking.dropFirst()))])
    if size == sizes.last! {
        var target = [Float](repeating: 0, count: size)
        let c = median((0..<repeats).map { _ in
            seconds { target.withUnsafeMutableBufferPointer { d in buffer.withUnsafeBufferPointer { s in
                _ = memcpy(d.baseAddress!, s.baseAddress!, size * 4) } } }
        })
        copyGBps = bytes / c / 1e9
    }
}

// The same gradient in the trainer's 25 MiB buckets (packing, flags and unpacking included).
var bucketed: [String: Any] = [:]
if includeBase {
    for p in baseParameters { p.grad = Tensor(ones: p.shape) }
    let buckets = GradientBuckets(parameters: baseParameters)
    let t = median(try (0...repeats).map { _ in try group.barrier(); return try seconds { try buckets.average(over: group) } }.dropFirst().map { $0 })
    bucketed = ["floats": baseCount, "buckets": buckets.buckets.count, "seconds": t,
                "algbw_GBps": Double(baseCount * 4) / t / 1e9]
    for p in baseParameters { p.grad = nil }
}

// A small model's step and its synchronisation.
let model = "timesformer_tiny_8x112"
let overrides: [String: ConfigValue] = ["depth": .int(4)]
try group.barrier()
let step = try StepBenchmark(model: model, overrides: overrides, batchSize: batch, steps: repeats).measure(.train)
let stepParameters = try Backbones.create(model, overrides: overrides, using: &generator).namedParameters().map(\.1)
for p in stepParameters { p.grad = Tensor(ones: p.shape) }
let stepBuckets = GradientBuckets(parameters: stepParameters)
let sync = median(try (0...repeats).map { _ in try group.barrier(); return try seconds { try stepBuckets.average(over: group) } }.dropFirst().map { $0 })
var stepTimes = [step.stepSeconds]
try group.allReduce(&stepTimes, .max)

if group.isPrimary {
    let report: [String: Any] = [
        "ranks": n, "local_ranks": group.localSize, "threads_per_rank": ComputeContext.threadCount,
        "timesformer_b_parameters": baseCount,
        "allreduce": reduceRows, "bucketed_timesformer_b": bucketed, "copy_GBps": copyGBps,
        "step": ["model": model, "depth": 4, "batch_per_rank": batch,
                 "parameters": stepParameters.reduce(0) { $0 + $1.shape.reduce(1, *) },
                 "compute_seconds_slowest_rank": stepTimes[0], "sync_seconds": sync,
                 "sync_share": sync / (stepTimes[0] + sync)],
    ]
    let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}
try group.shutDown()

import Dispatch
import Synchronization
internal import _CBLAS

/// The process-wide compute thread budget shared by BLAS and TensorCore's own kernels.
///
/// One budget exists per process (default: every core). OpenBLAS itself always runs on one thread:
/// large products are split into row or column blocks over the same worker threads as every other
/// kernel. OpenBLAS's own pool spins (`sched_yield`) between calls, which on a two-core machine took
/// a fifth of a training step away from the kernels running in between; TensorCore's workers spin
/// only for a millisecond after a region, with the CPU's pause hint, and then sleep. Data loading
/// should draw its workers from the same figure.
public enum ComputeContext {
    private static let budget = Atomic<Int>(0)

    /// The number of threads compute may use (at least one).
    public static var threadCount: Int {
        get {
            let current = budget.load(ordering: .relaxed)
            if current > 0 { return current }
            let cores = Swift.max(1, System.activeProcessorCount)
            setThreadCount(cores)
            return cores
        }
        set { setThreadCount(newValue) }
    }

    private static func setThreadCount(_ n: Int) {
        _ = keepFreedTensorsInHeap
        let clamped = Swift.max(1, n)
        budget.store(clamped, ordering: .relaxed)
        openblas_set_num_threads(1)
    }

    /// Tells glibc's allocator to keep freed buffers of up to 32 MiB in the heap instead of handing
    /// them back to the kernel. A training step frees and reallocates the same activation sizes every
    /// step; without this each one is a fresh `mmap` or heap growth whose pages fault in again
    /// (12% of an inference step). Peak memory is unchanged: only memory already used is kept.
    /// `mallopt` is looked up at run time because Swift's Glibc module does not export <malloc.h>.
    private static let keepFreedTensorsInHeap: Void = {
        #if os(Linux)
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)  // glibc's largest accepted value on 64-bit
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
    }()

    /// Whether the calling thread is running a chunk of a ``parallelFor(_:minimumChunk:_:)`` region.
    static var isInsideParallelRegion: Bool { pthread_getspecific(regionKey) != nil }

    /// Marks (or unmarks) the calling thread as running inside a parallel region, so that a nested
    /// region runs inline.
    static func markInsideParallelRegion(_ inside: Bool) {
        pthread_setspecific(regionKey, inside ? UnsafeRawPointer(bitPattern: 1) : nil)
    }

    /// Marks the threads running parallel chunks, so that a nested region runs inline.
    private static let regionKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body` over `0..<count` split into contiguous chunks on up to ``threadCount`` threads.
    ///
    /// Work smaller than `minimumChunk` items per thread runs on the calling thread, and so does a
    /// region opened from inside another one: the budget is never exceeded by nesting. The chunks
    /// run on TensorCore's own worker threads (see `WorkerPool`); a region opened while another
    /// thread's region is running there goes to Dispatch's thread pool instead.
    public static func parallelFor(
        _ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let threads = min(threadCount, Swift.max(1, count / Swift.max(1, minimumChunk)))
        if threads <= 1 || isInsideParallelRegion {
            body(0..<count)
            return
        }
        let chunk = { (t: Int) in
            let lo = count * t / threads
            let hi = count * (t + 1) / threads
            if lo < hi { body(lo..<hi) }
        }
        markInsideParallelRegion(true)
        let ran = WorkerPool.shared.run(threads, chunk)
        markInsideParallelRegion(false)
        if ran { return }
        withoutActuallyEscaping(chunk) { escaping in
            // The chunks are disjoint and the call returns only when all have run.
            nonisolated(unsafe) let run = escaping
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                markInsideParallelRegion(true)
                run(t)
                markInsideParallelRegion(false)
            }
        }
    }

    /// Runs `body`; BLAS calls are always single-threaded, so this only documents the intent
    /// at call sites written when BLAS had its own threads.
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        try body()
    }
}

/// Machine facts TensorCore needs.
enum System {
    static var activeProcessorCount: Int {
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

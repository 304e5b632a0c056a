import Dispatch
import Synchronization
import _CBLAS

/// The process-wide compute thread budget shared by BLAS and TensorCore's own kernels.
///
/// One budget exists per process (default: every core). BLAS is told the same number, and
/// TensorCore never runs a multithreaded BLAS call inside one of its own parallel regions, so the
/// cores are never oversubscribed. Data loading should draw its workers from the same figure.
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
        let clamped = Swift.max(1, n)
        budget.store(clamped, ordering: .relaxed)
        openblas_set_num_threads(Int32(clamped))
    }

    /// Runs `body` over `0..<count` split into contiguous chunks on up to ``threadCount`` threads.
    ///
    /// Work smaller than `minimumChunk` items per thread runs on the calling thread. BLAS is kept
    /// single-threaded while the region runs, so a kernel may call BLAS from inside `body`.
    public static func parallelFor(
        _ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let threads = min(threadCount, Swift.max(1, count / Swift.max(1, minimumChunk)))
        if threads <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { escaping in
            // The chunks are disjoint and the call returns only when all have run.
            nonisolated(unsafe) let chunk = escaping
            withSingleThreadedBLAS {
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let lo = count * t / threads
                    let hi = count * (t + 1) / threads
                    if lo < hi { chunk(lo..<hi) }
                }
            }
        }
    }

    /// Runs `body` with BLAS limited to one thread, restoring the budget afterwards.
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let n = threadCount
        if n > 1 { openblas_set_num_threads(1) }
        defer { if n > 1 { openblas_set_num_threads(Int32(n)) } }
        return try body()
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

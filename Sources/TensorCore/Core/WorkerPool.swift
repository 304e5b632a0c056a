import Foundation
import Synchronization
internal import _CKernels

/// The persistent threads that run ``ComputeContext/parallelFor(_:minimumChunk:_:)`` regions.
///
/// A training step opens about 600 parallel regions of a few hundred microseconds each. With
/// `DispatchQueue.concurrentPerform` the second thread joined each one some 30–50 µs late (a
/// sleeping pool thread woken through the kernel), which cost 6% of a step. Here the workers stay
/// awake for a short while after a region (spinning on one atomic word with the CPU's pause hint),
/// so a region that follows within that time starts on every thread at once; after it they sleep on
/// a condition variable and cost nothing.
///
/// One caller at a time: the caller runs iterations too and returns when all have finished. A
/// second thread that opens a region while the pool is busy gets `false` from ``run(_:_:)`` and
/// runs its region some other way.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker spins before it sleeps, and how long a caller spins waiting for the
    /// workers to finish before it sleeps: longer than the serial code between two kernels of a
    /// model step, short enough that an idle process is idle. Measured on TimeSformer-tiny (two
    /// threads): 1 ms of worker spin gave 3% faster steps than none, 0.2 ms about 2%.
    private static let workerSpin: UInt64 = 1_000_000
    private static let callerSpin: UInt64 = 2_000_000

    /// The generation of the current region (high 32 bits), its iteration count (next 16) and the
    /// next unclaimed iteration (low 16), in one word so that a claim can never mix two regions.
    private let ticket = Atomic<UInt64>(0)
    /// Iterations of the current region not yet finished.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepingWorkers = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    /// The current region's body; written before the ticket is published, read after a claim.
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    /// Workers started so far; changed only by the thread holding `busy`.
    private nonisolated(unsafe) var workerCount = 0

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workAvailable: UnsafeMutablePointer<pthread_cond_t>
    private let workDone: UnsafeMutablePointer<pthread_cond_t>

    private init() {
        mutex = .allocate(capacity: 1)
        workAvailable = .allocate(capacity: 1)
        workDone = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workAvailable, nil)
        pthread_cond_init(workDone, nil)
    }

    private static func generation(_ ticket: UInt64) -> UInt64 { ticket >> 32 }

    /// Runs `body(i)` for every `i` in `0..<iterations` on the calling thread and the workers, or
    /// returns `false` at once when another thread's region is running.
    func run(_ iterations: Int, _ body: (Int) -> Void) -> Bool {
        precondition(iterations > 0 && iterations < 1 << 16, "WorkerPool: \(iterations) iterations")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        let generation = (Self.generation(ticket.load(ordering: .relaxed)) &+ 1) & 0xFFFF_FFFF
        startWorkers(upTo: iterations - 1)
        withoutActuallyEscaping(body) { escaping in
            self.body = escaping
            remaining.store(iterations, ordering: .relaxed)
            // Sequentially consistent with the workers' check of their own sleeping count.
            ticket.store(generation << 32 | UInt64(iterations) << 16, ordering: .sequentiallyConsistent)
            if sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(workAvailable)
                pthread_mutex_unlock(mutex)
            }
            work(generation: generation)
            waitForWorkers()
            self.body = nil
        }
        return true
    }

    /// Claims and runs iterations of `generation` until none is left.
    private func work(generation: UInt64) {
        while true {
            var current = ticket.load(ordering: .acquiring)
            var claimed = -1
            while Self.generation(current) == generation {
                let next = current & 0xFFFF, count = (current >> 16) & 0xFFFF
                guard next < count else { break }
                let (exchanged, original) = ticket.compareExchange(
                    expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged {
                    claimed = Int(next)
                    break
                }
                current = original
            }
            guard claimed >= 0 else { return }
            // The region cannot end before this iteration does, so `body` is this region's.
            body!(claimed)
            if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
               callerSleeping.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(workDone)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    private func waitForWorkers() {
        if spin(for: Self.callerSpin, until: { remaining.load(ordering: .acquiring) == 0 }) { return }
        pthread_mutex_lock(mutex)
        callerSleeping.store(true, ordering: .sequentiallyConsistent)
        while remaining.load(ordering: .sequentiallyConsistent) > 0 { pthread_cond_wait(workDone, mutex) }
        callerSleeping.store(false, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
    }

    /// Spins with the pause hint until `done()` or until `nanoseconds` have passed; whether `done()`.
    @inline(__always)
    private func spin(for nanoseconds: UInt64, until done: () -> Bool) -> Bool {
        let start = DispatchTime.now().uptimeNanoseconds
        var rounds = 0
        while !done() {
            vssl_cpu_relax()
            rounds &+= 1
            if rounds & 63 == 0 && DispatchTime.now().uptimeNanoseconds &- start > nanoseconds { return done() }
        }
        return true
    }

    private func startWorkers(upTo count: Int) {
        while workerCount < count {
            let seen = Self.generation(ticket.load(ordering: .relaxed))
            let thread = Thread { [unowned self] in self.workerLoop(seen: seen) }
            thread.name = "TensorCore compute \(workerCount + 1)"
            thread.start()
            workerCount += 1
        }
    }

    private func workerLoop(seen initial: UInt64) {
        ComputeContext.markInsideParallelRegion(true)
        var seen = initial
        while true {
            // The condition is passed as a literal, so its context stays on the stack: a closure
            // stored in a local here was heap-allocated on every round and never freed (found by
            // LeakSanitizer; 40 bytes per parallel region per worker).
            if !spin(for: Self.workerSpin, until: { Self.generation(self.ticket.load(ordering: .acquiring)) != seen }) {
                pthread_mutex_lock(mutex)
                sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
                while Self.generation(ticket.load(ordering: .sequentiallyConsistent)) == seen {
                    pthread_cond_wait(workAvailable, mutex)
                }
                sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = Self.generation(ticket.load(ordering: .acquiring))
            work(generation: seen)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

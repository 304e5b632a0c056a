import Foundation
import Synchronization
import Testing
import TensorCore

/// `ComputeContext.parallelFor` on TensorCore's worker threads: every index runs exactly once, in
/// contiguous chunks, for many regions in a row (the workers pick up each new region), nested
/// regions run inline, and regions opened by several threads at once all complete.
@Suite struct ParallelForTests {
    /// Counts how often each index ran.
    final class Tally: @unchecked Sendable {
        let counts: UnsafeMutableBufferPointer<Atomic<Int>>
        init(_ n: Int) {
            counts = .allocate(capacity: n)
            for i in 0..<n { (counts.baseAddress! + i).initialize(to: Atomic(0)) }
        }
        func mark(_ range: Range<Int>) { for i in range { counts[i].add(1, ordering: .relaxed) } }
        func allOnce() -> Bool { (0..<counts.count).allSatisfy { counts[$0].load(ordering: .relaxed) == 1 } }
        deinit { counts.deallocate() }
    }

    @Test func everyIndexRunsOnceAcrossManyRegions() {
        for count in [1, 2, 3, 17, 1000] {
            for _ in 0..<200 {
                let tally = Tally(count)
                ComputeContext.parallelFor(count) { tally.mark($0) }
                #expect(tally.allOnce(), "count \(count)")
            }
        }
    }

    @Test func nestedRegionsRunInline() {
        let outer = Tally(8), inner = Tally(8 * 64)
        ComputeContext.parallelFor(8) { range in
            outer.mark(range)
            for i in range {
                ComputeContext.parallelFor(64) { inner.mark(($0.lowerBound + 64 * i)..<($0.upperBound + 64 * i)) }
            }
        }
        #expect(outer.allOnce() && inner.allOnce())
    }

    @Test func regionsFromSeveralThreadsAllComplete() {
        let tallies = (0..<4).map { _ in Tally(5000) }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for r in 0..<50 {
                ComputeContext.parallelFor(100) { range in
                    tallies[t].mark((range.lowerBound + 100 * r)..<(range.upperBound + 100 * r))
                }
            }
        }
        #expect(tallies.allSatisfy { $0.allOnce() })
    }
}

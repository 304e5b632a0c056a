import Foundation
import TensorCore
import Training
import XCTest

/// A group of `count` ranks as threads of this process, for testing collectives without MPI.
final class ThreadGroup: ProcessGroup, @unchecked Sendable {
    final class Shared: @unchecked Sendable {
        let count: Int
        let condition = NSCondition()
        var arrived = 0
        var generation = 0
        var slots: [[Double]]
        var result: [Double] = []
        init(count: Int) {
            self.count = count
            slots = Array(repeating: [], count: count)
        }
    }
    let shared: Shared
    let rank: Int
    var worldSize: Int { shared.count }
    var localSize: Int { shared.count }
    init(_ shared: Shared, rank: Int) {
        self.shared = shared
        self.rank = rank
    }

    /// Everyone deposits `values`; every rank gets `combine` of all of them, in rank order.
    private func exchange(_ values: [Double], _ combine: ([[Double]]) -> [Double]) -> [Double] {
        let s = shared
        s.condition.lock()
        defer { s.condition.unlock() }
        let generation = s.generation
        s.slots[rank] = values
        s.arrived += 1
        if s.arrived == s.count {
            s.result = combine(s.slots)
            s.arrived = 0
            s.generation += 1
            s.condition.broadcast()
        } else {
            while s.generation == generation { s.condition.wait() }
        }
        return s.result
    }

    private static func reduce(_ all: [[Double]], _ op: ReductionOperation) -> [Double] {
        var out = all[0]
        for other in all.dropFirst() {
            for i in out.indices { out[i] = op == .max ? Swift.max(out[i], other[i]) : out[i] + other[i] }
        }
        return out
    }

    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        let out = exchange(buffer.map(Double.init)) { $0[root] }
        for i in buffer.indices { buffer[i] = Float(out[i]) }
    }
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
        // Sums in Float, as MPI does for MPI_FLOAT.
        let out = exchange(buffer.map(Double.init)) { all in
            var acc = all[0].map(Float.init)
            for other in all.dropFirst() {
                for i in acc.indices { acc[i] = operation == .max ? Swift.max(acc[i], Float(other[i])) : acc[i] + Float(other[i]) }
            }
            return acc.map(Double.init)
        }
        let scale: Float = operation == .average ? 1 / Float(shared.count) : 1
        for i in buffer.indices { buffer[i] = Float(out[i]) * scale }
    }
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {
        let out = exchange(Array(buffer)) { Self.reduce($0, operation) }
        for i in buffer.indices { buffer[i] = operation == .average ? out[i] / Double(shared.count) : out[i] }
    }
    func barrier() throws { _ = exchange([]) { _ in [] } }
    func abort(_ message: String, status: Int32) -> Never { fatalError(message) }
    func shutDown() throws {}

    /// Runs `body(rank group)` on `count` threads and returns the results by rank.
    static func run<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (ThreadGroup) throws -> T) throws -> [T] {
        let shared = Shared(count: count)
        let results = NSLock()
        nonisolated(unsafe) var out = [Result<T, any Error>?](repeating: nil, count: count)
        let done = DispatchGroup()
        for r in 0..<count {
            done.enter()
            Thread {
                let value = Result { try body(ThreadGroup(shared, rank: r)) }
                results.withLock { out[r] = value }
                done.leave()
            }.start()
        }
        done.wait()
        return try out.map { try $0!.get() }
    }
}

final class GradientBucketsTests: XCTestCase {
    /// Parameters of sizes 3, 5, 2 and 7 with rank-dependent gradients (the third has none on
    /// any rank, the fourth only on rank 1).
    private static func parameters(rank: Int) -> [Parameter] {
        let sizes = [3, 5, 2, 7]
        let ps = sizes.map { Parameter(Tensor(zeros: [$0])) }
        for (i, p) in ps.enumerated() where i < 2 || (i == 3 && rank == 1) {
            p.grad = Tensor(shape: [sizes[i]], scalars: (0..<sizes[i]).map { Float(10 * i + $0) + Float(rank) * 0.5 })
        }
        return ps
    }

    func testBucketsSplitAtCapacityAndKeepOrder() {
        let buckets = GradientBuckets(parameters: Self.parameters(rank: 0), capacity: 10)
        // 3+1 and 5+1 fill 10; then 2+1 and 7+1 fill 11 > 10, so they split.
        XCTAssertEqual(buckets.buckets, [0..<2, 2..<3, 3..<4])
        XCTAssertEqual(buckets.capacity, 10)
    }

    func testAverageOverTwoRanksEqualsMeanAndKeepsMissingGradientsNil() throws {
        let results = try ThreadGroup.run(2) { group -> [[Float]?] in
            let ps = Self.parameters(rank: group.rank)
            try GradientBuckets(parameters: ps, capacity: 8).average(over: group)
            return ps.map { $0.grad?.scalars }
        }
        XCTAssertEqual(results[0].count, 4)
        for rank in 0..<2 {
            let grads = results[rank]
            XCTAssertEqual(grads[0]!, [0.25, 1.25, 2.25])
            XCTAssertEqual(grads[1]!, (0..<5).map { Float(10 + $0) + 0.25 })
            XCTAssertNil(grads[2], "no rank had a gradient: it stays nil")
            // Only rank 1 had one: the mean with rank 0's zeros.
            XCTAssertEqual(grads[3]!, (0..<7).map { (Float(30 + $0) + 0.5) / 2 })
        }
    }

    func testSingleProcessGroupLeavesGradientsUntouched() throws {
        let ps = Self.parameters(rank: 0)
        try GradientBuckets(parameters: ps).average(over: SingleProcessGroup())
        XCTAssertEqual(ps[0].grad!.scalars, [0, 1, 2])
        XCTAssertNil(ps[2].grad)
    }

    func testThreadsPerProcessSplitsTheCores() {
        XCTAssertEqual(ProcessGroups.threadsPerProcess(localProcesses: 2, cores: 16), 8)
        XCTAssertEqual(ProcessGroups.threadsPerProcess(localProcesses: 3, cores: 2), 1)
        XCTAssertEqual(ProcessGroups.threadsPerProcess(localProcesses: 0, cores: 4), 4)
    }

    func testAutomaticModeWithoutLauncherIsOneProcess() throws {
        let group = try ProcessGroups.make(.automatic, environment: [:])
        XCTAssertEqual(group.worldSize, 1)
        XCTAssertEqual(group.rank, 0)
        XCTAssertEqual(try ProcessGroups.make(.off, environment: ["OMPI_COMM_WORLD_SIZE": "2"]).worldSize, 1)
    }
}

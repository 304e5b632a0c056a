import Foundation
import TensorCore

/// The batches of one epoch from a start position, built ahead by worker threads.
///
/// Call ``next()`` until it returns `nil`. The workers stop and are waited for when the epoch is
/// done, when ``close()`` is called, when an error is thrown, or when the iterator is released,
/// so no thread outlives it.
public final class DataLoaderIterator {
    private let run: LoaderRun
    private let start: DataLoader.Position
    private let batchCount: Int
    private let indices: [Int]
    private let shard: DataLoader.Shard
    private var delivered = 0
    private var waited = 0.0
    private var finished = false

    init(loader: DataLoader, start: DataLoader.Position, shard: DataLoader.Shard = .whole, end: Int? = nil) {
        self.start = start
        self.batchCount = loader.batchesPerEpoch
        self.shard = shard
        let last = min(end ?? batchCount, batchCount)
        indices = start.batchIndex < last ? (start.batchIndex..<last).filter { $0 % shard.count == shard.index } : []
        run = LoaderRun(
            assembler: BatchAssembler(loader: loader, epoch: start.epoch),
            batches: indices, prefetch: loader.configuration.prefetch)
        run.startWorkers(loader.configuration.workerCount)
    }

    deinit { run.stop() }

    /// The next batch, or `nil` after the epoch's last one.
    ///
    /// - Throws: ``DatasetError/unreadableItem(path:index:reason:)`` under the `.throw` policy, or
    ///   ``DatasetError/noReadableItems(count:)``; the iterator is closed after an error.
    public func next() throws -> DataLoader.Batch? {
        guard !finished else { return nil }
        guard delivered < indices.count else {
            close()
            return nil
        }
        let index = indices[delivered]
        let began = DispatchTime.now().uptimeNanoseconds
        let result = run.take(delivered)
        let wait = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        delivered += 1
        waited += wait
        switch result {
        case .failure(let error):
            close()
            throw error
        case .success(let built):
            // The position after this batch's group of `shard.count` (one batch per rank), so every
            // rank reports the same position at the end of a step.
            let after = index - index % shard.count + shard.count
            let next = after < batchCount
                ? DataLoader.Position(epoch: start.epoch, batchIndex: after)
                : DataLoader.Position(epoch: start.epoch + 1, batchIndex: 0)
            return DataLoader.Batch(
                clips: built.clips, views: built.views, labels: built.labels, extras: built.extras, itemIndices: built.items,
                position: DataLoader.Position(epoch: start.epoch, batchIndex: index), nextPosition: next,
                dataWaitSeconds: wait)
        }
    }

    /// Stops the workers and waits until every one has exited. Calling it again does nothing.
    public func close() {
        finished = true
        run.stop()
    }

    /// Worker threads still running (0 once closed).
    public var runningWorkers: Int { run.runningWorkers }

    /// Skips, prefetch depth and waiting so far.
    public var statistics: DataLoaderStatistics {
        var stats = DataLoaderStatistics()
        let skips = run.assembler.skipCounts()
        stats.batchesDelivered = delivered
        stats.skippedPaths = skips.paths
        stats.replacedSamples = skips.replaced
        stats.peakBatchesInFlight = run.peakInFlight
        stats.totalDataWaitSeconds = waited
        return stats
    }
}

/// The state the caller and the workers share: which batches are claimed, which are ready.
///
/// A batch is in flight from the moment a worker claims it until the caller takes it; workers
/// claim only while fewer than `prefetch` are in flight, which is the back-pressure.
final class LoaderRun: @unchecked Sendable {
    typealias Built = (clips: Tensor, views: [Tensor], labels: [Int], extras: [String: IntTensor], items: [Int])

    let assembler: BatchAssembler
    /// The batch indices to build, in order; claims and takes count positions in this list.
    private let batches: [Int]
    private let prefetch: Int
    private let condition = NSCondition()
    private var nextToClaim: Int
    private var nextToTake: Int
    private var ready: [Int: Result<Built, any Error>] = [:]
    private var stopping = false
    private var running = 0
    private var peak = 0

    init(assembler: BatchAssembler, batches: [Int], prefetch: Int) {
        self.assembler = assembler
        self.batches = batches
        self.prefetch = prefetch
        nextToClaim = 0
        nextToTake = 0
    }

    func startWorkers(_ count: Int) {
        let workers = min(count, batches.count)
        condition.withLock { running = workers }
        for w in 0..<workers {
            let thread = Thread { [self] in work() }
            thread.name = "videoio.dataloader.\(w)"
            thread.start()
        }
    }

    private func work() {
        condition.lock()
        while !stopping && nextToClaim < batches.count {
            if nextToClaim - nextToTake >= prefetch {
                condition.wait()
                continue
            }
            let b = nextToClaim
            nextToClaim += 1
            peak = max(peak, nextToClaim - nextToTake)
            condition.unlock()
            let result = Result { try assembler.batch(batches[b]) }
            condition.lock()
            ready[b] = result
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the `b`-th batch of the list (the next in order) and frees its slot.
    func take(_ b: Int) -> Result<Built, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while ready[b] == nil { condition.wait() }
        nextToTake = b + 1
        condition.broadcast()
        return ready.removeValue(forKey: b)!
    }

    /// Tells the workers to stop after their current batch and waits until all have exited.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }

    var runningWorkers: Int { condition.withLock { running } }
    var peakInFlight: Int { condition.withLock { peak } }
}

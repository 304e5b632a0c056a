import Foundation
import Logging
import TensorCore

/// Builds batches for one run of a loader; shared by its workers, so its mutable state (the set of
/// items known to be unreadable, the skip counts) sits behind a lock.
final class BatchAssembler: @unchecked Sendable {
    let loader: DataLoader
    let epoch: Int
    let order: [Int]
    private let lock = NSLock()
    private var unreadable: [Int: String] = [:]
    private var replacedSamples = 0
    private static let logger = Logger(label: "videossl.videoio.dataloader")

    init(loader: DataLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
    }

    /// The skip counts so far.
    func skipCounts() -> (paths: [String], replaced: Int) {
        lock.withLock { (unreadable.values.sorted(), replacedSamples) }
    }

    /// Batch `b` of the epoch.
    func batch(_ b: Int) throws -> (clips: Tensor, views: [Tensor], labels: [Int], extras: [String: IntTensor], items: [Int]) {
        let size = loader.configuration.batchSize
        let positions = (b * size)..<min((b + 1) * size, order.count)
        var clips: [Tensor] = [], labels: [Int] = [], items: [Int] = []
        var views: [[Tensor]] = []
        var extras: [String: [IntTensor]] = [:]
        for p in positions {
            let sample = try self.sample(at: p)
            clips.append(sample.clip)
            if !sample.views.isEmpty {
                if views.isEmpty { views = Array(repeating: [], count: sample.views.count) }
                guard sample.views.count == views.count else {
                    throw TransformError.invalidParameter(
                        op: "views", name: "count", value: "\(sample.views.count)",
                        requirement: "must be the same for every sample (\(views.count) before)")
                }
                for (v, view) in sample.views.enumerated() { views[v].append(view) }
            }
            labels.append(loader.dataset.items[sample.item].label)
            items.append(sample.item)
            for (name, value) in sample.extras { extras[name, default: []].append(value) }
        }
        return (stack(clips), views.map(stack), labels, extras.mapValues(stack), items)
    }

    /// Sample `p` of the epoch order. Under `.skip` an unreadable item is replaced by the next
    /// readable one in dataset order, with the sample's own generator restarted, so the result is
    /// the same whichever worker meets the bad item first.
    private func sample(at p: Int) throws -> (clip: Tensor, views: [Tensor], extras: [String: IntTensor], item: Int) {
        let items = loader.dataset.items
        let config = loader.configuration
        for attempt in 0..<items.count {
            let index = (order[p] + attempt) % items.count
            if lock.withLock({ unreadable[index] != nil }) { continue }
            var generator = loader.sampleGenerator(epoch: epoch, index: p)
            do {
                // The companion replays the item's sampler draws, so a video companion of the same
                // length gets the same frames; the stream then continues from the item's state.
                let companionGenerator = generator
                var clip = try items[index].loadClip(sampler: config.sampler, size: config.frameSize, using: &generator)
                if config.decodesCompanions {
                    clip = try withCompanion(clip, of: items[index], generator: companionGenerator)
                }
                var views: [Tensor] = []
                if let makeViews = config.views {
                    views = try makeViews(clip, &generator)
                    guard let first = views.first else {
                        throw TransformError.invalidParameter(op: "views", name: "count", value: "0", requirement: "must be positive")
                    }
                    clip = first
                } else {
                    try config.transform?(&clip, &generator)
                }
                var extras: [String: IntTensor] = [:]
                for (name, extra) in config.extras { extras[name] = try extra(clip) }
                if attempt > 0 { lock.withLock { replacedSamples += 1 } }
                return (clip, views, extras, index)
            } catch {
                let path = items[index].path
                if loader.dataset.badItemPolicy == .throw {
                    throw DatasetError.unreadableItem(path: path, index: index, reason: "\(error)")
                }
                let isNew = lock.withLock { unreadable.updateValue(path, forKey: index) == nil }
                if isNew { BatchAssembler.logger.warning("skipping unreadable item \(index): \(path): \(error)") }
            }
        }
        throw DatasetError.noReadableItems(count: items.count)
    }

    /// `clip` followed by the frames of `item`'s companion, decoded as the item was.
    private func withCompanion(_ clip: Tensor, of item: DatasetItem, generator: RandomGenerator) throws -> Tensor {
        guard let path = item.companion else { throw DatasetError.missingCompanion(path: "", item: item.path) }
        var generator = generator
        let companion = try DatasetItem(path: path, label: item.label, media: item.media)
            .loadClip(sampler: loader.configuration.sampler, size: loader.configuration.frameSize, using: &generator)
        guard companion.shape == clip.shape else {
            throw DatasetError.unreadableItem(path: path, index: -1,
                                              reason: "companion decodes to \(companion.shape), its item to \(clip.shape)")
        }
        return Tensor.concat([clip, companion], axis: 0)
    }

    private func stack(_ clips: [Tensor]) -> Tensor {
        let shape = clips[0].shape
        for (i, c) in clips.enumerated() where c.shape != shape {
            preconditionFailure("DataLoader: sample \(i) has shape \(c.shape), sample 0 \(shape)")
        }
        let n = clips[0].count
        return Tensor(shape: [clips.count] + shape) { out in
            for (i, c) in clips.enumerated() {
                c.withUnsafeBufferPointer { src in
                    _ = UnsafeMutableBufferPointer(rebasing: out[(i * n)..<((i + 1) * n)]).initialize(from: src)
                }
            }
        }
    }

    private func stack(_ values: [IntTensor]) -> IntTensor {
        let shape = values[0].shape
        for (i, v) in values.enumerated() where v.shape != shape {
            preconditionFailure("DataLoader: extra of sample \(i) has shape \(v.shape), sample 0 \(shape)")
        }
        return IntTensor(shape: [values.count] + shape, scalars: values.flatMap(\.scalars))
    }
}

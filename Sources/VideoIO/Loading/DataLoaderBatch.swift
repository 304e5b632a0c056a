import TensorCore

extension DataLoader {
    /// A place in the stream of batches: the epoch and the batch within it.
    ///
    /// Save a batch's ``Batch/nextPosition`` with a checkpoint and pass it to
    /// ``DataLoader/batches(from:)`` to continue with exactly the batches that would have followed.
    public struct Position: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The epoch, from 0.
        public var epoch: Int
        /// The batch within the epoch, from 0.
        public var batchIndex: Int

        /// Creates a position.
        public init(epoch: Int, batchIndex: Int = 0) {
            self.epoch = epoch
            self.batchIndex = batchIndex
        }

        /// `epoch E, batch B`.
        public var description: String { "epoch \(epoch), batch \(batchIndex)" }
    }

    /// One batch of clips with their labels and where it sits in the stream.
    public struct Batch: Sendable {
        /// Clips `[B, T, 3, H, W]` after the configured transform (with views: the first view).
        public var clips: Tensor
        /// With ``DataLoaderConfiguration/views``: every view stacked over the batch, in the order
        /// the view transform returns them (view `v` is `[B, T_v, 3, H_v, W_v]`); else empty.
        public var views: [Tensor]
        /// Class labels, one per clip.
        public var labels: [Int]
        /// The configured extras stacked per sample, `[B, ...]` (e.g. flow labels `[B, T-1, N]`).
        public var extras: [String: IntTensor]
        /// The dataset index each clip was read from (after replacing unreadable items).
        public var itemIndices: [Int]
        /// This batch's position.
        public var position: Position
        /// The position of the batch after this one (the next epoch's first after the last).
        public var nextPosition: Position
        /// Seconds the caller waited in ``DataLoaderIterator/next()`` for this batch: the share of
        /// the step that data loading did not hide.
        public var dataWaitSeconds: Double
    }

    /// Runs in a worker on each decoded clip with the sample's generator (see
    /// ``DataLoaderConfiguration/transform``).
    public typealias ClipTransform = @Sendable (_ clip: inout Tensor, _ generator: inout RandomGenerator) throws -> Void

    /// Turns one decoded window `[L, 3, H, W]` (values in `[0, 1]`) into several views with the
    /// sample's generator (see ``DataLoaderConfiguration/views``); each view's shape must be the
    /// same for every sample.
    public typealias ViewTransform = @Sendable (_ window: Tensor, _ generator: inout RandomGenerator) throws -> [Tensor]

    /// Computes integer data for one transformed clip in a worker (see
    /// ``DataLoaderConfiguration/extras``).
    public typealias SampleExtra = @Sendable (_ clip: Tensor) throws -> IntTensor

    /// An extra computing TIME's flow-direction labels `[T-1, N]` from a normalised clip.
    public static func flowDirections(_ labeller: FlowDirectionLabels) -> SampleExtra {
        { clip in
            let rows = try labeller.labels(clip: clip)
            return IntTensor(shape: [rows.count, rows.first?.count ?? 0], scalars: rows.flatMap { $0 })
        }
    }
}

/// What a loader has done so far: skipped items, prefetch depth, waiting.
public struct DataLoaderStatistics: Sendable, Equatable {
    /// Batches handed to the caller.
    public var batchesDelivered = 0
    /// Distinct items found unreadable (each logged once).
    public var skippedItems: Int { skippedPaths.count }
    /// The paths of the unreadable items, sorted.
    public var skippedPaths: [String] = []
    /// Samples served by a replacement item because theirs was unreadable.
    public var replacedSamples = 0
    /// The most batches that were in flight at once (never above the configured prefetch).
    public var peakBatchesInFlight = 0
    /// Total seconds the caller waited for batches.
    public var totalDataWaitSeconds = 0.0

    /// Creates empty statistics.
    public init() {}
}

import TensorCore

/// Decodes, transforms and batches a ``VideoDataset`` on worker threads.
///
/// The batches depend only on the dataset, the configuration and the position — never on the
/// worker count or thread timing: epoch `e`'s order is a permutation drawn from `(seed, e)`, and
/// sample `i` of it gets a generator seeded from `(seed, e, i)` for its clip sampler and transform.
/// Workers build whole batches ahead of the caller, at most ``DataLoaderConfiguration/prefetch``
/// at a time.
///
/// ```swift
/// let loader = DataLoader(dataset: dataset, configuration: config)
/// let batches = loader.batches(from: .init(epoch: 0))
/// while let batch = try batches.next() { train(batch.clips, batch.labels) }
/// ```
public struct DataLoader: Sendable {
    /// The items and their bad-item policy.
    public let dataset: VideoDataset
    /// Batch size, sampling, workers, transform.
    public let configuration: DataLoaderConfiguration

    /// Creates a loader; no thread starts until ``batches(from:)``.
    public init(dataset: VideoDataset, configuration: DataLoaderConfiguration) {
        self.dataset = dataset
        self.configuration = configuration
    }

    /// Batches in one epoch (a partial last batch counts unless ``DataLoaderConfiguration/dropLast``).
    public var batchesPerEpoch: Int {
        let n = dataset.count, b = configuration.batchSize
        return configuration.dropLast ? n / b : (n + b - 1) / b
    }

    /// The dataset indices in the order epoch `epoch` visits them.
    public func order(epoch: Int) -> [Int] {
        guard configuration.shuffle else { return Array(0..<dataset.count) }
        var generator = RandomGenerator(seed: DataLoader.derivedSeed(configuration.seed, epoch, -1))
        return generator.permutation(dataset.count)
    }

    /// Starts workers producing the batches of `position.epoch` from `position.batchIndex` on.
    ///
    /// - Precondition: `position.batchIndex` is within `0...batchesPerEpoch`.
    public func batches(from position: Position) -> DataLoaderIterator {
        precondition(
            position.epoch >= 0 && (0...batchesPerEpoch).contains(position.batchIndex),
            "DataLoader.batches: \(position) outside \(batchesPerEpoch) batches per epoch")
        return DataLoaderIterator(loader: self, start: position)
    }

    /// One process's part of every epoch in data-parallel training: batch `b` belongs to process
    /// `b % count`, so the processes see distinct clips and together exactly the batches one
    /// process would see, each built as that process would build it.
    public struct Shard: Sendable, Hashable {
        /// This process's index, `0..<count`.
        public var index: Int
        /// The number of processes.
        public var count: Int
        /// The whole epoch (one process).
        public static let whole = Shard(index: 0, count: 1)

        /// Creates a shard.
        ///
        /// - Precondition: `0 <= index < count`.
        public init(index: Int, count: Int) {
            precondition(count >= 1 && (0..<count).contains(index), "DataLoader.Shard: index \(index) outside 0..<\(count)")
            self.index = index
            self.count = count
        }
    }

    /// Starts workers producing this shard's batches of `position.epoch` from `position.batchIndex`
    /// up to (not including) batch `end` (default: the epoch's end).
    ///
    /// Each delivered batch's ``Batch/nextPosition`` is the position after its group of
    /// `shard.count` batches, the same on every process.
    /// - Precondition: `position.batchIndex` is within `0...batchesPerEpoch`.
    public func batches(from position: Position, shard: Shard, end: Int? = nil) -> DataLoaderIterator {
        precondition(
            position.epoch >= 0 && (0...batchesPerEpoch).contains(position.batchIndex),
            "DataLoader.batches: \(position) outside \(batchesPerEpoch) batches per epoch")
        return DataLoaderIterator(loader: self, start: position, shard: shard, end: end)
    }

    /// The generator for sample `index` of epoch `epoch`: a pure function of the seed.
    public func sampleGenerator(epoch: Int, index: Int) -> RandomGenerator {
        RandomGenerator(seed: DataLoader.derivedSeed(configuration.seed, epoch, index))
    }

    /// Mixes the seed with an epoch and an index (SplitMix64's finaliser after each word), so
    /// neighbouring samples get unrelated streams.
    static func derivedSeed(_ seed: UInt64, _ epoch: Int, _ index: Int) -> UInt64 {
        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return mix(mix(mix(seed) ^ UInt64(bitPattern: Int64(epoch))) ^ UInt64(bitPattern: Int64(index)))
    }
}

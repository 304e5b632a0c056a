import TensorCore

/// How a ``DataLoader`` turns dataset items into batches.
///
/// Every random choice (epoch order, clip positions, augmentation) derives from ``seed``, so a
/// configuration names its batches exactly, whatever the worker count.
public struct DataLoaderConfiguration: Sendable {
    /// Samples per batch.
    public var batchSize: Int
    /// The size frames are decoded to (resized during colour conversion), before ``transform``.
    public var frameSize: FrameSize
    /// Picks each sample's frames; its first clip is used.
    public var sampler: any ClipSampler
    /// Whether each epoch visits the items in a fresh random order.
    public var shuffle: Bool
    /// Whether a final batch smaller than ``batchSize`` is dropped.
    public var dropLast: Bool
    /// The seed every sample's generator and every epoch's order derive from.
    public var seed: UInt64
    /// Worker threads decoding and transforming batches (at least 1).
    public var workerCount: Int
    /// The most batches in flight (being built or waiting to be taken); workers wait beyond it.
    public var prefetch: Int
    /// Runs in the worker on each decoded clip `[T, 3, H, W]` (values in `[0, 1]`) with the
    /// sample's own generator: cropping, flipping, normalisation. Its output sizes must agree
    /// across samples. An error it throws counts as the item being unreadable (see
    /// ``BadItemPolicy``), as does one from an extra.
    public var transform: DataLoader.ClipTransform?
    /// Makes several views of each decoded window instead of one clip (multi-view methods such
    /// as SVT, ``SVTViews``); when set, ``transform`` is not applied, the batch's clips are the first
    /// view and extras are computed from it. An error it throws counts as the item being
    /// unreadable.
    public var views: DataLoader.ViewTransform?
    /// Per-sample integer data computed in the worker from the transformed clip (for example
    /// ``DataLoader/flowDirections(_:)``), stacked into `[B, ...]` under the same name.
    public var extras: [String: DataLoader.SampleExtra]
    /// Whether each item's ``DatasetItem/companion`` is decoded too, with the same frame
    /// positions, and appended after the item's frames before ``transform`` or ``views`` run:
    /// the window is `[2T, 3, H, W]`, so one transform gives both the same crop and flip (image
    /// TIME's view transform splits it back into the image and its background). An item without
    /// a companion then counts as unreadable (``DatasetError/missingCompanion(path:item:)``).
    public var decodesCompanions: Bool

    /// Creates a configuration; `workerCount` defaults to ``ComputeContext/threadCount`` and
    /// `prefetch` to twice the worker count.
    public init(
        batchSize: Int, frameSize: FrameSize, sampler: any ClipSampler, shuffle: Bool = true,
        dropLast: Bool = true, seed: UInt64 = 0, workerCount: Int? = nil, prefetch: Int? = nil,
        transform: DataLoader.ClipTransform? = nil, views: DataLoader.ViewTransform? = nil,
        extras: [String: DataLoader.SampleExtra] = [:], decodesCompanions: Bool = false
    ) {
        let workers = workerCount ?? ComputeContext.threadCount
        precondition(batchSize > 0, "DataLoaderConfiguration: batch size \(batchSize) must be positive")
        precondition(workers > 0, "DataLoaderConfiguration: worker count \(workers) must be positive")
        self.batchSize = batchSize
        self.frameSize = frameSize
        self.sampler = sampler
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.workerCount = workers
        self.prefetch = prefetch ?? 2 * workers
        precondition(self.prefetch > 0, "DataLoaderConfiguration: prefetch \(self.prefetch) must be positive")
        self.transform = transform
        self.views = views
        self.extras = extras
        self.decodesCompanions = decodesCompanions
    }
}

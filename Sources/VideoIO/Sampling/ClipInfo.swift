import TensorCore

/// Which frames of a video make up one clip, and which view of the video it is.
public struct ClipInfo: Sendable, Hashable {
    /// Frame indices in presentation order, in the order the clip uses them.
    public var frameIndices: [Int]
    /// The temporal clip this is, `0..<numClips` (0 for samplers that draw one clip).
    public var clipIndex: Int
    /// The spatial view (crop) this clip feeds; samplers leave it 0 and multi-crop evaluation sets it.
    public var viewIndex: Int

    /// Creates a clip description.
    public init(frameIndices: [Int], clipIndex: Int = 0, viewIndex: Int = 0) {
        self.frameIndices = frameIndices
        self.clipIndex = clipIndex
        self.viewIndex = viewIndex
    }
}

/// Whether a sampler draws at random (training) or picks fixed positions (evaluation).
public enum SamplingMode: Sendable, Hashable {
    /// Random positions drawn from the generator.
    case train
    /// Deterministic positions; the generator is not advanced.
    case test
}

/// Chooses the frames of one or more clips from a video of a known length.
public protocol ClipSampler: Sendable {
    /// The clips for a video of `frameCount` frames (at least 1); test modes ignore `generator`.
    func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo]
}

/// Python's `round` on a float: halves go to the even neighbour (`round(14.5) == 14`).
func pythonRound(_ x: Double) -> Int {
    Int(x.rounded(.toNearestOrEven))
}

/// A uniform integer in `low...high` (`high >= low`), like `random.randint(low, high)`.
func uniformInteger(_ low: Int, _ high: Int, using generator: inout RandomGenerator) -> Int {
    low + generator.nextInt(below: high - low + 1)
}

import TensorCore
import VideoIO

/// The test pipeline: which clips and crops of each video are views, how they are prepared, and
/// how their outputs combine. The defaults are TIME's protocol (`reference/TIME.md` §1.6): one clip
/// of 8 segment middles × 3 crops of 224, mean and std 0.5, logits summed.
public struct EvaluationConfiguration: Sendable {
    /// Where a video's clips come from.
    public enum Sampling: Sendable, Hashable {
        /// TSN segment middles (``SegmentSampler`` in test mode): one clip per video.
        case segments
        /// Evenly spaced dense clips, `interval` frames apart (``DenseSampler`` in test mode).
        case dense(interval: Int)
        /// IIC's retrieval clips: consecutive frames around evenly spaced centres
        /// (``CentredClipSampler``).
        case centred
    }

    /// Frames per clip.
    public var frames: Int
    /// The side of the square crops the model sees.
    public var cropSize: Int
    /// The size frames are decoded to; their short side is then resized to ``cropSize``.
    /// `nil` decodes straight to ``cropSize`` × ``cropSize``.
    public var frameSize: FrameSize?
    /// Per-channel mean subtracted from `[0, 1]` RGB.
    public var mean: [Float]
    /// Per-channel standard deviation divided by.
    public var std: [Float]
    /// Segment or dense clips.
    public var sampling: Sampling
    /// Temporal clips per video (1 with ``Sampling/segments``).
    public var clips: Int
    /// Spatial crops per clip: 1 (centre) or 3 (left/centre/right, or top/centre/bottom).
    public var crops: Int
    /// How a video's views combine.
    public var aggregation: ViewAggregation
    /// Videos decoded per loader batch; one frame permutation is drawn per batch when shuffling.
    public var batchSize: Int
    /// The most clips in one forward pass, which bounds activation memory.
    public var maxClipsPerForward: Int
    /// Seeds the shuffled-frame permutations (and the loader, whose test samplers draw nothing).
    public var seed: UInt64
    /// Loader threads; `nil` uses ``ComputeContext/threadCount``.
    public var workerCount: Int?
    /// The short side frames are resized to before cropping; `nil` uses ``cropSize``. IIC's
    /// protocol decodes to 171×128 and centre-crops 112 without resizing (`resizeShortSide: 128`).
    public var resizeShortSide: Int?
    /// RGB or residual clips (IIC's residual view); applied to each crop after normalisation.
    public var input: ClipInput = .rgb

    /// Creates a configuration.
    public init(
        frames: Int = 8, cropSize: Int = 224, frameSize: FrameSize? = nil,
        mean: [Float] = [0.5, 0.5, 0.5], std: [Float] = [0.5, 0.5, 0.5],
        sampling: Sampling = .segments, clips: Int = 1, crops: Int = 3, aggregation: ViewAggregation = .sum,
        batchSize: Int = 8, maxClipsPerForward: Int? = nil, seed: UInt64 = 0, workerCount: Int? = nil
    ) {
        precondition(frames > 0 && cropSize > 0 && clips > 0 && batchSize > 0,
                     "EvaluationConfiguration: frames \(frames), crop \(cropSize), clips \(clips), batch \(batchSize) must be positive")
        precondition(crops == 1 || crops == 3, "EvaluationConfiguration: crops must be 1 or 3, got \(crops)")
        if case .dense(let interval) = sampling {
            precondition(interval > 0, "EvaluationConfiguration: dense interval \(interval) must be positive")
        } else if sampling == .segments {
            precondition(clips == 1, "EvaluationConfiguration: segment sampling gives one clip per video, asked for \(clips)")
        }
        self.frames = frames
        self.cropSize = cropSize
        self.frameSize = frameSize
        self.mean = mean
        self.std = std
        self.sampling = sampling
        self.clips = clips
        self.crops = crops
        self.aggregation = aggregation
        self.batchSize = batchSize
        self.maxClipsPerForward = maxClipsPerForward ?? batchSize
        precondition(self.maxClipsPerForward > 0, "EvaluationConfiguration: maxClipsPerForward must be positive")
        self.seed = seed
        self.workerCount = workerCount
    }

    /// Views per video: ``clips`` × ``crops``.
    public var viewsPerVideo: Int { clips * crops }

    /// The sampler whose clips are the temporal views.
    public var sampler: any ClipSampler {
        switch sampling {
        case .segments: return SegmentSampler(segments: frames, mode: .test)
        case .dense(let interval): return DenseSampler(clipLength: frames, interval: interval, numClips: clips, mode: .test)
        case .centred: return CentredClipSampler(clipLength: frames, numClips: clips)
        }
    }

    /// Short-side resize to ``cropSize`` (or ``resizeShortSide``), the crops, normalisation, then
    /// ``input`` (RGB or residual): `[T, 3, H, W]` in `[0, 1]` →
    /// the crops stacked along the frame axis, `[crops · T, 3, cropSize, cropSize]`.
    public func prepare(_ clip: Tensor) throws -> Tensor {
        let resized = try ClipTransforms.shortSideResize(clip, to: resizeShortSide ?? cropSize)
        let views = crops == 3
            ? try ClipTransforms.threeCrop(resized, size: cropSize)
            : [try ClipTransforms.centerCrop(resized, size: cropSize)]
        let normalised = try views.map { view throws(TransformError) in
            try input.apply(try ClipTransforms.normalize(view, mean: mean, std: std))
        }
        return normalised.count == 1 ? normalised[0] : Tensor.concat(normalised, axis: 0)
    }
}

import TensorCore

/// Dense sampling: clips of `clipLength` frames taken every `interval` frames
/// (`clip_len × frame_sample_rate × num_clips` in VideoMAE, PyTorchVideo and SlowFast).
///
/// A clip starting at `b` uses frames `b, b + interval, ..., b + (clipLength - 1) * interval`,
/// spanning `span = (clipLength - 1) * interval + 1` frames. With `L` frames the latest start is
/// `delta = max(L - span, 0)`; indices past the end (only when `L < span`) repeat the last frame,
/// as VideoMAE pads short videos.
///
/// - Train: each of the `numClips` clips starts at an independent uniform integer in `0...delta`.
/// - Test: clip `k` starts at `floor(k * delta / (numClips - 1))`, so the first clip is flush with
///   the start and the last with the end (VideoMAE's `temporal_step` over `test_num_segment`);
///   with one clip it starts at `delta / 2` rounded down (the centre clip).
///
/// For `L = 30`, `clipLength = 4`, `interval = 2` (`span = 7`, `delta = 23`), three test clips
/// start at 0, 11 and 23.
public struct DenseSampler: ClipSampler {
    /// Frames per clip.
    public var clipLength: Int
    /// Step between consecutive frames of a clip.
    public var interval: Int
    /// Clips per video.
    public var numClips: Int
    /// Random (train) or evenly spaced (test) starts.
    public var mode: SamplingMode

    /// Creates a dense sampler; all counts must be positive.
    public init(clipLength: Int, interval: Int, numClips: Int = 1, mode: SamplingMode) {
        precondition(
            clipLength > 0 && interval > 0 && numClips > 0,
            "DenseSampler: clipLength \(clipLength), interval \(interval), numClips \(numClips) must be positive")
        self.clipLength = clipLength
        self.interval = interval
        self.numClips = numClips
        self.mode = mode
    }

    /// Frames covered by one clip, first to last inclusive.
    public var span: Int { (clipLength - 1) * interval + 1 }

    /// The start frame of each clip.
    public func starts(frameCount: Int, using generator: inout RandomGenerator) -> [Int] {
        precondition(frameCount > 0, "DenseSampler: frameCount \(frameCount) must be positive")
        let delta = Swift.max(frameCount - span, 0)
        switch mode {
        case .train:
            return (0..<numClips).map { _ in uniformInteger(0, delta, using: &generator) }
        case .test:
            if numClips == 1 { return [delta / 2] }
            return (0..<numClips).map { k in k * delta / (numClips - 1) }
        }
    }

    /// `numClips` clips of `clipLength` frames.
    public func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        starts(frameCount: frameCount, using: &generator).enumerated().map { k, start in
            ClipInfo(frameIndices: denseIndices(start: start, length: clipLength, interval: interval, frameCount: frameCount), clipIndex: k)
        }
    }
}

/// A single dense clip at a uniformly random start (`DenseSampler` with one training clip),
/// as PyTorchVideo's `RandomClipSampler`.
public struct RandomClipSampler: ClipSampler {
    /// Frames per clip.
    public var clipLength: Int
    /// Step between consecutive frames.
    public var interval: Int

    /// Creates a random clip sampler; both counts must be positive.
    public init(clipLength: Int, interval: Int = 1) {
        precondition(
            clipLength > 0 && interval > 0,
            "RandomClipSampler: clipLength \(clipLength) and interval \(interval) must be positive")
        self.clipLength = clipLength
        self.interval = interval
    }

    /// One clip starting uniformly in `0...max(L - span, 0)`.
    public func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        DenseSampler(clipLength: clipLength, interval: interval, numClips: 1, mode: .train)
            .clips(frameCount: frameCount, using: &generator)
    }
}

func denseIndices(start: Int, length: Int, interval: Int, frameCount: Int) -> [Int] {
    (0..<length).map { Swift.min(start + $0 * interval, frameCount - 1) }
}

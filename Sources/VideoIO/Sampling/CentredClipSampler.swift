import TensorCore

/// IIC's test clips: `numClips` clips of `clipLength` consecutive frames whose centres are evenly
/// spaced over the video (`reference/SVT-VideoMS-IIC.md` §3.8, `UCF101ClipRetrievalDataset`).
///
/// With `F` frames and `L = F − 1`, the centres are `linspace(n/2, L − n/2, numClips)` (float64,
/// `n = clipLength`) and clip `k` starts at `int(centre_k − n/2)` (truncated toward zero). A frame
/// index outside the video (a video shorter than a clip, which the reference refuses) is clamped
/// to `0..<F`. Deterministic: the generator is not used.
public struct CentredClipSampler: ClipSampler {
    /// Frames per clip.
    public var clipLength: Int
    /// Clips per video.
    public var numClips: Int

    /// Creates the sampler; both counts must be positive.
    public init(clipLength: Int = 16, numClips: Int = 10) {
        precondition(clipLength > 0 && numClips > 0,
                     "CentredClipSampler: clipLength \(clipLength) and numClips \(numClips) must be positive")
        self.clipLength = clipLength
        self.numClips = numClips
    }

    /// The first frame of each clip for a video of `frameCount` frames.
    public func starts(frameCount: Int) -> [Int] {
        let half = Double(clipLength) / 2, last = Double(frameCount - 1)
        let (low, high) = (half, last - half)
        // np.linspace: k·step + start, the last value exactly `stop`.
        let step = numClips > 1 ? (high - low) / Double(numClips - 1) : 0
        return (0..<numClips).map { k in
            let centre = numClips > 1 && k == numClips - 1 ? high : Double(k) * step + low
            return Int(centre - half)
        }
    }

    /// `numClips` clips of consecutive frames.
    public func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        precondition(frameCount > 0, "CentredClipSampler: frameCount \(frameCount) must be positive")
        return starts(frameCount: frameCount).enumerated().map { k, start in
            ClipInfo(frameIndices: (0..<clipLength).map { Swift.min(Swift.max(start + $0, 0), frameCount - 1) }, clipIndex: k)
        }
    }
}

import TensorCore

/// TSN-style segment sampling: one frame from each of `segments` equal parts of the video.
///
/// This is the sampler of TIME's SSv2 recipe (reference/TIME.md §1.5), reproduced exactly. With
/// `L` frames and `s = (L - 1) / segments` (floating point), segment `i` spans
/// `start = round(s * i)` to `end = round(s * (i + 1))`, both inclusive, where `round` is
/// Python's: halves go to the even neighbour. Training draws a uniform integer in
/// `start...end`; testing takes `(start + end) / 2` rounded down.
///
/// For `L = 30` and 8 segments, `s = 3.625`, the boundaries are 0, 4, 7, 11, 14, 18, 22, 25, 29
/// (note `round(14.5) = 14`), and the test frames are 2, 5, 9, 12, 16, 20, 23, 27. Neighbouring
/// segments share their boundary frame, so a training clip may repeat a frame.
public struct SegmentSampler: ClipSampler {
    /// Frames per clip, one per segment.
    public var segments: Int
    /// Random frame per segment (train) or the segment middle (test).
    public var mode: SamplingMode

    /// Creates a segment sampler (`segments` must be positive).
    public init(segments: Int = 8, mode: SamplingMode) {
        precondition(segments > 0, "SegmentSampler: segments \(segments) must be positive")
        self.segments = segments
        self.mode = mode
    }

    /// The `[start, end]` frame range of each segment.
    public func segmentBounds(frameCount: Int) -> [ClosedRange<Int>] {
        precondition(frameCount > 0, "SegmentSampler: frameCount \(frameCount) must be positive")
        let s = Double(frameCount - 1) / Double(segments)
        return (0..<segments).map { i in
            pythonRound(s * Double(i))...pythonRound(s * Double(i + 1))
        }
    }

    /// One clip of `segments` frames.
    public func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        let bounds = segmentBounds(frameCount: frameCount)
        let indices: [Int]
        switch mode {
        case .train:
            indices = bounds.map { uniformInteger($0.lowerBound, $0.upperBound, using: &generator) }
        case .test:
            indices = bounds.map { ($0.lowerBound + $0.upperBound) / 2 }
        }
        return [ClipInfo(frameIndices: indices)]
    }
}

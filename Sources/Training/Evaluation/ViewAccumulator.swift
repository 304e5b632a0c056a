import TensorCore

/// How the outputs of a video's views (clips × crops) become one output per video.
public enum ViewAggregation: String, Sendable, Codable, CaseIterable {
    /// Add the views' raw logits, as TIME's test (`reference/TIME.md` §1.6).
    case sum
    /// Average the views (same predictions as ``sum``; outputs keep the scale of one view).
    case mean
    /// The mean of each view's softmax (VideoMAE's multi-view test); for logits only.
    case softmaxMean = "softmax_mean"
}

/// Running per-video totals of view outputs `[D]`, so views can arrive in any order and in chunks.
public struct ViewAccumulator: Sendable {
    /// The number of videos the accumulator has rows for.
    public let videoCount: Int
    /// The width `D` of every output row.
    public let width: Int
    private var totals: [Float]
    /// How many views each video has received.
    public private(set) var viewCounts: [Int]

    /// Creates zero totals for `videoCount` videos of width `width`.
    public init(videoCount: Int, width: Int) {
        precondition(videoCount >= 0 && width > 0, "ViewAccumulator: videoCount \(videoCount), width \(width)")
        self.videoCount = videoCount
        self.width = width
        totals = [Float](repeating: 0, count: videoCount * width)
        viewCounts = [Int](repeating: 0, count: videoCount)
    }

    /// Adds row `i` of `outputs` `[B, D]` to video `videos[i]`.
    public mutating func add(_ outputs: Tensor, videos: [Int]) {
        precondition(outputs.rank == 2 && outputs.shape[0] == videos.count && outputs.shape[1] == width,
                     "ViewAccumulator.add: outputs \(outputs.shape) for \(videos.count) videos of width \(width)")
        precondition(videos.allSatisfy { (0..<videoCount).contains($0) },
                     "ViewAccumulator.add: a video index is outside 0..<\(videoCount)")
        let d = width
        outputs.withUnsafeBufferPointer { src in
            totals.withUnsafeMutableBufferPointer { dst in
                for (row, video) in videos.enumerated() {
                    for j in 0..<d { dst[video * d + j] += src[row * d + j] }
                }
            }
        }
        for video in videos { viewCounts[video] += 1 }
    }

    /// The videos that received at least one view, in increasing order.
    public var videos: [Int] { (0..<videoCount).filter { viewCounts[$0] > 0 } }

    /// One row `[D]` per video of ``videos`` (those with views), combined by `aggregation`.
    public func result(_ aggregation: ViewAggregation) -> (outputs: Tensor, videos: [Int]) {
        let seen = videos, d = width
        let outputs = Tensor(shape: [seen.count, d], unsafeUninitialized: { out in
            for (row, video) in seen.enumerated() {
                let scale: Float = aggregation == .sum ? 1 : 1 / Float(viewCounts[video])
                for j in 0..<d { out[row * d + j] = totals[video * d + j] * scale }
            }
        })
        return (outputs, seen)
    }
}

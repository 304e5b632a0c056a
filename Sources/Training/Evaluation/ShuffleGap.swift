/// TIME's Gap: top-1 with frames in order minus top-1 with frames shuffled
/// (`reference/TIME.md` §1.6). A larger Gap means the model relies more on temporal order.
public struct ShuffleGap: Sendable, Codable, Equatable {
    /// Top-1 accuracy (0…1) with the original frame order.
    public var original: Double
    /// Top-1 accuracy (0…1) with each batch's frames permuted.
    public var shuffled: Double
    /// `original - shuffled`.
    public var gap: Double
    /// The same for every subset both reports have.
    public var subsets: [String: ShuffleGap]

    /// The Gap between two reports of the same videos.
    public init(original: EvaluationReport, shuffled: EvaluationReport) {
        precondition(original.count == shuffled.count,
                     "ShuffleGap: reports cover \(original.count) and \(shuffled.count) videos")
        self.original = original.top1
        self.shuffled = shuffled.top1
        gap = original.top1 - shuffled.top1
        var subsets: [String: ShuffleGap] = [:]
        for (name, report) in original.subsets {
            if let other = shuffled.subsets[name] { subsets[name] = ShuffleGap(original: report, shuffled: other) }
        }
        self.subsets = subsets
    }
}

/// An evaluation with the original frame order and one with shuffled frames, and their Gap.
public struct ShuffledEvaluation: Sendable, Codable, Equatable {
    /// Frames in order.
    public var original: EvaluationReport
    /// Frames permuted, one permutation per batch.
    public var shuffled: EvaluationReport
    /// Top-1 of ``original`` minus top-1 of ``shuffled``, overall and per subset.
    public var gap: ShuffleGap

    /// Pairs two reports of the same videos.
    public init(original: EvaluationReport, shuffled: EvaluationReport) {
        self.original = original
        self.shuffled = shuffled
        gap = ShuffleGap(original: original, shuffled: shuffled)
    }
}

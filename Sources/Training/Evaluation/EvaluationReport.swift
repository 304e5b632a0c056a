import TensorCore

/// The accuracy of one evaluation: top-1, top-5, mean class accuracy, per-class accuracy and the
/// confusion matrix, overall and for each class subset. Accuracies are fractions in 0…1.
public struct EvaluationReport: Sendable, Codable, Equatable {
    /// Videos evaluated.
    public var count: Int
    /// Fraction of videos whose label has the highest logit (first maximum on ties).
    public var top1: Double
    /// Fraction of videos whose label is among the 5 highest logits (1 with 5 classes or fewer).
    public var top5: Double
    /// The mean of ``perClassAccuracy`` over the classes that have videos.
    public var meanClassAccuracy: Double
    /// Top-1 accuracy of each class, `nil` where the class has no video.
    public var perClassAccuracy: [Double?]
    /// True class × predicted class counts.
    public var confusion: ConfusionMatrix
    /// The class names in label order, when known.
    public var classNames: [String]?
    /// The same measures restricted to the videos of each subset's classes (predictions still range
    /// over every class, as in TIME's temporal/static table).
    public var subsets: [String: EvaluationReport]

    /// Measures video-level `logits` `[N, K]` against `labels`; with `subsets`, also each subset.
    public init(logits: Tensor, labels: [Int], classNames: [String]? = nil, subsets: ClassSubsets? = nil) {
        let ranks = ClassificationMetrics.labelRanks(logits, labels: labels)
        let perClass = ClassificationMetrics.perClassAccuracy(logits, labels: labels)
        count = labels.count
        top1 = EvaluationReport.fraction(ranks) { $0 < 1 }
        top5 = EvaluationReport.fraction(ranks) { $0 < 5 }
        perClassAccuracy = perClass
        meanClassAccuracy = ClassificationMetrics.meanClassAccuracy(perClass)
        confusion = ConfusionMatrix(logits: logits, labels: labels)
        self.classNames = classNames
        self.subsets = [:]
        guard let subsets else { return }
        for name in subsets.names {
            let members = subsets.classes(in: name)
            let rows = labels.indices.filter { members.contains(labels[$0]) }
            let restricted = rows.isEmpty
                ? Tensor(zeros: [0, logits.shape[1]])
                : logits.indexSelect(axis: 0, indices: rows).detached()
            self.subsets[name] = EvaluationReport(
                logits: restricted, labels: rows.map { labels[$0] }, classNames: classNames, subsets: nil)
        }
    }

    private static func fraction(_ ranks: [Int], _ correct: (Int) -> Bool) -> Double {
        ranks.isEmpty ? 0 : Double(ranks.filter(correct).count) / Double(ranks.count)
    }
}

import TensorCore

/// Accuracy measures on class logits `[N, K]` with integer labels, as pure functions.
///
/// Ties are broken towards the lower class index, the way `argmax` picks the first maximum: a
/// sample is correct at `k` when fewer than `k` classes rank above its label, where class `j`
/// ranks above label `y` if its logit is larger, or equal with `j < y`. Every class therefore has
/// a distinct rank, so top-1 agrees with ``predictions(_:)`` and top-K is always 1.
///
/// A row with a NaN or infinite logit is never counted correct: its label ranks last (`K`), since
/// comparisons with NaN are all false and would otherwise rank every label first.
/// ``Evaluator`` refuses such outputs before scoring them (``EvaluationError/nonFiniteOutputs(videos:first:)``).
public enum ClassificationMetrics {
    /// The predicted class of each row: the index of the largest logit, the first one on ties.
    public static func predictions(_ logits: Tensor) -> [Int] {
        let (n, k) = checkedShape(logits, labels: nil, op: "predictions")
        return logits.withUnsafeBufferPointer { v in
            (0..<n).map { i in
                var best = 0
                for j in 1..<k where v[i * k + j] > v[i * k + best] { best = j }
                return best
            }
        }
    }

    /// The rank of each row's label among its logits: 0 when it is the prediction.
    public static func labelRanks(_ logits: Tensor, labels: [Int]) -> [Int] {
        let (n, k) = checkedShape(logits, labels: labels, op: "labelRanks")
        return logits.withUnsafeBufferPointer { v in
            (0..<n).map { i in
                let row = i * k, y = labels[i], target = v[row + y]
                if (row..<(row + k)).contains(where: { !v[$0].isFinite }) { return k }
                var rank = 0
                for j in 0..<k where v[row + j] > target || (v[row + j] == target && j < y) { rank += 1 }
                return rank
            }
        }
    }

    /// The fraction of rows (0…1) whose label is among the `k` highest logits; `k` beyond the class
    /// count counts every row as correct. An empty set gives 0.
    public static func topKAccuracy(_ logits: Tensor, labels: [Int], k: Int) -> Double {
        precondition(k > 0, "topKAccuracy: k \(k) must be positive")
        let ranks = labelRanks(logits, labels: labels)
        guard !ranks.isEmpty else { return 0 }
        return Double(ranks.filter { $0 < k }.count) / Double(ranks.count)
    }

    /// Top-1 accuracy of each class (0…1), indexed by class: `nil` for a class with no sample.
    public static func perClassAccuracy(_ logits: Tensor, labels: [Int]) -> [Double?] {
        let (_, classes) = checkedShape(logits, labels: labels, op: "perClassAccuracy")
        let ranks = labelRanks(logits, labels: labels)
        var hits = [Int](repeating: 0, count: classes), totals = hits
        for (rank, y) in zip(ranks, labels) {
            totals[y] += 1
            if rank == 0 { hits[y] += 1 }
        }
        return (0..<classes).map { c in totals[c] == 0 ? nil : Double(hits[c]) / Double(totals[c]) }
    }

    /// The mean of the per-class accuracies over the classes that have samples (balanced accuracy);
    /// 0 when there is none.
    public static func meanClassAccuracy(_ perClass: [Double?]) -> Double {
        let present = perClass.compactMap { $0 }
        return present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    /// The indices of rows holding a NaN or infinite logit.
    public static func nonFiniteRows(_ logits: Tensor) -> [Int] {
        let (n, k) = checkedShape(logits, labels: nil, op: "nonFiniteRows")
        return logits.withUnsafeBufferPointer { v in
            (0..<n).filter { i in (0..<k).contains { !v[i * k + $0].isFinite } }
        }
    }

    /// `(N, K)` of valid logits, stopping with a message naming `op` otherwise.
    static func checkedShape(_ logits: Tensor, labels: [Int]?, op: String) -> (Int, Int) {
        precondition(logits.rank == 2 && logits.shape[1] > 0, "\(op): logits must be [N, K] with K > 0, got \(logits.shape)")
        let (n, k) = (logits.shape[0], logits.shape[1])
        if let labels {
            precondition(labels.count == n, "\(op): \(labels.count) labels for logits \(logits.shape)")
            precondition(labels.allSatisfy { (0..<k).contains($0) }, "\(op): labels must lie in 0..<\(k) for logits \(logits.shape)")
        }
        return (n, k)
    }
}

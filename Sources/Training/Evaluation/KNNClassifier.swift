import Foundation
import TensorCore

/// DINO's weighted k-nearest-neighbour classifier on frozen features (`eval_knn.py`, used
/// unchanged by SVT; `reference/SVT-VideoMS-IIC.md` §1.8).
///
/// Train and test features are L2-normalised (as `F.normalize`: a row is divided by
/// `max(‖x‖, 1e-12)`), so similarity is the cosine. Each test row takes its `k` most similar
/// training rows, and class `c` scores `Σ exp(sim / T)` over those neighbours labelled `c`. Classes
/// are ranked by score. When a test video has several rows (views), their class scores are added
/// before ranking.
///
/// Ties are broken deterministically: among training rows of equal similarity the lower row comes
/// first, and among classes of equal score the lower class index. Top-1 counts the first class;
/// top-5, as DINO's script, counts the first `min(5, k, classCount)` classes, so classes that no
/// neighbour voted for can still fill the top five when fewer than five classes got votes (DINO
/// orders those arbitrarily; here by index).
///
/// Cost: one matrix product per block of test rows (`Tensor.matmul`, all compute threads) and a
/// partial selection of the `k` largest similarities per row (`O(N)` with a small `k`-sized
/// insertion buffer), never a full sort. Blocks hold about 32 MiB of similarities.
///
/// ```swift
/// let knn = try KNNClassifier(try FeatureSet(contentsOf: "train.safetensors"))
/// let results = try knn.evaluate(try FeatureSet(contentsOf: "val.safetensors"), ks: [10, 20], temperature: 0.07)
/// print(results.map { ($0.k, $0.top1) })
/// ```
public struct KNNClassifier: Sendable {
    /// The training features, L2-normalised, `[N, C]`.
    public let trainFeatures: Tensor
    /// The label of each training row.
    public let trainLabels: [Int]
    /// The number of classes scored: one more than the largest training label.
    public let classCount: Int

    /// DINO's defaults: 20 neighbours, temperature 0.07.
    public static let defaultK = 20, defaultTemperature = 0.07

    /// Stores L2-normalised copies of training `features` `[N, C]` with their `labels`.
    ///
    /// - Throws: ``ProbeError/emptySet(role:)`` for no rows and
    ///   ``ProbeError/nonFiniteFeatures(role:row:)`` for a row with NaN or infinite values.
    /// - Precondition: `features` is `[N, C]` with `N` non-negative labels.
    public init(features: Tensor, labels: [Int]) throws(ProbeError) {
        precondition(features.rank == 2 && labels.count == features.shape[0] && labels.allSatisfy { $0 >= 0 },
                     "KNNClassifier: \(labels.count) non-negative labels needed for features \(features.shape)")
        try ProbeError.check(features, role: "train")
        trainFeatures = Self.l2Normalized(features)
        trainLabels = labels
        classCount = labels.max()! + 1
    }

    /// A classifier whose neighbours are every row (every view) of `train`.
    public init(_ train: FeatureSet) throws(ProbeError) {
        try self.init(features: train.features, labels: train.labels)
    }

    /// Rows divided by their L2 norm (at least 1e-12), as `torch.nn.functional.normalize(x, dim=1)`.
    public static func l2Normalized(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2, "KNNClassifier.l2Normalized: expected [N, C], got \(x.shape)")
        let (n, c) = (x.shape[0], x.shape[1])
        return x.withUnsafeBufferPointer { v in
            Tensor(shape: [n, c]) { out in
                ComputeContext.parallelFor(n, minimumChunk: 256) { rows in
                    for i in rows {
                        var sum: Double = 0
                        for j in 0..<c { sum += Double(v[i * c + j]) * Double(v[i * c + j]) }
                        let scale = Float(1 / Swift.max(sum.squareRoot(), 1e-12))
                        for j in 0..<c { out[i * c + j] = v[i * c + j] * scale }
                    }
                }
            }
        }
    }

    /// The `k` nearest training rows of each test row, most similar first.
    public struct Neighbours: Sendable {
        /// Neighbours per test row.
        public let k: Int
        /// Training row of each neighbour, `[M, k]` row-major.
        public let indices: [Int]
        /// Cosine similarity of each neighbour, `[M, k]` row-major, non-increasing along a row.
        public let similarities: [Float]
    }

    /// The `k` most similar training rows of each row of `test` `[M, C]` (normalised here).
    ///
    /// - Throws: ``ProbeError/kOutOfRange(k:trainCount:)`` unless `1 ≤ k ≤ N`,
    ///   ``ProbeError/emptySet(role:)``, ``ProbeError/nonFiniteFeatures(role:row:)`` and
    ///   ``ProbeError/widthMismatch(train:validation:)`` for test features that do not fit.
    public func nearestNeighbours(of test: Tensor, k: Int) throws(ProbeError) -> Neighbours {
        let n = trainLabels.count, c = trainFeatures.shape[1]
        precondition(test.rank == 2, "KNNClassifier.nearestNeighbours: test features must be [M, C], got \(test.shape)")
        try ProbeError.check(test, role: "validation")
        guard test.shape[1] == c else { throw .widthMismatch(train: c, validation: test.shape[1]) }
        guard (1...n).contains(k) else { throw .kOutOfRange(k: k, trainCount: n) }
        let unit = Self.l2Normalized(test)
        let m = unit.shape[0]
        let blockRows = Swift.max(1, Swift.min(m, (1 << 23) / n))
        var indices = [Int](repeating: 0, count: m * k), similarities = [Float](repeating: 0, count: m * k)
        indices.withUnsafeMutableBufferPointer { ip in
            similarities.withUnsafeMutableBufferPointer { sp in
                for start in stride(from: 0, to: m, by: blockRows) {
                    let end = Swift.min(start + blockRows, m)
                    let block = start == 0 && end == m ? unit : unit.slice(axis: 0, range: start..<end)
                    let products = noGrad { Tensor.matmul(block, trainFeatures, transposeB: true) }
                    products.withUnsafeBufferPointer { all in
                        ComputeContext.parallelFor(end - start, minimumChunk: 4) { rows in
                            for r in rows {
                                Self.selectLargest(
                                    UnsafeBufferPointer(rebasing: all[(r * n)..<((r + 1) * n)]), k: k,
                                    indices: ip.baseAddress! + (start + r) * k, values: sp.baseAddress! + (start + r) * k)
                            }
                        }
                    }
                }
            }
        }
        return Neighbours(k: k, indices: indices, similarities: similarities)
    }

    /// The `k` largest values of `row` with their positions, largest first, an earlier position
    /// first among equal values: one pass with a sorted buffer of `k` entries.
    static func selectLargest<Value: Comparable>(
        _ row: UnsafeBufferPointer<Value>, k: Int, indices: UnsafeMutablePointer<Int>, values: UnsafeMutablePointer<Value>
    ) {
        var filled = 0
        for j in 0..<row.count {
            let v = row[j]
            if filled == k && !(v > values[k - 1]) { continue }
            var p = filled == k ? k - 1 : filled
            while p > 0 && values[p - 1] < v {
                values[p] = values[p - 1]
                indices[p] = indices[p - 1]
                p -= 1
            }
            values[p] = v
            indices[p] = j
            if filled < k { filled += 1 }
        }
    }

    /// DINO's vote: `[M, classCount]` class scores, `Σ exp(sim / T)` over the first `k` of each
    /// row's neighbours, grouped by their training label.
    public func classScores(_ neighbours: Neighbours, k: Int, temperature: Double) -> [Double] {
        precondition(k >= 1 && k <= neighbours.k, "KNNClassifier.classScores: k \(k) of \(neighbours.k) neighbours")
        let m = neighbours.indices.count / neighbours.k, classes = classCount
        var scores = [Double](repeating: 0, count: m * classes)
        for i in 0..<m {
            for j in 0..<k {
                let slot = i * neighbours.k + j
                scores[i * classes + trainLabels[neighbours.indices[slot]]] += exp(Double(neighbours.similarities[slot]) / temperature)
            }
        }
        return scores
    }

    /// Top-1 and top-5 of the `k`-NN vote on `test`, one result per video.
    public func evaluate(
        _ test: FeatureSet, k: Int = KNNClassifier.defaultK, temperature: Double = KNNClassifier.defaultTemperature
    ) throws(ProbeError) -> KNNResult {
        try evaluate(test, ks: [k], temperature: temperature)[0]
    }

    /// One result per `k` in `ks`, from one neighbour search with the largest `k`.
    ///
    /// - Throws: ``ProbeError/invalidSetting(name:value:allowed:)`` for an empty `ks` or a
    ///   temperature that is not positive and finite, and what
    ///   ``nearestNeighbours(of:k:)`` throws.
    public func evaluate(_ test: FeatureSet, ks: [Int], temperature: Double) throws(ProbeError) -> [KNNResult] {
        guard temperature > 0, temperature.isFinite else {
            throw .invalidSetting(name: "--temperature", value: "\(temperature)", allowed: "must be positive and finite")
        }
        guard let largest = ks.max() else { throw .invalidSetting(name: "--k", value: "[]", allowed: "give at least one k") }
        try ProbeError.check(test.features, role: "validation")
        let n = trainLabels.count, c = trainFeatures.shape[1]
        guard test.width == c else { throw .widthMismatch(train: c, validation: test.width) }
        if let bad = ks.first(where: { !(1...n).contains($0) }) { throw .kOutOfRange(k: bad, trainCount: n) }
        let neighbours = try nearestNeighbours(of: test.features, k: largest)
        let classes = classCount, shown = Swift.min(5, classes)
        return ks.map { k in
            let counted = Swift.min(5, k, classes)
            var predictions: [[Int]] = [], top1 = 0, top5 = 0
            var scores = [Double](repeating: 0, count: classes)
            var ranked = [Int](repeating: 0, count: shown), rankedScores = [Double](repeating: 0, count: shown)
            for video in test.videos {
                for c in 0..<classes { scores[c] = 0 }
                for row in video.rows {
                    for j in 0..<k {
                        let slot = row * largest + j
                        scores[trainLabels[neighbours.indices[slot]]] += exp(Double(neighbours.similarities[slot]) / temperature)
                    }
                }
                scores.withUnsafeBufferPointer { s in
                    Self.selectLargest(s, k: shown, indices: &ranked, values: &rankedScores)
                }
                if ranked[0] == video.label { top1 += 1 }
                if ranked.prefix(counted).contains(video.label) { top5 += 1 }
                predictions.append(ranked)
            }
            let count = test.videos.count
            return KNNResult(k: k, temperature: temperature, count: count, top1: Double(top1) / Double(count),
                             top5: Double(top5) / Double(count), predictions: predictions,
                             labels: test.videoLabels, videoIndices: test.videoIndices)
        }
    }
}

/// The accuracy of one k-NN evaluation. Accuracies are fractions in 0…1.
public struct KNNResult: Sendable, Codable, Equatable {
    /// Neighbours per test row.
    public var k: Int
    /// The vote's temperature `T`.
    public var temperature: Double
    /// Test videos.
    public var count: Int
    /// Fraction of videos whose label is the first-ranked class.
    public var top1: Double
    /// Fraction of videos whose label is among the first `min(5, k, classCount)` ranked classes.
    public var top5: Double
    /// The first `min(5, classCount)` ranked classes of each video.
    public var predictions: [[Int]]
    /// Each video's label.
    public var labels: [Int]
    /// Each video's index (its `indices` value in the feature file).
    public var videoIndices: [Int]
}

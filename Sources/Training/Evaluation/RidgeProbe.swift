import Logging
import TensorCore

/// A closed-form linear probe: ridge regression onto ±1 class targets, exactly as scikit-learn's
/// `RidgeClassifier(alpha=α, fit_intercept=True)`.
///
/// The classes are the distinct training labels, in increasing order (``classes``); a label that
/// no training row has gets no column and is never predicted. With `Y ∈ {−1, 1}^(N×K)` (1 in each
/// row's class column), `X` centred by its column means `x̄` and `Y` by `ȳ`, the weights solve
/// `(XcᵀXc + αI)·W = XcᵀYc` and the intercept is `ȳ − x̄·W`; the bias is not regularised. A
/// row's prediction is the class with the largest decision value `x·W + b` (the first on ties).
/// With two classes scikit-learn keeps one column; this probe keeps both (the second is the
/// first negated), so predictions agree.
///
/// The normal equations are formed and solved in Float64 (``Linalg``): Cholesky first; when
/// `XcᵀXc + αI` is not positive definite or singular to working precision (α = 0 with fewer
/// independent rows than features) the minimum-norm least-squares solution is taken instead and a
/// note says so (``notes``, also logged as a warning).
///
/// ```swift
/// let probe = try RidgeProbe(fitting: train, alpha: 1)
/// let report = try probe.evaluate(validation)
/// ```
public struct RidgeProbe: Sendable {
    /// The ridge penalty α.
    public let alpha: Double
    /// The labels with a column, increasing.
    public let classes: [Int]
    /// The feature width `C`.
    public let width: Int
    /// scikit-learn's `coef_`: `[classes.count, C]` row-major.
    public let coefficients: [Double]
    /// scikit-learn's `intercept_`: `[classes.count]`.
    public let intercepts: [Double]
    /// How the fit went when it was not plain Cholesky (empty otherwise).
    public let notes: [String]

    /// scikit-learn's default penalty.
    public static let defaultAlpha = 1.0

    /// Fits the probe on every row (every view) of `train`.
    public init(fitting train: FeatureSet, alpha: Double = RidgeProbe.defaultAlpha) throws(ProbeError) {
        try self.init(features: train.features, labels: train.labels, alpha: alpha)
    }

    /// Fits the probe on `features` `[N, C]` and their labels.
    ///
    /// - Throws: ``ProbeError/invalidSetting(name:value:allowed:)`` for a negative or non-finite
    ///   `alpha`, ``ProbeError/emptySet(role:)``, ``ProbeError/nonFiniteFeatures(role:row:)`` and
    ///   ``ProbeError/unsolvable(reason:)`` when not even the least-squares solve succeeds.
    /// - Precondition: `features` is `[N, C]` with `N` non-negative labels.
    public init(features: Tensor, labels: [Int], alpha: Double = RidgeProbe.defaultAlpha) throws(ProbeError) {
        precondition(features.rank == 2 && labels.count == features.shape[0] && labels.allSatisfy { $0 >= 0 },
                     "RidgeProbe: \(labels.count) non-negative labels needed for features \(features.shape)")
        guard alpha >= 0, alpha.isFinite else {
            throw .invalidSetting(name: "--alpha", value: "\(alpha)", allowed: "must be zero or positive and finite")
        }
        try ProbeError.check(features, role: "train")
        let (n, c) = (features.shape[0], features.shape[1])
        let classes = Array(Set(labels)).sorted()
        let k = classes.count
        let column = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0.element, $0.offset) })

        // Centre X (column means in Float64, as scikit-learn's _preprocess_data) and the ±1 targets.
        var x = features.withUnsafeBufferPointer { $0.map(Double.init) }
        var xMean = [Double](repeating: 0, count: c)
        for i in 0..<n { for j in 0..<c { xMean[j] += x[i * c + j] } }
        for j in 0..<c { xMean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<c { x[i * c + j] -= xMean[j] } }
        var counts = [Int](repeating: 0, count: k)
        for label in labels { counts[column[label]!] += 1 }
        let yMean = counts.map { Double(2 * $0 - n) / Double(n) }
        var y = [Double](repeating: 0, count: n * k)
        for (i, label) in labels.enumerated() {
            for j in 0..<k { y[i * k + j] = (j == column[label]! ? 1 : -1) - yMean[j] }
        }

        var gram = Linalg.product(x, x, rows: c, inner: n, columns: c, transposeA: true)
        for j in 0..<c { gram[j * c + j] += alpha }
        let rhs = Linalg.product(x, y, rows: c, inner: n, columns: k, transposeA: true)
        var notes: [String] = []
        let w: [Double]  // [C, K]
        do {
            w = try Linalg.solveSymmetricPositiveDefinite(gram, rhs, order: c, rightHandSides: k)
        } catch {
            switch error {
            case LinalgError.notPositiveDefinite, LinalgError.illConditioned: break
            default: throw .unsolvable(reason: "\(error)")
            }
            do {
                // Singular values of the Gram matrix below 1e-12 of the largest (those of Xc below
                // 1e-6) are rounding noise: they are dropped rather than inverted.
                let (solution, rank) = try Linalg.leastSquares(gram, rhs, rows: c, columns: c, rightHandSides: k,
                                                               reciprocalCondition: 1e-12)
                w = solution
                notes.append("XcᵀXc + αI (α = \(alpha)) is singular: rank \(rank) of \(c); "
                    + "took the minimum-norm least-squares solution (a positive --alpha avoids this)")
                Logger(label: "videossl.evaluation").warning("\(notes[0])")
            } catch {
                throw .unsolvable(reason: "\(error)")
            }
        }
        var coefficients = [Double](repeating: 0, count: k * c)
        for j in 0..<c { for m in 0..<k { coefficients[m * c + j] = w[j * k + m] } }
        var intercepts = yMean
        for m in 0..<k { for j in 0..<c { intercepts[m] -= xMean[j] * w[j * k + m] } }

        self.alpha = alpha
        self.classes = classes
        self.width = c
        self.coefficients = coefficients
        self.intercepts = intercepts
        self.notes = notes
    }

    /// scikit-learn's `decision_function`: `x·coefᵀ + intercept` for each row of `features`
    /// `[N, C]`, as `[N, classes.count]` row-major Float64.
    public func decisionFunction(_ features: Tensor) -> [Double] {
        precondition(features.rank == 2 && features.shape[1] == width,
                     "RidgeProbe.decisionFunction: features \(features.shape) for width \(width)")
        let n = features.shape[0], k = classes.count, c = width
        let x = features.withUnsafeBufferPointer { $0.map(Double.init) }
        var scores = Linalg.product(x, coefficients, rows: n, inner: c, columns: k, transposeB: true)
        for i in 0..<n { for m in 0..<k { scores[i * k + m] += intercepts[m] } }
        return scores
    }

    /// The predicted label of each row: the class with the largest decision value, the first on ties.
    public func predictions(_ features: Tensor) -> [Int] {
        let scores = decisionFunction(features), k = classes.count
        return (0..<features.shape[0]).map { i in
            var best = 0
            for m in 1..<k where scores[i * k + m] > scores[i * k + best] { best = m }
            return classes[best]
        }
    }

    /// Decision values as logits over labels `0..<classCount`: a label without a column gets the
    /// lowest finite Float, so it ranks below every class the probe knows.
    public func logits(_ features: Tensor, classCount: Int) -> Tensor {
        logits(decision: decisionFunction(features), rows: features.shape[0], classCount: classCount)
    }

    /// The report on `test`, one prediction per video (the decision values of its views summed).
    ///
    /// - Throws: ``ProbeError`` for an empty test set, non-finite features or a width that differs.
    public func evaluate(_ test: FeatureSet) throws(ProbeError) -> EvaluationReport {
        try ProbeError.check(test.features, role: "validation")
        guard test.width == width else { throw .widthMismatch(train: width, validation: test.width) }
        let k = classes.count, rows = decisionFunction(test.features)
        // Views are summed in Float64 before labels without a column get their lowest logit.
        var videos = [Double](repeating: 0, count: test.videos.count * k)
        for (v, video) in test.videos.enumerated() {
            for row in video.rows { for m in 0..<k { videos[v * k + m] += rows[row * k + m] } }
        }
        let classCount = Swift.max(classes.last! + 1, (test.labels.max() ?? 0) + 1)
        return EvaluationReport(logits: logits(decision: videos, rows: test.videos.count, classCount: classCount),
                                labels: test.videoLabels)
    }

    private func logits(decision scores: [Double], rows n: Int, classCount: Int) -> Tensor {
        precondition(classCount > classes.last!, "RidgeProbe.logits: \(classCount) classes for labels up to \(classes.last!)")
        let k = classes.count
        return Tensor(shape: [n, classCount]) { out in
            out.initialize(repeating: -Float.greatestFiniteMagnitude)
            for i in 0..<n { for (m, label) in classes.enumerated() { out[i * classCount + label] = Float(scores[i * k + m]) } }
        }
    }
}

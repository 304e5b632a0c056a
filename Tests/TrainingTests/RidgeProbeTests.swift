import Foundation
import TensorCore
import Testing
import Training

/// The closed-form probe against scikit-learn's `RidgeClassifier` (Scripts/reference/make_probe_fixtures.py).
@Suite struct RidgeProbeTests {
    @Test(arguments: [(1.0, "1"), (100.0, "100")])
    func matchesScikitLearnsRidgeClassifier(alpha: Double, name: String) throws {
        let fixture = try ProbeFixture()
        let probe = try RidgeProbe(fitting: fixture.train, alpha: alpha)
        #expect(probe.classes == Array(0..<7) && probe.width == 32 && probe.notes.isEmpty)
        let coef = try fixture.doubles("ridge.a\(name).coef"), intercept = try fixture.doubles("ridge.a\(name).intercept")
        // Relative to the largest coefficient: Float64 on both sides, so far below the 1e-4 asked.
        let scale = coef.map(Swift.abs).max()!
        #expect(zip(probe.coefficients, coef).map { Swift.abs($0 - $1) }.max()! < 1e-9 * scale)
        #expect(zip(probe.intercepts, intercept).map { Swift.abs($0 - $1) }.max()! < 1e-9 * scale)
        let expected = try fixture.integers("ridge.a\(name).predictions").values
        #expect(probe.predictions(fixture.test.features) == expected)
        let report = try probe.evaluate(fixture.test)
        let correct = zip(expected, fixture.test.labels).filter { $0 == $1 }.count
        #expect(report.top1 == Double(correct) / 100 && report.count == 100)
    }

    @Test func aLabelWithoutTrainingRowsGetsNoColumnAndIsNeverPredicted() throws {
        let fixture = try ProbeFixture()
        let keep = fixture.train.labels.indices.filter { fixture.train.labels[$0] != 3 }
        let train = try FeatureSet(features: fixture.train.features.indexSelect(axis: 0, indices: keep),
                                   labels: keep.map { fixture.train.labels[$0] })
        let probe = try RidgeProbe(fitting: train)
        #expect(probe.classes == [0, 1, 2, 4, 5, 6] && probe.intercepts.count == 6)
        #expect(!probe.predictions(fixture.test.features).contains(3))
        let logits = probe.logits(fixture.test.features, classCount: 7)
        #expect(logits.shape == [100, 7] && (0..<100).allSatisfy { logits[$0, 3] == -Float.greatestFiniteMagnitude })
        let report = try probe.evaluate(fixture.test)
        #expect(report.perClassAccuracy[3] == 0)
    }

    @Test func viewsAddTheirDecisionValues() throws {
        let train = try clusteredFeatures(rows: 120, width: 8, classes: 3, spread: 2, seed: 1)
        let views = try clusteredFeatures(rows: 40, width: 8, classes: 3, spread: 2, seed: 2, viewsPerVideo: 3)
        let probe = try RidgeProbe(fitting: train, alpha: 0.5)
        let report = try probe.evaluate(views)
        #expect(report.count == 40)
        // The summed decision values of a video, ranked, give its prediction.
        let rows = probe.decisionFunction(views.features)
        let predicted = views.videos.map { video in
            let sums = (0..<3).map { m in video.rows.reduce(0.0) { $0 + rows[$1 * 3 + m] } }
            return sums.indices.max { sums[$0] < sums[$1] }!
        }
        #expect(report.top1 == Double(zip(predicted, views.videoLabels).filter { $0 == $1 }.count) / 40)
    }

    @Test func alphaZeroOnRankDeficientFeaturesFallsBackToLeastSquaresWithANote() throws {
        // 5 rows of width 8: XcᵀXc has rank 4, so Cholesky fails without a ridge term.
        var g = RandomGenerator(seed: 5)
        let x = Tensor.normal([5, 8], using: &g), labels = [0, 1, 2, 0, 1]
        let probe = try RidgeProbe(features: x, labels: labels, alpha: 0)
        #expect(probe.notes.count == 1 && probe.notes[0].contains("least-squares"))
        // The minimum-norm solution interpolates the ±1 targets, so the training rows are fitted exactly.
        let scores = probe.decisionFunction(x)
        for (i, label) in labels.enumerated() {
            for m in 0..<3 { #expect(Swift.abs(scores[i * 3 + m] - (m == label ? 1 : -1)) < 1e-6) }
        }
    }

    @Test func badInputsAreTypedErrors() throws {
        let fixture = try ProbeFixture()
        #expect(throws: ProbeError.invalidSetting(name: "--alpha", value: "-1.0", allowed: "must be zero or positive and finite")) {
            try RidgeProbe(fitting: fixture.train, alpha: -1)
        }
        #expect(throws: ProbeError.self) { try RidgeProbe(fitting: fixture.train, alpha: .nan) }
        let probe = try RidgeProbe(fitting: fixture.train)
        let narrow = try FeatureSet(features: Tensor(zeros: [2, 3]), labels: [0, 1])
        #expect(throws: ProbeError.widthMismatch(train: 32, validation: 3)) { try probe.evaluate(narrow) }
        #expect(throws: ProbeError.emptySet(role: "train")) { try RidgeProbe(features: Tensor(zeros: [0, 3]), labels: []) }
    }
}

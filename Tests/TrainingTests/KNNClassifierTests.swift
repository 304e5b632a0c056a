import Foundation
import TensorCore
import Testing
import Training

/// DINO's weighted kNN against NumPy and scikit-learn (Scripts/reference/make_probe_fixtures.py),
/// its tie rules, multi-view scoring and its errors.
@Suite struct KNNClassifierTests {
    @Test(arguments: [5, 20])
    func matchesNumPyAndScikitLearnExactly(k: Int) throws {
        let fixture = try ProbeFixture()
        let result = try KNNClassifier(fixture.train).evaluate(fixture.test, k: k, temperature: 0.07)
        let expected = try fixture.integers("knn.k\(k).ranked")
        #expect(expected.shape == [100, 5])
        let rows = (0..<100).map { Array(expected.values[($0 * 5)..<($0 * 5 + 5)]) }
        #expect(result.predictions == rows)
        let accuracy = try fixture.doubles("knn.k\(k).accuracy")
        #expect(result.top1 == accuracy[0] && result.top5 == accuracy[1])
        #expect(result.count == 100 && result.k == k && result.labels == fixture.test.labels)
    }

    @Test func severalKShareOneSearchAndAgreeWithSingleRuns() throws {
        let fixture = try ProbeFixture()
        let knn = try KNNClassifier(fixture.train)
        let both = try knn.evaluate(fixture.test, ks: [20, 5], temperature: 0.07)
        #expect(both.map(\.k) == [20, 5])
        #expect(both[0] == (try knn.evaluate(fixture.test, k: 20)))
        #expect(both[1] == (try knn.evaluate(fixture.test, k: 5)))
    }

    @Test func nearestNeighboursEqualAFullSort() throws {
        var g = RandomGenerator(seed: 3)
        let train = Tensor.normal([500, 24], using: &g), test = Tensor.normal([37, 24], using: &g)
        let knn = try KNNClassifier(features: train, labels: Array(repeating: 0, count: 500))
        let found = try knn.nearestNeighbours(of: test, k: 9)
        let unitTrain = KNNClassifier.l2Normalized(train).scalars, unitTest = KNNClassifier.l2Normalized(test).scalars
        for i in 0..<37 {
            let sims = (0..<500).map { j in (0..<24).reduce(Float(0)) { $0 + unitTest[i * 24 + $1] * unitTrain[j * 24 + $1] } }
            let order = (0..<500).sorted { sims[$0] > sims[$1] || (sims[$0] == sims[$1] && $0 < $1) }
            #expect(Array(found.indices[(i * 9)..<(i * 9 + 9)]) == Array(order.prefix(9)))
            for j in 0..<9 { #expect(Swift.abs(found.similarities[i * 9 + j] - sims[order[j]]) < 1e-5) }
        }
    }

    @Test func tiesGoToTheLowerTrainingRowAndTheLowerClass() throws {
        // Rows 0 and 1 are the same vector with labels 2 and 1; row 2 is orthogonal.
        let train = Tensor(shape: [3, 2], scalars: [1, 0, 1, 0, 0, 1])
        let knn = try KNNClassifier(features: train, labels: [2, 1, 0])
        let test = try FeatureSet(features: Tensor(shape: [1, 2], scalars: [3, 0]), labels: [1])
        let one = try knn.evaluate(test, k: 1)
        #expect(one.predictions == [[2, 0, 1]])  // neighbour row 0 (label 2); 0 and 1 tie at zero
        #expect(one.top1 == 0 && one.top5 == 0)  // top-5 counts min(5, k) = 1 class, as DINO
        let two = try knn.evaluate(test, k: 2)
        #expect(two.predictions == [[1, 2, 0]])  // classes 1 and 2 score exp(1/T) each: 1 first
        #expect(two.top1 == 1 && two.top5 == 1)
        let neighbours = try knn.nearestNeighbours(of: test.features, k: 3)
        #expect(neighbours.indices == [0, 1, 2] && neighbours.similarities == [1, 1, 0])
        let scores = knn.classScores(neighbours, k: 2, temperature: 0.5)
        #expect(scores == [0, exp(2.0), exp(2.0)])
    }

    @Test func theViewsOfAVideoAddTheirScores() throws {
        let fixture = try ProbeFixture()
        let knn = try KNNClassifier(fixture.train)
        // Every test row twice as two views of one video: scores double, rankings stay.
        let x = fixture.test.features.scalars, width = fixture.test.width
        var doubled: [Float] = [], labels: [Int] = [], indices: [Int] = []
        for i in 0..<fixture.test.count {
            for _ in 0..<2 {
                doubled += x[(i * width)..<((i + 1) * width)]
                labels.append(fixture.test.labels[i])
                indices.append(i)
            }
        }
        let views = try FeatureSet(features: Tensor(shape: [200, width], scalars: doubled), labels: labels, indices: indices)
        #expect(views.videos.count == 100 && views.hasSeveralViews)
        let single = try knn.evaluate(fixture.test, k: 20), multi = try knn.evaluate(views, k: 20)
        #expect(multi.predictions == single.predictions && multi.top1 == single.top1 && multi.count == 100)
    }

    @Test func badInputsAreTypedErrors() throws {
        let fixture = try ProbeFixture()
        let knn = try KNNClassifier(fixture.train)
        #expect(throws: ProbeError.kOutOfRange(k: 0, trainCount: 300)) { try knn.evaluate(fixture.test, k: 0) }
        #expect(throws: ProbeError.kOutOfRange(k: 301, trainCount: 300)) { try knn.evaluate(fixture.test, ks: [5, 301], temperature: 0.07) }
        #expect(throws: ProbeError.self) { try knn.evaluate(fixture.test, ks: [], temperature: 0.07) }
        #expect(throws: ProbeError.invalidSetting(name: "--temperature", value: "0.0", allowed: "must be positive and finite")) {
            try knn.evaluate(fixture.test, k: 5, temperature: 0)
        }
        let narrow = try FeatureSet(features: Tensor(zeros: [2, 3]), labels: [0, 1])
        #expect(throws: ProbeError.widthMismatch(train: 32, validation: 3)) { try knn.evaluate(narrow, k: 1) }
        let empty = try FeatureSet(features: Tensor(zeros: [0, 32]), labels: [])
        #expect(throws: ProbeError.emptySet(role: "validation")) { try knn.evaluate(empty, k: 1) }
        #expect(throws: ProbeError.emptySet(role: "train")) { try KNNClassifier(features: Tensor(zeros: [0, 4]), labels: []) }
        let broken = Tensor(shape: [2, 2], scalars: [1, 0, .nan, 1])
        #expect(throws: ProbeError.nonFiniteFeatures(role: "train", row: 1)) { try KNNClassifier(features: broken, labels: [0, 1]) }
        #expect(ProbeError.kOutOfRange(k: 301, trainCount: 300).description.contains("1…300"))
    }
}

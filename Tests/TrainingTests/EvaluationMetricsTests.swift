import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

@Suite struct EvaluationMetricsTests {
    @Test func topKBreaksTiesTowardsTheLowerClassAndClampsKBeyondTheClassCount() {
        let logits = Tensor(shape: [3, 4], scalars: [
            1, 3, 3, 0,  // label 2 ties with class 1, which wins: rank 1
            2, 2, 2, 2,  // label 0 wins an all-way tie: rank 0
            0, 1, 2, 3,  // label 1: classes 2 and 3 above it
        ])
        let labels = [2, 0, 1]
        #expect(ClassificationMetrics.predictions(logits) == [1, 0, 3])
        #expect(ClassificationMetrics.labelRanks(logits, labels: labels) == [1, 0, 2])
        #expect(ClassificationMetrics.topKAccuracy(logits, labels: labels, k: 1) == 1.0 / 3)
        #expect(ClassificationMetrics.topKAccuracy(logits, labels: labels, k: 2) == 2.0 / 3)
        #expect(ClassificationMetrics.topKAccuracy(logits, labels: labels, k: 3) == 1)
        #expect(ClassificationMetrics.topKAccuracy(logits, labels: labels, k: 5) == 1)
        let report = EvaluationReport(logits: logits, labels: labels)
        #expect(report.top1 == 1.0 / 3 && report.top5 == 1 && report.count == 3)
    }

    @Test func meanClassAccuracyAveragesOnlyTheClassesThatHaveVideos() {
        // Predictions 0, 1, 0, 1, 0 for labels 0, 0, 0, 1, 2; class 3 has no video.
        let logits = Tensor(shape: [5, 4], scalars: [
            5, 0, 0, 0,
            0, 5, 0, 0,
            5, 0, 0, 0,
            0, 5, 0, 0,
            5, 0, 0, 1,
        ])
        let labels = [0, 0, 0, 1, 2]
        let perClass = ClassificationMetrics.perClassAccuracy(logits, labels: labels)
        #expect(perClass == [2.0 / 3, 1, 0, nil])
        let report = EvaluationReport(logits: logits, labels: labels)
        #expect(Swift.abs(report.meanClassAccuracy - 5.0 / 9) < 1e-12)
        #expect(report.top1 == 3.0 / 5)
        #expect(report.confusion.counts == [[2, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
        #expect(report.confusion.total == 5)
    }

    @Test func confusionMatrixCSVHasNamedRowsAndColumnsAndQuotesCommas() {
        let logits = Tensor(shape: [3, 2], scalars: [1, 0, 1, 0, 0, 1])
        let matrix = ConfusionMatrix(logits: logits, labels: [0, 1, 1])
        #expect(matrix.csv(classNames: ["left", "a,b"]) == "true\\predicted,left,\"a,b\"\nleft,1,0\n\"a,b\",1,1\n")
        #expect(matrix.csv() == "true\\predicted,0,1\n0,1,0\n1,1,1\n")
    }

    @Test func viewAccumulatorSumsOrAveragesTheViewsOfEachVideo() {
        var accumulator = ViewAccumulator(videoCount: 3, width: 2)
        accumulator.add(Tensor(shape: [2, 2], scalars: [1, 2, 10, 20]), videos: [0, 2])
        accumulator.add(Tensor(shape: [2, 2], scalars: [3, 4, 30, 40]), videos: [0, 2])
        accumulator.add(Tensor(shape: [1, 2], scalars: [5, 6]), videos: [0])
        #expect(accumulator.viewCounts == [3, 0, 2])
        let sum = accumulator.result(.sum)
        #expect(sum.videos == [0, 2])
        #expect(sum.outputs.shape == [2, 2] && sum.outputs.scalars == [9, 12, 40, 60])
        #expect(accumulator.result(.mean).outputs.scalars == [3, 4, 20, 30])
    }

    /// Three views whose predictions disagree: summing the logits decides for the class with the
    /// largest total, which no single view needs to rank first.
    @Test func summedViewLogitsDecideTheVideoPrediction() {
        var accumulator = ViewAccumulator(videoCount: 1, width: 3)
        for view: [Float] in [[4, 0, 3], [0, 4, 3], [0, 0, 3.5]] {
            accumulator.add(Tensor(shape: [1, 3], scalars: view), videos: [0])
        }
        let combined = accumulator.result(.sum).outputs
        #expect(combined.scalars == [4, 4, 9.5])
        #expect(EvaluationReport(logits: combined, labels: [2]).top1 == 1)
    }

    @Test func gapIsOriginalMinusShuffledTopOneOverallAndPerSubset() {
        let subsets = ClassSubsets([0: "temporal", 1: "temporal", 2: "static"])
        let labels = [0, 1, 2, 2]
        // Original: everything right. Shuffled: the temporal classes swap, static stays right.
        let original = Tensor(shape: [4, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1])
        let shuffled = Tensor(shape: [4, 3], scalars: [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1])
        let both = ShuffledEvaluation(
            original: EvaluationReport(logits: original, labels: labels, subsets: subsets),
            shuffled: EvaluationReport(logits: shuffled, labels: labels, subsets: subsets))
        #expect(both.gap.original == 1 && both.gap.shuffled == 0.5 && both.gap.gap == 0.5)
        #expect(both.gap.subsets["temporal"] == ShuffleGap(original: both.original.subsets["temporal"]!,
                                                           shuffled: both.shuffled.subsets["temporal"]!))
        #expect(both.gap.subsets["temporal"]?.gap == 1)
        #expect(both.gap.subsets["static"]?.gap == 0)
        #expect(both.shuffled.subsets["temporal"]?.count == 2 && both.shuffled.subsets["static"]?.count == 2)
    }

    @Test func subsetReportsOnlyCountTheirClassesButPredictOverAll() {
        let subsets = ClassSubsets([0: "a", 2: "b"])
        // Class 1 belongs to no subset; the video of class 2 is predicted as class 1.
        let logits = Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 1, 0])
        let report = EvaluationReport(logits: logits, labels: [0, 1, 2], subsets: subsets)
        #expect(report.subsets.keys.sorted() == ["a", "b"])
        #expect(report.subsets["a"]?.count == 1 && report.subsets["a"]?.top1 == 1)
        #expect(report.subsets["b"]?.count == 1 && report.subsets["b"]?.top1 == 0)
        #expect(report.subsets["b"]?.perClassAccuracy == [nil, nil, 0])
        #expect(report.top1 == 2.0 / 3)
    }

    @Test func subsetFileMapsClassNamesOrIndicesAndNamesTheBadKey() throws {
        let folder = Scratch.directory("subsets")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.json").path
        try Data(#"{"moving_left": "temporal", "red_square": "static", "2": "static"}"#.utf8).write(to: URL(fileURLWithPath: good))
        let subsets = try ClassSubsets.load(from: good, classNames: ["moving_left", "red_square", "blue_disk"])
        #expect(subsets.subsetOfClass == [0: "temporal", 1: "static", 2: "static"])
        #expect(subsets.names == ["static", "temporal"] && subsets.classes(in: "static") == [1, 2])

        #expect(throws: EvaluationError.unknownClass(path: good, name: "red_square", known: ["moving_left", "x", "y"])) {
            try ClassSubsets.load(from: good, classNames: ["moving_left", "x", "y"])
        }
        let bad = folder.appendingPathComponent("bad.json").path
        try Data(#"["temporal"]"#.utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: EvaluationError.malformedSubsets(path: bad, reason: "the top level is not an object")) {
            try ClassSubsets.load(from: bad, classNames: nil)
        }
        let missing = folder.appendingPathComponent("missing.json").path
        #expect(throws: EvaluationError.unreadable(path: missing, reason: "no such file")) {
            try ClassSubsets.load(from: missing, classNames: nil)
        }
    }

    @Test func shuffledFramePermutationIsAPureFunctionOfSeedPassAndBatch() {
        let first = (0..<6).map { Evaluator.framePermutation(seed: 7, pass: 0, batch: $0, frameCount: 8) }
        let again = (0..<6).map { Evaluator.framePermutation(seed: 7, pass: 0, batch: $0, frameCount: 8) }
        let otherSeed = (0..<6).map { Evaluator.framePermutation(seed: 8, pass: 0, batch: $0, frameCount: 8) }
        let otherPass = (0..<6).map { Evaluator.framePermutation(seed: 7, pass: 1, batch: $0, frameCount: 8) }
        #expect(first == again)
        #expect(first != otherSeed && first != otherPass)
        #expect(Set(first).count > 1, "every batch got the same permutation: \(first)")
        #expect(first.allSatisfy { $0.sorted() == Array(0..<8) })
    }

    @Test func reportSurvivesAJSONRoundTripWithMissingClasses() throws {
        let logits = Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1])
        let report = EvaluationReport(logits: logits, labels: [0, 0], classNames: ["a", "b", "c"],
                                      subsets: ClassSubsets([0: "x"]))
        let data = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: data) == report)
        #expect(String(decoding: data, as: UTF8.self).contains("null"))
    }
}

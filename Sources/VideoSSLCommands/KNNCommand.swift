import ArgumentParser
import Foundation
import Training

/// `videossl knn`: DINO's weighted k-NN accuracy of frozen features.
struct KNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Weighted k-NN top-1/top-5 of frozen features (DINO's and SVT's kNN evaluation).",
        discussion: """
            Two steps: extract the features of both splits once, then evaluate as often as you like:

              videossl extract-features --model M --weights W --root DIR \\
                  --list train.txt --output train.safetensors
              videossl extract-features --model M --weights W --root DIR \\
                  --list val.txt --output val.safetensors
              videossl knn --train train.safetensors --val val.safetensors --k 10,20

            Features are L2-normalised; each validation video takes its k most similar training rows \
            (cosine) and class c scores the sum of exp(similarity / T) over those labelled c. Top-5 counts \
            the first min(5, k) classes, as DINO's script. Equal similarities go to the lower training row, \
            equal scores to the lower class. With per-view features every training view is a neighbour and \
            a validation video's views add their scores. k must lie in 1…(training rows).
            """)

    @Option(help: "Training features (written by extract-features).")
    var train: String

    @Option(help: "Validation features (written by extract-features).")
    var val: String

    @Option(help: "Neighbours, one or several comma-separated (default 20; SVT's script uses 5).")
    var k: ListOption<Int>?

    @Option(help: "Temperature T of the exp(similarity / T) vote.")
    var temperature: Double = KNNClassifier.defaultTemperature

    @Option(help: "Write the results (with each video's ranked classes) to this JSON file.")
    var json: String?

    func run() throws {
        let trainSet = try FeatureSet(contentsOf: train), valSet = try FeatureSet(contentsOf: val)
        let ks = k?.values ?? [KNNClassifier.defaultK]
        let knn = try KNNClassifier(trainSet)
        let results = try knn.evaluate(valSet, ks: ks, temperature: temperature)
        print(ProbeTables.sets(train: trainSet, val: valSet))
        var lines = [ProbeTables.row("k", "T", "videos", "top-1", "top-5")]
        for r in results {
            lines.append(ProbeTables.row("\(r.k)", "\(r.temperature)", "\(r.count)", ProbeTables.percent(r.top1), ProbeTables.percent(r.top5)))
        }
        print(lines.joined(separator: "\n"))
        guard let json else { return }
        let record = KNNRecord(train: train, val: val, trainRows: trainSet.count, valVideos: valSet.videos.count,
                               width: trainSet.width, classCount: knn.classCount, results: results)
        try ProbeTables.write(record, to: json)
        print("wrote \(json)")
    }
}

/// What `videossl knn --json` writes.
struct KNNRecord: Codable {
    var train: String
    var val: String
    var trainRows: Int
    var valVideos: Int
    var width: Int
    var classCount: Int
    var results: [KNNResult]
}

/// The tables `videossl knn` and `videossl linear-probe` print, accuracies in percent.
enum ProbeTables {
    static func sets(train: FeatureSet, val: FeatureSet) -> String {
        "train: \(train.count) rows of \(train.videos.count) videos; val: \(val.count) rows of \(val.videos.count) videos; width \(train.width)"
    }

    static func percent(_ x: Double) -> String { String(format: "%.2f", 100 * x) }

    static func row(_ cells: String...) -> String {
        cells.map { String(repeating: " ", count: max(0, 12 - $0.count)) + $0 }.joined()
    }

    static func write(_ record: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(record)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw EvaluationError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }
}

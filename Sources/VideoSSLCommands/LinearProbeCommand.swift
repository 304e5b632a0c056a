import ArgumentParser
import Foundation
import Training

/// `videossl linear-probe`: a linear classifier on frozen features, by SGD (SVT's recipe) or in
/// closed form (ridge).
struct LinearProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear-probe",
        abstract: "Train a linear classifier on frozen features: SGD (SVT's linear evaluation) or ridge.",
        discussion: """
            Two steps: extract the features of both splits once, then probe as often as you like:

              videossl extract-features --model M --weights W --root DIR \\
                  --list train.txt --output train.safetensors
              videossl extract-features --model M --weights W --root DIR \\
                  --list val.txt --crops 3 --per-view --output val.safetensors
              videossl linear-probe --train train.safetensors --val val.safetensors

            sgd (default): Linear(C→K), weight N(0, 0.01²), bias 0; SGD momentum 0.9, no weight decay; lr \
            0.001 × batch / 256 unless --lr, cosine-annealed to 0 per epoch; shuffled mini-batches of the \
            cached rows (SVT draws a fresh clip per epoch; cached features give the same view(s) every epoch). \
            Prints validation accuracy after every epoch, the best top-1 (what SVT's script reports) and the \
            last. ridge: scikit-learn's RidgeClassifier(alpha) in closed form (Float64 normal equations). \
            With per-view validation features the logits of a video's views are summed (SVT's 3-crop test).
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case sgd, ridge
    }

    @Option(help: "Training features (written by extract-features).")
    var train: String

    @Option(help: "Validation features (written by extract-features).")
    var val: String

    @Option(help: "sgd (SVT's linear evaluation) or ridge (closed form).")
    var method: Method = .sgd

    @Option(help: "Ridge penalty (ridge only).")
    var alpha: Double = RidgeProbe.defaultAlpha

    @Option(help: "Epochs (sgd only).")
    var epochs: Int = 20

    @Option(help: "Starting learning rate (sgd only; default 0.001 × batch size / 256).")
    var lr: Double?

    @Option(help: "Rows per step (sgd only).")
    var batchSize: Int = 16

    @Option(help: "Seed of the initial weight and the shuffles (sgd only).")
    var seed: UInt64 = 0

    @Option(help: "Write the results to this JSON file.")
    var json: String?

    func run() throws {
        let trainSet = try FeatureSet(contentsOf: train), valSet = try FeatureSet(contentsOf: val)
        var record = LinearProbeRecord(method: method.rawValue, train: train, val: val, trainRows: trainSet.count,
                                       valVideos: valSet.videos.count, width: trainSet.width)
        print(ProbeTables.sets(train: trainSet, val: valSet))
        switch method {
        case .ridge:
            try ProbeError.check(train: trainSet, validation: valSet)
            let probe = try RidgeProbe(fitting: trainSet, alpha: alpha)
            for note in probe.notes { print("note: \(note)") }
            let report = try probe.evaluate(valSet)
            record.alpha = alpha
            record.notes = probe.notes
            record.final = report
            print(ProbeTables.row("method", "alpha", "top-1", "top-5", "mean class"))
            print(ProbeTables.row("ridge", "\(alpha)", ProbeTables.percent(report.top1), ProbeTables.percent(report.top5),
                                  ProbeTables.percent(report.meanClassAccuracy)))
        case .sgd:
            let configuration = LinearProbeConfiguration(epochs: epochs, batchSize: batchSize, learningRate: lr, seed: seed)
            try configuration.validate()
            print("SGD: \(epochs) epochs, batch \(batchSize), lr \(configuration.baseLearningRate) cosine to 0, momentum 0.9")
            print(ProbeTables.row("epoch", "lr", "loss", "top-1", "top-5"))
            let result = try LinearProbe(configuration).train(on: trainSet, validation: valSet) { e in
                print(ProbeTables.row("\(e.epoch)", String(format: "%.3g", e.learningRate), String(format: "%.4f", e.trainLoss),
                                      ProbeTables.percent(e.validationTop1 ?? 0), ProbeTables.percent(e.validationTop5 ?? 0)))
            }
            record.configuration = configuration
            record.epochs = result.epochs
            record.bestEpoch = result.bestEpoch
            record.bestTop1 = result.bestTop1
            record.final = result.final
            if let best = result.bestEpoch, let top1 = result.bestTop1, let final = result.final {
                print("best top-1 \(ProbeTables.percent(top1)) (epoch \(best)); final top-1 \(ProbeTables.percent(final.top1)), "
                    + "top-5 \(ProbeTables.percent(final.top5)), mean class \(ProbeTables.percent(final.meanClassAccuracy))")
            }
        }
        guard let json else { return }
        try ProbeTables.write(record, to: json)
        print("wrote \(json)")
    }
}

/// What `videossl linear-probe --json` writes.
struct LinearProbeRecord: Codable {
    var method: String
    var train: String
    var val: String
    var trainRows: Int
    var valVideos: Int
    var width: Int
    var alpha: Double?
    var configuration: LinearProbeConfiguration?
    var epochs: [LinearProbeEpoch]?
    var bestEpoch: Int?
    var bestTop1: Double?
    var final: EvaluationReport?
    var notes: [String] = []
}

import Foundation
import TensorCore
import Testing
import Training

/// The SGD linear probe (SVT's linear evaluation on cached features): learning, one epoch against
/// a hand computation, the schedule, determinism and errors.
@Suite struct LinearProbeTests {
    @Test func defaultsAreSVTsRecipe() {
        let c = LinearProbeConfiguration()
        #expect(c.epochs == 20 && c.batchSize == 16 && c.momentum == 0.9 && c.weightDecay == 0 && c.weightStd == 0.01)
        #expect(c.baseLearningRate == 0.001 * 16 / 256)
        #expect(LinearProbeConfiguration(batchSize: 256).baseLearningRate == 0.001)
        #expect(LinearProbeConfiguration(learningRate: 0.3).baseLearningRate == 0.3)
    }

    @Test func learnsSeparableClassesAndSumsTheLogitsOfViews() throws {
        let train = try clusteredFeatures(rows: 200, width: 16, classes: 4, spread: 3, seed: 1)
        let val = try clusteredFeatures(rows: 100, width: 16, classes: 4, spread: 3, seed: 2, viewsPerVideo: 3)
        var seen: [Int] = []
        let result = try LinearProbe(LinearProbeConfiguration(epochs: 10, learningRate: 0.05))
            .train(on: train, validation: val) { seen.append($0.epoch) }
        #expect(seen == Array(1...10))
        let final = try #require(result.final)
        #expect(final.count == 100, "one prediction per video, not per view")
        #expect(final.top1 >= 0.95, "final top-1 \(final.top1)")
        #expect(result.epochs.last!.trainLoss < result.epochs.first!.trainLoss)
        let best = try #require(result.bestEpoch)
        #expect(result.bestTop1 == result.epochs.map { $0.validationTop1! }.max())
        #expect(result.epochs[best - 1].validationTop1 == result.bestTop1)
        #expect(result.epochs.prefix(best - 1).allSatisfy { $0.validationTop1! < result.bestTop1! }, "the first best epoch")
        #expect(try result.evaluate(val) == final)
    }

    @Test func oneEpochEqualsAHandComputation() throws {
        // 4 rows, 3 features, 2 classes, batches of 2, SGD with momentum 0.9 at lr 0.1.
        let x: [Double] = [1, 2, -1, 0.5, -1, 2, -2, 0.5, 1, 1.5, 1, -0.5]
        let labels = [0, 1, 1, 0]
        let set = try FeatureSet(features: Tensor(shape: [4, 3], scalars: x.map(Float.init)), labels: labels)
        let configuration = LinearProbeConfiguration(epochs: 1, batchSize: 2, learningRate: 0.1, seed: 7)
        let result = try LinearProbe(configuration).train(on: set)

        // The probe's generator draws the weight first, then the epoch's permutation.
        var g = RandomGenerator(seed: 7)
        var w = Tensor.normal([2, 3], std: 0.01, using: &g).scalars.map(Double.init), b = [0.0, 0.0]
        let order = g.permutation(4)
        var momentumW = [Double](repeating: 0, count: 6), momentumB = [0.0, 0.0]
        var lossSum = 0.0
        for (step, batch) in [Array(order[0..<2]), Array(order[2..<4])].enumerated() {
            var gradW = [Double](repeating: 0, count: 6), gradB = [0.0, 0.0]
            for r in batch {
                let logits = (0..<2).map { k in (0..<3).reduce(b[k]) { $0 + w[k * 3 + $1] * x[r * 3 + $1] } }
                let top = logits.max()!, z = logits.reduce(0) { $0 + exp($1 - top) }
                lossSum += -(logits[labels[r]] - top - log(z))
                for k in 0..<2 {
                    let d = (exp(logits[k] - top) / z - (k == labels[r] ? 1 : 0)) / 2  // mean over the batch
                    gradB[k] += d
                    for j in 0..<3 { gradW[k * 3 + j] += d * x[r * 3 + j] }
                }
            }
            // PyTorch's SGD: the buffer starts as the first gradient, then b ← 0.9·b + g.
            for i in 0..<6 { momentumW[i] = step == 0 ? gradW[i] : 0.9 * momentumW[i] + gradW[i]; w[i] -= 0.1 * momentumW[i] }
            for k in 0..<2 { momentumB[k] = step == 0 ? gradB[k] : 0.9 * momentumB[k] + gradB[k]; b[k] -= 0.1 * momentumB[k] }
        }
        for (got, want) in zip(result.weight.scalars, w) { #expect(Swift.abs(Double(got) - want) < 1e-6) }
        for (got, want) in zip(result.bias.scalars, b) { #expect(Swift.abs(Double(got) - want) < 1e-6) }
        #expect(Swift.abs(result.epochs[0].trainLoss - lossSum / 4) < 1e-6)
        #expect(result.epochs[0].learningRate == 0.1 && result.final == nil && result.bestEpoch == nil)
    }

    @Test func theLearningRateIsCosineAnnealedOncePerEpoch() throws {
        let train = try clusteredFeatures(rows: 20, width: 4, classes: 2, spread: 2, seed: 3)
        let result = try LinearProbe(LinearProbeConfiguration(epochs: 4, learningRate: 0.2)).train(on: train)
        // CosineAnnealingLR(T_max=4, eta_min=0) stepped after each epoch.
        let expected = (0..<4).map { 0.2 * (1 + cos(Double.pi * Double($0) / 4)) / 2 }
        for (got, want) in zip(result.epochs.map(\.learningRate), expected) { #expect(Swift.abs(got - want) < 1e-15) }
    }

    @Test func aSeedGivesTheSameProbeAndAnotherSeedAnother() throws {
        let train = try clusteredFeatures(rows: 50, width: 6, classes: 3, spread: 2, seed: 4)
        let probe = { (seed: UInt64) in
            try LinearProbe(LinearProbeConfiguration(epochs: 2, learningRate: 0.01, seed: seed)).train(on: train)
        }
        #expect(try probe(1).weight.scalars == probe(1).weight.scalars)
        #expect(try probe(1).weight.scalars != probe(2).weight.scalars)
    }

    @Test func badInputsAreTypedErrors() throws {
        let train = try clusteredFeatures(rows: 20, width: 4, classes: 2, spread: 2, seed: 3)
        let probe = { (c: LinearProbeConfiguration) in try LinearProbe(c).train(on: train) }
        #expect(throws: ProbeError.invalidSetting(name: "--epochs", value: "0", allowed: "must be positive")) {
            try probe(LinearProbeConfiguration(epochs: 0))
        }
        #expect(throws: ProbeError.invalidSetting(name: "--batch-size", value: "0", allowed: "must be positive")) {
            try probe(LinearProbeConfiguration(batchSize: 0))
        }
        #expect(throws: ProbeError.invalidSetting(name: "--lr", value: "-1.0", allowed: "must be positive and finite")) {
            try probe(LinearProbeConfiguration(learningRate: -1))
        }
        let narrow = try FeatureSet(features: Tensor(zeros: [2, 3]), labels: [0, 1])
        #expect(throws: ProbeError.widthMismatch(train: 4, validation: 3)) { try LinearProbe().train(on: train, validation: narrow) }
        let empty = try FeatureSet(features: Tensor(zeros: [0, 4]), labels: [])
        #expect(throws: ProbeError.emptySet(role: "train")) { try LinearProbe().train(on: empty) }
        #expect(throws: ProbeError.emptySet(role: "validation")) { try LinearProbe().train(on: train, validation: empty) }
        let huge = try FeatureSet(features: Tensor(repeating: 1e20, shape: [4, 2]), labels: [0, 1, 0, 1])
        #expect(throws: ProbeError.diverged(epoch: 1, learningRate: 1e10)) {
            try LinearProbe(LinearProbeConfiguration(epochs: 1, batchSize: 1, learningRate: 1e10)).train(on: huge)
        }
    }
}

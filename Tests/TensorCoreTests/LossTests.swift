import Foundation
import Testing
import TensorCore
import _TestSupport

/// Losses: PyTorch-semantics values computed by hand (in Double) and gradient checks.
@Suite struct LossTests {
    /// −log_softmax(row)[k] in Double.
    private func negativeLogSoftmax(_ row: [Double], _ k: Int) -> Double {
        let m = row.max()!
        return -(row[k] - m - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }))
    }

    @Test func crossEntropyOfUniformLogitsIsLogK() {
        let loss = crossEntropy(logits: Tensor(zeros: [3, 5]), labels: [0, 4, 2])
        #expect(loss.shape == [])
        #expect(Swift.abs(loss.item - Float(Foundation.log(5.0))) < 1e-6)
        // Label smoothing does not change it: every class has the same log-probability.
        let smoothed = crossEntropy(logits: Tensor(zeros: [3, 5]), labels: [0, 4, 2], labelSmoothing: 0.2)
        #expect(Swift.abs(smoothed.item - Float(Foundation.log(5.0))) < 1e-6)
    }

    @Test func crossEntropyValuesWithAndWithoutSmoothing() {
        let rows: [[Double]] = [[1, 2, 3], [0.5, -1, 2]]
        let labels = [2, 0]
        let logits = Tensor(shape: [2, 3], scalars: rows.flatMap { $0.map(Float.init) })
        let nll = zip(rows, labels).map { negativeLogSoftmax($0, $1) }
        let plain = crossEntropy(logits: logits, labels: labels)
        #expect(Swift.abs(Double(plain.item) - (nll[0] + nll[1]) / 2) < 1e-6)

        // PyTorch: (1 − ε)·nll + ε·mean_k(−log_softmax_k).
        let eps = 0.2
        let perSample = (0..<2).map { i in
            (1 - eps) * nll[i] + eps * (0..<3).map { negativeLogSoftmax(rows[i], $0) }.reduce(0, +) / 3
        }
        let none = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.2, reduction: .none)
        #expect(none.shape == [2])
        for i in 0..<2 { #expect(Swift.abs(Double(none[i]) - perSample[i]) < 1e-5) }
        let sum = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.2, reduction: .sum)
        #expect(Swift.abs(Double(sum.item) - perSample.reduce(0, +)) < 1e-5)
        let mean = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.2)
        #expect(Swift.abs(Double(mean.item) - perSample.reduce(0, +) / 2) < 1e-5)
    }

    @Test func labelSmoothingFloorIsTheTargetEntropy() {
        // With ε = 0.2 and K = 4 the target is q = (0.85, 0.05, 0.05, 0.05); no logits can go below
        // its entropy, and logits = log q reach it.
        let q: [Double] = [0.85, 0.05, 0.05, 0.05]
        let entropy = -q.reduce(0) { $0 + $1 * Foundation.log($1) }
        let best = Tensor(shape: [1, 4], scalars: q.map { Float(Foundation.log($0)) })
        let atFloor = crossEntropy(logits: best, labels: [0], labelSmoothing: 0.2)
        #expect(Swift.abs(Double(atFloor.item) - entropy) < 1e-5)
        let confident = crossEntropy(logits: Tensor(shape: [1, 4], scalars: [20, 0, 0, 0]), labels: [0], labelSmoothing: 0.2)
        #expect(Double(confident.item) > entropy + 1)
    }

    @Test(arguments: [Float(0), 0.2])
    func crossEntropyGradient(labelSmoothing: Float) {
        var g = RandomGenerator(seed: 61)
        let logits = Tensor.normal([4, 5], using: &g)
        let r = checkGradients([logits]) { crossEntropy(logits: $0[0], labels: [1, 0, 4, 1], labelSmoothing: labelSmoothing) }
        #expect(r.passed, "\(r)")
        let rNone = checkGradients([logits]) {
            crossEntropy(logits: $0[0], labels: [1, 0, 4, 1], labelSmoothing: labelSmoothing, reduction: .none)
        }
        #expect(rNone.passed, "\(rNone)")
    }

    @Test func crossEntropyRejectsOutOfRangeLabel() async {
        await #expect(processExitsWith: .failure) {
            _ = crossEntropy(logits: Tensor(zeros: [2, 3]), labels: [0, 3])
        }
        await #expect(processExitsWith: .failure) {
            _ = crossEntropy(logits: Tensor(zeros: [2, 3]), labels: [0])
        }
    }

    @Test func softTargetCrossEntropyEqualsCrossEntropyForOneHotAndSmoothedTargets() {
        var g = RandomGenerator(seed: 62)
        let logits = Tensor.normal([3, 4], using: &g)
        let labels = [3, 0, 2]
        var oneHot = [Float](repeating: 0, count: 12)
        var smooth = [Float](repeating: 0.1 / 4, count: 12)
        for (i, l) in labels.enumerated() { oneHot[i * 4 + l] = 1; smooth[i * 4 + l] += 0.9 }
        let hard = softTargetCrossEntropy(logits: logits, targets: Tensor(shape: [3, 4], scalars: oneHot))
        #expect(Swift.abs(hard.item - crossEntropy(logits: logits, labels: labels).item) < 1e-6)
        let soft = softTargetCrossEntropy(logits: logits, targets: Tensor(shape: [3, 4], scalars: smooth))
        #expect(Swift.abs(soft.item - crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.1).item) < 1e-6)
    }

    @Test func softTargetCrossEntropyGradient() {
        var g = RandomGenerator(seed: 63)
        let logits = Tensor.normal([2, 3, 5], using: &g)
        let targets = Tensor.uniform([2, 3, 5], using: &g).softmax()
        let r = checkGradients([logits, targets]) { softTargetCrossEntropy(logits: $0[0], targets: $0[1]) }
        #expect(r.passed, "\(r)")
    }

    @Test func klDivergenceOfIdenticalDistributionsIsZero() {
        var g = RandomGenerator(seed: 64)
        let p = Tensor.normal([3, 6], using: &g).softmax()
        for reduction in [LossReduction.mean, .sum, .batchMean] {
            let kl = klDivergence(logProbabilities: p.log(), targetProbabilities: p, reduction: reduction)
            #expect(Swift.abs(kl.item) < 1e-6, "\(reduction)")
        }
    }

    @Test func klDivergenceValuesAndReductions() {
        // Target with a zero entry: 0·log 0 counts as 0, as in PyTorch's xlogy.
        let target = Tensor(shape: [2, 2], scalars: [0.25, 0.75, 0, 1])
        let input = Tensor(shape: [2, 2], scalars: [-1, -0.5, -2, -0.1])
        let expected: [Double] = [0.25 * (Foundation.log(0.25) + 1), 0.75 * (Foundation.log(0.75) + 0.5), 0, 0.1]
        let none = klDivergence(logProbabilities: input, targetProbabilities: target, reduction: .none)
        for i in 0..<4 { #expect(Swift.abs(Double(none.scalars[i]) - expected[i]) < 1e-6) }
        let total = expected.reduce(0, +)
        let check: [(LossReduction, Double)] = [(.sum, total), (.mean, total / 4), (.batchMean, total / 2)]
        for (reduction, value) in check {
            let kl = klDivergence(logProbabilities: input, targetProbabilities: target, reduction: reduction)
            #expect(Swift.abs(Double(kl.item) - value) < 1e-6, "\(reduction)")
        }
    }

    @Test func klDivergenceGradient() {
        var g = RandomGenerator(seed: 65)
        let input = Tensor.normal([3, 4], using: &g).logSoftmax()
        // Targets kept well away from zero so the finite differences never cross it.
        let target = Tensor.uniform([3, 4], low: 0.2, high: 1, using: &g)
        let r = checkGradients([input, target]) {
            klDivergence(logProbabilities: $0[0], targetProbabilities: $0[1], reduction: .batchMean)
        }
        #expect(r.passed, "\(r)")
        // Where the target is exactly zero the input gets no gradient.
        let x = Tensor([-1, -2]).requiringGrad()
        klDivergence(logProbabilities: x, targetProbabilities: Tensor([0, 1]), reduction: .sum).backward()
        #expect(x.grad!.scalars == [0, -1])
    }

    @Test func mseLossValueAndGradient() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], scalars: [1, 0, 0, 8])
        #expect(mseLoss(a, b).item == 7.25)
        #expect(mseLoss(a, b, reduction: .sum).item == 29)
        #expect(mseLoss(a, b, reduction: .none).scalars == [0, 4, 9, 16])
        var g = RandomGenerator(seed: 66)
        let x = Tensor.normal([3, 4], using: &g), y = Tensor.normal([3, 4], using: &g)
        let r = checkGradients([x, y]) { mseLoss($0[0], $0[1]) }
        #expect(r.passed, "\(r)")
    }
}

import Foundation
import Testing
import TemporalSSL
import TensorCore
import _TestSupport

/// Logits whose softmax is the label-smoothed target (1−ε+ε/K on `target`, ε/K elsewhere).
private func optimalLogits(classes k: Int, targets: [Int], smoothing eps: Float) -> Tensor {
    var values: [Float] = []
    for t in targets {
        for c in 0..<k { values.append(Foundation.log(c == t ? 1 - eps + eps / Float(k) : eps / Float(k))) }
    }
    return Tensor(shape: [targets.count, k], scalars: values)
}

@Suite("TIME losses: hand-computable values")
struct TIMELossValueTests {
    @Test func debiasOfConstantLogitsIsLogK() {
        for k in [2, 9, 174] {
            // Constant rows (different constants per row) are all uniform after softmax.
            let logits = Tensor(shape: [3, k], scalars: (0..<3).flatMap { r in [Float](repeating: Float(r) * 2.5 - 1, count: k) })
                .requiringGrad()
            let loss = DebiasLoss()(logits)
            #expect(Swift.abs(loss.item - Foundation.log(Float(k))) < 1e-5, "K = \(k): \(loss.item)")
            loss.backward()
            let g = logits.grad!.scalars
            #expect(g.allSatisfy { Swift.abs($0) < 1e-7 }, "gradient at the minimum: max \(g.map { Swift.abs($0) }.max()!)")
        }
        #expect(Swift.abs(Float(Foundation.log(174.0)) - 5.1591) < 1e-4)
    }

    @Test func debiasIsAboveLogKElsewhere() {
        var g = RandomGenerator(seed: 3)
        for _ in 0..<20 {
            let logits = Tensor.normal([4, 10], std: 3, using: &g)
            #expect(DebiasLoss()(logits).item > Foundation.log(Float(10)))
        }
    }

    @Test func orderLossFloorForEightFrames() {
        let (b, t, eps): (Int, Int, Float) = (2, 8, 0.2)
        let targets = (0..<b).flatMap { _ in 0..<t }
        let optimum = optimalLogits(classes: t, targets: targets, smoothing: eps).reshaped([b, t, t])
        let x = optimum.requiringGrad()
        let floor = FrameOrderHead.loss(x, labelSmoothing: eps)
        #expect(Swift.abs(floor.item - 0.8043) < 1e-4, "\(floor.item)")
        floor.backward()
        #expect(x.grad!.scalars.allSatisfy { Swift.abs($0) < 1e-6 })
        var g = RandomGenerator(seed: 5)
        for scale: Float in [0.01, 0.1, 1, 5] {
            let perturbed = optimum + Tensor.normal(optimum.shape, std: scale, using: &g)
            #expect(FrameOrderHead.loss(perturbed, labelSmoothing: eps).item >= floor.item - 1e-6)
        }
    }

    @Test func flowLossFloorForNineClasses() {
        let (b, t, n, eps): (Int, Int, Int, Float) = (2, 3, 5, 0.2)
        var g = RandomGenerator(seed: 8)
        let labels = (0..<(b * (t - 1) * n)).map { _ in g.nextInt(below: 9) }
        let optimum = optimalLogits(classes: 9, targets: labels, smoothing: eps).reshaped([b, t - 1, n, 9])
        let labelTensor = IntTensor(shape: [b, t - 1, n], scalars: labels)
        let floor = FlowDirectionHead.loss(optimum, labels: labelTensor, labelSmoothing: eps)
        #expect(Swift.abs(floor.item - 0.8377) < 1e-4, "\(floor.item)")
        for scale: Float in [0.01, 0.1, 1, 5] {
            let perturbed = optimum + Tensor.normal(optimum.shape, std: scale, using: &g)
            #expect(FlowDirectionHead.loss(perturbed, labels: labelTensor, labelSmoothing: eps).item >= floor.item - 1e-6)
        }
    }

    @Test func uniformModelScoresLogsOfClassCounts() {
        // A model whose every output is uniform: ln K + ln T + ln K + ln 9 (reference/TIME.md §1.4).
        var g = RandomGenerator(seed: 1)
        let (b, t, n, c, k) = (2, 8, 4, 6, 174)
        let time = TIMEObjective(.init(embedDim: c, frameCount: t), using: &g)
        for (_, p) in time.namedParameters() { p.value = Tensor(zeros: p.shape) }
        let terms = time.lossTerms(.init(
            classLogits: Tensor(zeros: [b, k]), labels: [3, 7], tokens: Tensor.normal([b, t, n, c], using: &g),
            shuffledClassLogits: Tensor(zeros: [b, k]),
            flowLabels: IntTensor(shape: [b, t - 1, n], scalars: [Int](repeating: 4, count: b * (t - 1) * n))))
        let expected: [String: Float] = ["cls": Foundation.log(174), "order": Foundation.log(8),
                                         "debias": Foundation.log(174), "flow": Foundation.log(9)]
        for (name, value) in terms.values {
            #expect(Swift.abs(value - expected[name]!) < 1e-5, "\(name): \(value)")
        }
        #expect(Swift.abs(terms.total.item - (5.1591 + 2.0794 + 5.1591 + 2.1972)) < 1e-3)
    }
}

@Suite("TIME heads: gradients, names and shape errors")
struct TIMEHeadTests {
    @Test func parameterNamesMatchTheReference() {
        var g = RandomGenerator(seed: 0)
        let time = TIMEObjective(.init(embedDim: 8, frameCount: 4), using: &g)
        let keys = time.namedParameters().map { $0.0 }
        #expect(keys == [
            "temp_head.weight", "temp_head.bias",
            "mlp_q.weight", "mlp_q.bias", "mlp_k.weight", "mlp_k.bias", "mlp_v.weight", "mlp_v.bias",
            "mlp_proj.weight", "mlp_proj.bias", "mlp_norm.weight", "mlp_norm.bias",
            "flow_head.weight", "flow_head.bias",
        ])
        #expect(time.namedParameters().first { $0.0 == "flow_head.weight" }!.1.shape == [9, 8])
        #expect(time.namedParameters().first { $0.0 == "temp_head.weight" }!.1.shape == [4, 8])
    }

    @Test func frameOrderHeadGradients() {
        var g = RandomGenerator(seed: 11)
        let head = FrameOrderHead(embedDim: 5, frameCount: 3, using: &g)
        let tokens = Tensor.normal([2, 3, 4, 5], using: &g)
        let r = checkGradients([tokens]) { xs in FrameOrderHead.loss(head(xs[0]), labelSmoothing: 0.2) }
        #expect(r.passed, "\(r)")
        let p = checkParameterGradients(of: head.namedParameters()) {
            FrameOrderHead.loss(head(tokens), labelSmoothing: 0.2)
        }
        #expect(p.passed, "\(p.report)")
    }

    @Test func flowDirectionHeadGradients() {
        var g = RandomGenerator(seed: 12)
        let head = FlowDirectionHead(embedDim: 6, using: &g)
        let tokens = Tensor.normal([2, 3, 4, 6], using: &g)
        let labels = IntTensor(shape: [2, 2, 4], scalars: (0..<16).map { $0 % 9 })
        let r = checkGradients([tokens]) { xs in FlowDirectionHead.loss(head(xs[0]), labels: labels, labelSmoothing: 0.2) }
        #expect(r.passed, "\(r)")
        let p = checkParameterGradients(of: head.namedParameters()) {
            FlowDirectionHead.loss(head(tokens), labels: labels, labelSmoothing: 0.2)
        }
        #expect(p.passed, "\(p.report)")
    }

    @Test func debiasGradient() {
        var g = RandomGenerator(seed: 13)
        let r = checkGradients([Tensor.normal([3, 7], using: &g)]) { xs in DebiasLoss()(xs[0]) }
        #expect(r.passed, "\(r)")
    }

    @Test func shuffleFramesAppliesOnePermutationToTheBatch() {
        let clips = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let shuffled = DebiasLoss.shuffleFrames(clips, permutation: [2, 0, 1])
        #expect(shuffled.scalars == [4, 5, 0, 1, 2, 3, 10, 11, 6, 7, 8, 9])
        var g = RandomGenerator(seed: 99)
        let p = DebiasLoss.framePermutation(frameCount: 8, using: &g)
        #expect(p.sorted() == Array(0..<8))
    }

    @Test func wrongFrameCountStops() async {
        await #expect(processExitsWith: .failure) {
            var g = RandomGenerator(seed: 0)
            let head = FrameOrderHead(embedDim: 4, frameCount: 8, using: &g)
            _ = head(Tensor(zeros: [1, 4, 3, 4]))
        }
    }

    @Test func flowLabelsOfTheWrongShapeStop() async {
        await #expect(processExitsWith: .failure) {
            _ = FlowDirectionHead.loss(Tensor(zeros: [1, 2, 3, 9]), labels: IntTensor(shape: [1, 3, 3], scalars: [Int](repeating: 0, count: 9)),
                                       labelSmoothing: 0.2)
        }
    }

    @Test func flowLabelOutOfRangeStops() async {
        await #expect(processExitsWith: .failure) {
            _ = FlowDirectionHead.loss(Tensor(zeros: [1, 1, 2, 9]), labels: IntTensor(shape: [1, 1, 2], scalars: [0, 9]),
                                       labelSmoothing: 0.2)
        }
    }

    @Test func mismatchedShuffledLogitsStop() async {
        await #expect(processExitsWith: .failure) {
            var g = RandomGenerator(seed: 0)
            let time = TIMEObjective(.init(embedDim: 4, frameCount: 2), using: &g)
            _ = time.lossTerms(.init(classLogits: Tensor(zeros: [1, 5]), labels: [0], tokens: Tensor(zeros: [1, 2, 3, 4]),
                                     shuffledClassLogits: Tensor(zeros: [1, 6]),
                                     flowLabels: IntTensor(shape: [1, 1, 3], scalars: [0, 0, 0])))
        }
    }
}

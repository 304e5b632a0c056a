import Foundation
import Testing
import TemporalSSL
import TensorCore
import _TestSupport

/// Compares image TIME's head and losses with the PyTorch re-implementation in
/// `Scripts/reference/make_image_time_fixtures.py` (B 2, T 1, N 9, C 16, K 5; weights cls 1,
/// order 0.5, debias 2).
@Suite("Image TIME vs PyTorch golden values")
struct ImageTIMEGoldenTests {
    let file: SafeTensorsFile

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "golden_image_time", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        file = try SafeTensors.read(contentsOf: url)
    }

    private func objective() throws -> ImageTIMEObjective {
        var g = RandomGenerator(seed: 0)
        var c = ImageTIMEObjective.Configuration(embedDim: 16, patchCount: 9)
        c.orderWeight = 0.5
        c.debiasWeight = 2
        let time = ImageTIMEObjective(c, using: &g)
        let params = try file.floatTensors().filter { $0.0.hasPrefix("param.") }
            .map { (String($0.0.dropFirst("param.".count)), $0.1) }
        #expect(try time.loadStateDict(params).isExact)
        return time
    }

    /// Relative agreement of two scalars (the tolerance the fixtures promise: 1e-5).
    private func relativeError(_ a: Float, _ b: Float) -> Float { Swift.abs(a - b) / Swift.max(Swift.abs(b), 1e-6) }

    @Test func lossesAndGradientsMatchPyTorch() throws {
        let time = try objective()
        let tokens = try file.tensor(named: "tokens").requiringGrad()
        let logits = try file.tensor(named: "logits").requiringGrad()
        let background = try file.tensor(named: "background_logits").requiringGrad()
        let labels = try file.integers(named: "labels").values
        let terms = time.lossTerms(.init(classLogits: logits, labels: labels, tokens: tokens,
                                         backgroundClassLogits: background))
        #expect(terms.terms.map(\.name) == ["cls", "order", "debias"])
        #expect(isClose(time.patchOrder(tokens.detached()), try file.tensor(named: "order_logits"), atol: 1e-5))
        let weights: [String: Float] = ["cls": 1, "order": 0.5, "debias": 2]
        for (name, weight) in weights {
            let expected = try file.tensor(named: "loss.\(name)").item * weight
            #expect(relativeError(terms[name]!.item, expected) < 1e-5, "\(name): \(terms[name]!.item) vs \(expected)")
        }
        let total = terms.total
        #expect(relativeError(total.item, try file.tensor(named: "loss.total").item) < 1e-5)

        total.backward()
        #expect(isClose(tokens.grad!, try file.tensor(named: "grad.tokens"), atol: 1e-7, rtol: 1e-5))
        #expect(isClose(logits.grad!, try file.tensor(named: "grad.logits"), atol: 1e-7, rtol: 1e-5))
        #expect(isClose(background.grad!, try file.tensor(named: "grad.background_logits"), atol: 1e-7, rtol: 1e-5))
        for (key, p) in time.namedParameters() {
            let expected = try file.tensor(named: "grad.\(key)")
            #expect(isClose(p.grad!, expected, atol: 1e-7, rtol: 1e-5),
                    "gradient of \(key): max diff \(maxAbsDifference(p.grad!, expected))")
        }
        #expect(time.namedParameters().map(\.0).sorted() == ["patch_head.bias", "patch_head.weight"])
    }

    @Test func stepRunsBothForwardsAndSkipsDebiasWithoutBackgrounds() throws {
        let time = try objective()
        let tokens = try file.tensor(named: "tokens")
        let logits = try file.tensor(named: "logits")
        let background = try file.tensor(named: "background_logits")
        let labels = try file.integers(named: "labels").values
        // Stand-in "model": the images' outputs are the fixture's, the backgrounds' logits too.
        let images = Tensor(zeros: [2, 1, 3, 4, 4]), backgrounds = Tensor(ones: [2, 1, 3, 4, 4])
        var classified: [Float] = []
        let (terms, out) = time.step(images: images, labels: labels, backgrounds: backgrounds,
                                     forward: { _ in (logits, tokens) },
                                     classify: { classified.append($0.sum().item); return background })
        #expect(classified == [96])
        #expect(out.scalars == logits.scalars)
        #expect(relativeError(terms.total.item, try file.tensor(named: "loss.total").item) < 1e-5)
        let (orderOnly, _) = time.step(images: images, labels: labels, backgrounds: nil,
                                       forward: { _ in (logits, tokens) }, classify: { _ in Issue.record("classify called"); return background })
        #expect(orderOnly.terms.map(\.name) == ["cls", "order"])
    }
}

@Suite("Image TIME losses: hand-computable values and finite differences")
struct ImageTIMELossTests {
    @Test func patchOrderFloorMatchesLabelSmoothedOptimum() {
        // The LSCE floor for N classes: −(1−ε+ε/N)·log(1−ε+ε/N) − (N−1)(ε/N)·log(ε/N).
        let (n, eps): (Int, Float) = (16, 0.2)
        let high = 1 - eps + eps / Float(n), low = eps / Float(n)
        var values: [Float] = []
        for _ in 0..<2 { for target in 0..<n { for c in 0..<n { values.append(Foundation.log(c == target ? high : low)) } } }
        let optimum = Tensor(shape: [2, 1, n, n], scalars: values)
        let expected = -high * Foundation.log(high) - Float(n - 1) * low * Foundation.log(low)
        #expect(Swift.abs(PatchOrderHead.loss(optimum, labelSmoothing: eps).item - expected) < 1e-5)
        // Uniform logits cost ln N whatever the smoothing.
        #expect(Swift.abs(PatchOrderHead.loss(Tensor(zeros: [3, 1, n, n]), labelSmoothing: eps).item
                          - Foundation.log(Float(n))) < 1e-5)
    }

    @Test func backgroundDebiasIsTheUniformCrossEntropy() {
        var g = RandomGenerator(seed: 11)
        let logits = Tensor.normal([3, 7], std: 2, using: &g)
        var expected: Float = 0
        for r in 0..<3 {
            let row = (0..<7).map { logits.scalars[r * 7 + $0] }
            let m = row.max()!
            let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            expected += row.map { lse - $0 }.reduce(0, +) / 7
        }
        #expect(Swift.abs(BackgroundDebiasLoss()(logits).item - expected / 3) < 1e-5)
        #expect(Swift.abs(BackgroundDebiasLoss()(Tensor(zeros: [2, 7])).item - Foundation.log(7)) < 1e-6)
    }

    @Test func patchOrderGradientsMatchFiniteDifferences() {
        var g = RandomGenerator(seed: 4)
        let head = PatchOrderHead(embedDim: 5, patchCount: 4, using: &g)
        let tokens = Tensor.normal([2, 1, 4, 5], using: &g)
        let result = checkGradients([tokens, head.patchHead.weight.value]) { xs in
            let logits = (xs[0].matmul(xs[1].transposed()) + head.patchHead.bias!.value)
            return PatchOrderHead.loss(logits, labelSmoothing: 0.2)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func combinedGradientsMatchFiniteDifferences() {
        var g = RandomGenerator(seed: 6)
        var c = ImageTIMEObjective.Configuration(embedDim: 4, patchCount: 4)
        c.debiasWeight = 0.7
        let time = ImageTIMEObjective(c, using: &g)
        let inputs = [Tensor.normal([2, 1, 4, 4], using: &g), Tensor.normal([2, 3], using: &g),
                      Tensor.normal([2, 3], using: &g)]
        let result = checkGradients(inputs) { xs in
            time.lossTerms(.init(classLogits: xs[1], labels: [2, 0], tokens: xs[0], backgroundClassLogits: xs[2])).total
        }
        #expect(result.passed, "\(result)")
    }
}

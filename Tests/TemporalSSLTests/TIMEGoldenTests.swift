import Foundation
import Testing
import TemporalSSL
import TensorCore
import _TestSupport

/// Compares the TIME heads and losses with a PyTorch re-implementation of the reference heads
/// (`Scripts/reference/make_time_golden.py`: B 2, T 4, N 6, C 16, K 7, fixed seeds).
@Suite("TIME vs PyTorch golden values")
struct TIMEGoldenTests {
    let file: SafeTensorsFile

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "golden_time", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        file = try SafeTensors.read(contentsOf: url)
    }

    @Test func lossesAndGradientsMatchPyTorch() throws {
        var g = RandomGenerator(seed: 0)
        let time = TIMEObjective(.init(embedDim: 16, frameCount: 4), using: &g)
        let params = try file.floatTensors().filter { $0.0.hasPrefix("param.") }
            .map { (String($0.0.dropFirst("param.".count)), $0.1) }
        let report = try time.loadStateDict(params)
        #expect(report.isExact)

        let tokens = try file.tensor(named: "tokens").requiringGrad()
        let logits = try file.tensor(named: "logits").requiringGrad()
        let shuffled = try file.tensor(named: "shuffled_logits").requiringGrad()
        let labels = try file.integers(named: "labels").values
        let flow = try file.integers(named: "flow_labels")
        let terms = time.lossTerms(.init(classLogits: logits, labels: labels, tokens: tokens,
                                         shuffledClassLogits: shuffled,
                                         flowLabels: IntTensor(shape: flow.shape, scalars: flow.values)))

        #expect(isClose(time.frameOrder(tokens.detached()), try file.tensor(named: "order_logits"), atol: 1e-5))
        #expect(isClose(time.flowDirection(tokens.detached()), try file.tensor(named: "flow_logits"), atol: 1e-5))
        for name in ["cls", "order", "debias", "flow"] {
            let expected = try file.tensor(named: "loss.\(name)").item
            #expect(Swift.abs(terms[name]!.item - expected) < 1e-5, "\(name): \(terms[name]!.item) vs \(expected)")
        }
        let total = terms.total
        #expect(Swift.abs(total.item - (try file.tensor(named: "loss.total").item)) < 2e-5)

        total.backward()
        #expect(isClose(tokens.grad!, try file.tensor(named: "grad.tokens"), atol: 1e-6, rtol: 1e-3))
        #expect(isClose(logits.grad!, try file.tensor(named: "grad.logits"), atol: 1e-6, rtol: 1e-3))
        #expect(isClose(shuffled.grad!, try file.tensor(named: "grad.shuffled_logits"), atol: 1e-6, rtol: 1e-3))
        for (key, p) in time.namedParameters() {
            let expected = try file.tensor(named: "grad.\(key)")
            #expect(isClose(p.grad!, expected, atol: 1e-6, rtol: 1e-3), "gradient of \(key): max diff \(maxAbsDifference(p.grad!, expected))")
        }
    }
}

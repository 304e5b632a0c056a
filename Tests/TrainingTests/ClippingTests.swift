import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

@Suite struct ClippingTests {
    /// Cases of Scripts/reference/make_optimizer_fixtures.py (`clip.*`), against
    /// torch.nn.utils.clip_grad_norm_.
    @Test(arguments: ["l2", "l2_noclip", "l1", "l3", "inf"])
    func clipGradNormMatchesPyTorch(_ name: String) throws {
        let file = try OptimizerParityTests.fixture()
        let parameters = try (0..<3).map { i in
            let grad = try file.tensor(named: "clip.grads.\(i)")
            let p = Parameter(Tensor(zeros: grad.shape))
            p.grad = grad
            return p
        }
        let maxNorm = try file.tensor(named: "clip.\(name).max_norm").scalars[0]
        let normType = try file.tensor(named: "clip.\(name).norm_type").scalars[0]
        let expected = try file.tensor(named: "clip.\(name).total").scalars[0]
        let total = clipGradNorm(parameters, maxNorm: maxNorm, normType: normType)
        #expect(Swift.abs(total - expected) <= 1e-6 * expected, "total \(total) vs \(expected)")
        for (i, p) in parameters.enumerated() {
            let reference = try file.tensor(named: "clip.\(name).grad.\(i)")
            #expect(isClose(try #require(p.grad), reference, atol: 1e-7, rtol: 1e-6), "grad \(i)")
        }
    }

    @Test func clipGradNormHandComputed() throws {
        let a = Parameter(Tensor(zeros: [1])), b = Parameter(Tensor(zeros: [1])), frozen = Parameter(Tensor(zeros: [1]))
        a.grad = Tensor([3])
        b.grad = Tensor([4])
        #expect(clipGradNorm([a, b, frozen], maxNorm: 1) == 5)
        #expect(Swift.abs(try #require(a.grad).scalars[0] - 0.6) < 1e-6)
        #expect(Swift.abs(try #require(b.grad).scalars[0] - 0.8) < 1e-6)
        #expect(frozen.grad == nil)
        // Below the limit the gradients are unchanged.
        #expect(Swift.abs(clipGradNorm([a, b], maxNorm: 10) - 1) < 1e-6)
        #expect(Swift.abs(try #require(a.grad).scalars[0] - 0.6) < 1e-6)
        #expect(clipGradNorm([frozen], maxNorm: 1) == 0)
    }

    @Test func clipGradValueClampsEachElement() throws {
        let p = Parameter(Tensor(zeros: [4]))
        p.grad = Tensor([-3, -0.5, 0.25, 7])
        clipGradValue([p], maxValue: 1)
        #expect(try #require(p.grad).scalars == [-1, -0.5, 0.25, 1])
    }
}

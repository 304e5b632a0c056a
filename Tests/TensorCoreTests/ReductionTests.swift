import Foundation
import Testing
import TensorCore
import _TestSupport

private func randn(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.normal(shape, using: &g)
}

/// Distinct values at least 0.25 apart in random order, so the maximum along any axis stays the
/// same element when finite differences nudge an input by 1e-2.
private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    let n = Tensor.elementCount(shape)
    return Tensor(shape: shape, scalars: g.permutation(n).map { Float($0) * 0.25 - Float(n) / 8 })
}

/// (axes, keepDims) combinations for a rank-3 input, negative axes included.
let reductionCases: [([Int], Bool)] = [
    ([0], false), ([1], true), ([2], false), ([-1], true), ([0, 2], false), ([2, 0], true),
    ([0, 1, 2], false), ([-3, -2], true),
]

@Suite struct ReductionTests {
    @Test func sumAndMeanHandValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(x.sum(axis: 1).scalars == [6, 15])
        #expect(x.sum(axis: -1, keepDims: true).shape == [2, 1])
        #expect(x.sum(axes: [0, 1]).shape == [])
        #expect(x.sum().item == 21 && x.sum().shape == [])
        #expect(x.mean(axis: 0).scalars == [2.5, 3.5, 4.5])
        #expect(x.mean(axis: 1, keepDims: true).scalars == [2, 5])
        #expect(x.mean().item == 3.5)
        #expect(Tensor(7).sum().item == 7)
    }

    @Test func sumOverInnerAxisOfRankThree() {
        let x = Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(x.sum(axis: 1).scalars == [4, 6, 12, 14])
        #expect(x.sum(axes: [0, 2]).scalars == [14, 22])
    }

    @Test(arguments: reductionCases)
    func sumGradient(axes: [Int], keepDims: Bool) {
        let r = checkGradients([randn([2, 3, 4], seed: 1)]) { $0[0].sum(axes: axes, keepDims: keepDims) }
        #expect(r.passed, "\(axes) keepDims \(keepDims): \(r)")
    }

    @Test(arguments: reductionCases)
    func meanGradient(axes: [Int], keepDims: Bool) {
        let r = checkGradients([randn([2, 3, 4], seed: 2)]) { $0[0].mean(axes: axes, keepDims: keepDims) }
        #expect(r.passed, "\(axes) keepDims \(keepDims): \(r)")
    }

    @Test func fullSumAndMeanGradients() {
        let x = Tensor([1, 2, 3, 4]).requiringGrad()
        (x.sum() + x.mean()).backward()
        #expect(x.grad?.scalars == [1.25, 1.25, 1.25, 1.25])
    }

    @Test func sumToShapeUndoesBroadcast() {
        let g = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(g.sumToShape([3]).scalars == [5, 7, 9])
        #expect(g.sumToShape([2, 1]).scalars == [6, 15])
        #expect(g.sumToShape([]).item == 21)
        #expect(g.sumToShape([2, 3]) == g)
    }

    @Test func maxHandValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, 3, 4])
        #expect(x.max(axis: 1).scalars == [5, 7])
        #expect(x.max(axis: 0).scalars == [7, 5, 4])
        #expect(x.max(axis: -1, keepDims: true).shape == [2, 1])
    }

    @Test func maxGradientGoesToTheMaximum() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, 3, 4]).requiringGrad()
        x.max(axis: 1).sum().backward()
        #expect(x.grad?.scalars == [0, 1, 0, 1, 0, 0])
        for axis in [0, 1, 2, -1] {
            for keepDims in [false, true] {
                let r = checkGradients([distinct([2, 3, 4], seed: 3)]) { $0[0].max(axis: axis, keepDims: keepDims) }
                #expect(r.passed, "axis \(axis) keepDims \(keepDims): \(r)")
            }
        }
    }

    @Test func argmaxTakesTheFirstOfTies() {
        #expect(Tensor([1, 3, 3, 2]).argmax(axis: 0) == [1])
        let x = Tensor(shape: [2, 3], scalars: [5, 5, 1, 2, 9, 9])
        #expect(x.argmax(axis: 1) == [0, 1])
        #expect(x.argmax(axis: 0) == [0, 1, 1])
        #expect(Tensor(shape: [2, 2], scalars: [4, 4, 4, 4]).argmax(axis: -1) == [0, 0])
        // The max gradient follows argmax: ties send it to the first element only.
        let t = Tensor([2, 2, 1]).requiringGrad()
        t.max(axis: 0).backward()
        #expect(t.grad?.scalars == [1, 0, 0])
    }

    @Test func logSumExpValues() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000])
        let y = x.logSumExp(axis: 1)
        let expected0 = Float(Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)))
        let expected1 = Float(1000 + Foundation.log(3.0))
        #expect(y.shape == [2])
        #expect(Swift.abs(y.scalars[0] - expected0) < 1e-5)
        #expect(Swift.abs(y.scalars[1] - expected1) < 1e-3, "stable for large inputs: \(y)")
        #expect(x.logSumExp(axis: 0, keepDims: true).shape == [1, 3])
    }

    @Test func logSumExpGradient() {
        for (axis, keepDims) in [(0, false), (1, true), (-1, false)] {
            let r = checkGradients([randn([3, 4], seed: 4)]) { $0[0].logSumExp(axis: axis, keepDims: keepDims) }
            #expect(r.passed, "axis \(axis) keepDims \(keepDims): \(r)")
        }
        // d/dx logsumexp = softmax: uniform inputs give 1/n each.
        let x = Tensor(zeros: [4]).requiringGrad()
        x.logSumExp(axis: 0).backward()
        #expect(x.grad?.scalars == [0.25, 0.25, 0.25, 0.25])
    }
}

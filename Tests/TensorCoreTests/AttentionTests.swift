import Foundation
import Testing
import TensorCore
import _TestSupport

/// Fused attention against finite differences, against the same attention composed from
/// primitives, and against hand-computable cases, for short (temporal) and long (spatial) sequence
/// lengths, L ≠ S and value widths different from the key width.
@Suite struct AttentionTests {
    /// softmax(scale · QKᵀ) V from matmul, exp, max, sum and div, differentiated by the tape.
    static func composedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float) -> Tensor {
        let scores = Tensor.matmul(q, k, transposeB: true) * scale
        let shifted = scores - scores.max(axis: -1, keepDims: true).detached()
        let e = shifted.exp()
        let p = e / e.sum(axis: -1, keepDims: true)
        return Tensor.matmul(p, v)
    }

    static func inputs(
        batch: [Int], l: Int, s: Int, d: Int, dv: Int, seed: UInt64
    ) -> (q: Tensor, k: Tensor, v: Tensor) {
        var g = RandomGenerator(seed: seed)
        return (Tensor.normal(batch + [l, d], using: &g),
                Tensor.normal(batch + [s, d], using: &g),
                Tensor.normal(batch + [s, dv], using: &g))
    }

    @Test(arguments: [
        (l: 3, s: 5, d: 4, dv: 3),  // L ≠ S, dv ≠ d
        (l: 6, s: 6, d: 9, dv: 9),  // rows not a multiple of the vector size
        (l: 34, s: 40, d: 4, dv: 3),  // long rows: vector body plus tail in the softmax
    ])
    func gradientsMatchFiniteDifferences(l: Int, s: Int, d: Int, dv: Int) {
        let (q, k, v) = Self.inputs(batch: l > 8 ? [1] : [2, 2], l: l, s: s, d: d, dv: dv, seed: 11)
        let r = checkGradients([q, k, v]) { xs in
            Tensor.scaledDotProductAttention(query: xs[0], key: xs[1], value: xs[2])
        }
        #expect(r.passed, "\(r)")
    }

    @Test(arguments: [
        (batch: [3, 2], l: 8, s: 8, d: 16, dv: 16),  // temporal attention shape
        (batch: [2], l: 5, s: 11, d: 12, dv: 7),  // rectangular, odd widths
        (batch: [2], l: 40, s: 37, d: 16, dv: 16),  // spatial-like length
    ])
    func valuesAndGradientsMatchComposedAttention(batch: [Int], l: Int, s: Int, d: Int, dv: Int) {
        let (q0, k0, v0) = Self.inputs(batch: batch, l: l, s: s, d: d, dv: dv, seed: 5)
        var g = RandomGenerator(seed: 6)
        let seed = Tensor.normal(batch + [l, dv], using: &g)
        let scale = 1 / Float(d).squareRoot()

        let (q1, k1, v1) = (q0.requiringGrad(), k0.requiringGrad(), v0.requiringGrad())
        let fused = Tensor.scaledDotProductAttention(query: q1, key: k1, value: v1)
        fused.backward(seed)
        let (q2, k2, v2) = (q0.requiringGrad(), k0.requiringGrad(), v0.requiringGrad())
        let composed = Self.composedAttention(q2, k2, v2, scale: scale)
        composed.backward(seed)

        #expect(fused.shape == batch + [l, dv])
        #expect(maxAbsDifference(fused, composed) < 1e-5)
        for (a, b) in [(q1, q2), (k1, k2), (v1, v2)] {
            let (ga, gb) = (a.grad!, b.grad!)
            #expect(isClose(ga, gb, atol: 1e-5, rtol: 1e-4), "max difference \(maxAbsDifference(ga, gb))")
        }
    }

    @Test(arguments: [4, 36])
    func identicalKeysAverageTheValues(s: Int) {
        // Every score in a row is equal, so the weights are 1/S and each output row is the mean of V.
        var g = RandomGenerator(seed: 3)
        let q = Tensor.normal([2, 3, 5], using: &g)
        let key = Tensor.normal([1, 1, 5], using: &g).broadcast(to: [2, s, 5])
        let v = Tensor.normal([2, s, 4], using: &g)
        let out = Tensor.scaledDotProductAttention(query: q, key: key, value: v)
        let mean = v.mean(axis: 1, keepDims: true).broadcast(to: [2, 3, 4])
        #expect(maxAbsDifference(out, mean) < 1e-6)
    }

    @Test func oneDominantKeySelectsItsValue() {
        // Scores 0 and 100·1 = 100: the softmax weight of the second key is 1 − e⁻¹⁰⁰ ≈ 1.
        let q = Tensor(shape: [1, 2], scalars: [0, 1])
        let k = Tensor(shape: [2, 2], scalars: [0, 0, 0, 1])
        let v = Tensor(shape: [2, 3], scalars: [1, 2, 3, 10, 20, 30])
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 100)
        #expect(out.shape == [1, 3])
        #expect(maxAbsDifference(out, Tensor(shape: [1, 3], scalars: [10, 20, 30])) < 1e-4)
    }

    @Test func defaultScaleIsInverseSquareRootOfWidth() {
        let (q, k, v) = Self.inputs(batch: [2], l: 4, s: 6, d: 16, dv: 8, seed: 9)
        let implicit = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        let explicit = Tensor.scaledDotProductAttention(query: q * 0.25, key: k, value: v, scale: 1)
        #expect(maxAbsDifference(implicit, explicit) < 1e-6)
        let other = Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 1)
        #expect(maxAbsDifference(implicit, other) > 1e-3)
    }

    @Test(arguments: [8, 50])
    func noGradKeepsValuesAndRecordsNothing(l: Int) {
        let (q0, k, v) = Self.inputs(batch: [3], l: l, s: l, d: 8, dv: 8, seed: 4)
        let q = q0.requiringGrad()
        let recorded = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        let plain = noGrad { Tensor.scaledDotProductAttention(query: q, key: k, value: v) }
        #expect(recorded.requiresGrad)
        #expect(!plain.requiresGrad)
        #expect(recorded.scalars == plain.scalars)
    }

    @Test func softmaxStaysFiniteForLargeScores() {
        // Scores of order 10² overflow a naive exp; the row-max shift keeps the result exact.
        let (q, k, v) = Self.inputs(batch: [2], l: 8, s: 40, d: 4, dv: 4, seed: 8)
        let fused = Tensor.scaledDotProductAttention(query: q * 100, key: k, value: v)
        let composed = Self.composedAttention(q * 100, k, v, scale: 0.5)
        #expect(fused.scalars.allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(fused, composed) < 1e-3)
    }

    @Test func emptyBatchGivesEmptyOutput() {
        let q = Tensor(zeros: [0, 3, 4]).requiringGrad()
        let out = Tensor.scaledDotProductAttention(query: q, key: Tensor(zeros: [0, 5, 4]), value: Tensor(zeros: [0, 5, 2]))
        #expect(out.shape == [0, 3, 2])
        out.backward(Tensor(zeros: [0, 3, 2]))
        #expect(q.grad?.shape == [0, 3, 4])
    }

    @Test func mismatchedKeyWidthStops() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.scaledDotProductAttention(
                query: Tensor(zeros: [2, 3, 4]), key: Tensor(zeros: [2, 5, 6]), value: Tensor(zeros: [2, 5, 4]))
        }
    }
}

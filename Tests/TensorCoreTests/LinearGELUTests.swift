import Testing
import TensorCore
import _TestSupport

private func randn(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.normal(shape, std: std, using: &g)
}

/// The fused `gelu(x·Wᵀ + b)` against the composition of ``Tensor/linear(_:weight:bias:)`` and
/// ``Tensor/gelu()``, and its gradients against central differences.
@Suite struct LinearGELUTests {
    @Test func valuesEqualTheComposition() {
        let x = randn([2, 3, 4], seed: 1), w = randn([5, 4], seed: 2), b = randn([5], seed: 3)
        #expect(isClose(Tensor.linearGELU(x, weight: w, bias: b), Tensor.linear(x, weight: w, bias: b).gelu(),
                        atol: 1e-6, rtol: 1e-6))
        #expect(isClose(Tensor.linearGELU(x, weight: w), Tensor.linear(x, weight: w).gelu(), atol: 1e-6, rtol: 1e-6))
    }

    /// Several chunks per thread (chunks of 2¹² pre-activations: 64 rows of 64 outputs; the product
    /// is large enough to be split over the threads), with and without recording (the unrecorded
    /// path keeps the pre-activation only in a per-thread chunk).
    @Test func chunkedRowsEqualTheComposition() {
        let x = randn([600, 16], seed: 4), w = randn([64, 16], seed: 5), b = randn([64], seed: 6)
        let reference = noGrad { Tensor.linear(x, weight: w, bias: b).gelu() }
        let unrecorded = noGrad { Tensor.linearGELU(x, weight: w, bias: b, chunkElements: 1 << 12) }
        #expect(isClose(unrecorded, reference, atol: 1e-6, rtol: 1e-6))
        let recorded = Tensor.linearGELU(x, weight: w.requiringGrad(), bias: b, chunkElements: 1 << 12)
        #expect(recorded.requiresGrad && isClose(recorded, reference, atol: 1e-6, rtol: 1e-6))
    }

    @Test func gradientsMatchFiniteDifferences() {
        let x = randn([2, 3, 4], seed: 7), w = randn([5, 4], std: 0.5, seed: 8), b = randn([5], seed: 9)
        let withBias = checkGradients([x, w, b]) { Tensor.linearGELU($0[0], weight: $0[1], bias: $0[2]) }
        #expect(withBias.passed, "\(withBias)")
        let without = checkGradients([x, w]) { Tensor.linearGELU($0[0], weight: $0[1]) }
        #expect(without.passed, "\(without)")
    }

    @Test func chunkedGradientsEqualTheComposition() {
        let x = randn([600, 16], seed: 10), w = randn([64, 16], seed: 11), b = randn([64], seed: 12)
        let g = randn([600, 64], seed: 13)
        func grads(_ f: (Tensor, Tensor, Tensor) -> Tensor) -> [Tensor] {
            let (xl, wl, bl) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            f(xl, wl, bl).backward(g)
            return [xl.grad!, wl.grad!, bl.grad!]
        }
        let fused = grads { Tensor.linearGELU($0, weight: $1, bias: $2, chunkElements: 1 << 12) }
        let composed = grads { Tensor.linear($0, weight: $1, bias: $2).gelu() }
        for (a, e) in zip(fused, composed) { #expect(isClose(a, e, atol: 1e-4, rtol: 1e-5), "\(a.shape)") }
    }

    @Test func onlyTheInputsThatNeedGradientsGetThem() {
        let x = randn([3, 4], seed: 14), w = randn([5, 4], seed: 15), b = randn([5], seed: 16)
        let wl = w.requiringGrad()
        Tensor.linearGELU(x, weight: wl, bias: b).sum().backward()
        #expect(wl.grad?.shape == [5, 4])
        let (fusedBias, composedBias) = (b.requiringGrad(), b.requiringGrad())
        Tensor.linearGELU(x, weight: w, bias: fusedBias).sum().backward()
        Tensor.linear(x, weight: w, bias: composedBias).gelu().sum().backward()
        #expect(isClose(fusedBias.grad!, composedBias.grad!, atol: 1e-6, rtol: 1e-6))
    }
}

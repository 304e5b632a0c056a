import TensorCore
import Testing
import Training
import _TestSupport

@Suite struct EMATests {
    @Test func averageWithoutWarmupStartsFromTheInitialValues() throws {
        let p = Parameter(Tensor([1, 2]))
        let ema = ExponentialMovingAverage([("w", p)], decay: 0.9)
        p.value = Tensor([3, 4])
        ema.update()
        #expect(isClose(try #require(ema.average(forKey: "w")), Tensor([1.2, 2.2]), atol: 1e-6, rtol: 0))
        ema.update()
        #expect(isClose(try #require(ema.average(forKey: "w")), Tensor([1.38, 2.38]), atol: 1e-6, rtol: 0))
        #expect(ema.updateCount == 2)
        #expect(ema.nextDecay == 0.9)
        #expect(ema.average(forKey: "v") == nil)
    }

    @Test func warmupStartsAtTheFirstUpdateAndRisesToTheDecay() throws {
        let p = Parameter(Tensor([1, 2]))
        let ema = ExponentialMovingAverage([("w", p)], decay: 0.99, warmup: .init(gamma: 1, power: 2.0 / 3.0))
        #expect(ema.nextDecay == 0)
        p.value = Tensor([5, -5])
        ema.update()
        #expect(try #require(ema.average(forKey: "w")).scalars == [5, -5])
        #expect(Swift.abs(ema.nextDecay - 0.370_039_475) < 1e-8)
        for _ in 0..<1000 { ema.update() }
        #expect(ema.nextDecay == 0.99)
    }

    @Test func stateRoundTripAndCopyIntoParameters() throws {
        let p = Parameter(Tensor([1, 2]))
        let ema = ExponentialMovingAverage([("w", p)], decay: 0.5)
        p.value = Tensor([3, 6])
        ema.update()
        let state = ema.stateDict()
        #expect(state["num_updates"]?.scalars == [1])

        let q = Parameter(Tensor([0, 0]))
        let restored = ExponentialMovingAverage([("w", q)], decay: 0.5)
        try restored.loadStateDict(state)
        #expect(restored.updateCount == 1)
        restored.copyAverages()
        #expect(q.value.scalars == [2, 4])

        #expect(throws: OptimizerStateError.unexpectedKeys(["v"])) {
            try restored.loadStateDict(state.merging(["v": Tensor([0])]) { a, _ in a })
        }
        #expect(throws: OptimizerStateError.shapeMismatch(key: "w", expected: [2], found: [3])) {
            try restored.loadStateDict(state.merging(["w": Tensor([0, 0, 0])]) { _, b in b })
        }
        #expect(throws: OptimizerStateError.incompleteState(parameter: "ExponentialMovingAverage", missing: ["num_updates"])) {
            try restored.loadStateDict(["w": Tensor([0, 0])])
        }
    }
}

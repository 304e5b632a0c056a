import TensorCore
import Testing
import Training
import _TestSupport

@Suite struct OptimizerAccumulationTests {
    @Test func accumulatedMicroBatchesStepLikeTheirMean() throws {
        let inputs: [[Float]] = [[1, 2, -1], [3, -2, 0.5]]
        let accumulated = Parameter(Tensor([0.1, 0.2, 0.3]))
        let direct = Parameter(Tensor([0.1, 0.2, 0.3]))
        let optimizer = AdamW([ParameterGroup(name: "all", parameters: [("w", accumulated)], weightDecay: 0.05)], learningRate: 0.01)
        let reference = AdamW([ParameterGroup(name: "all", parameters: [("w", direct)], weightDecay: 0.05)], learningRate: 0.01)

        var accumulator = GradientAccumulator(microBatches: 2)
        var beforeStepCalls = 0
        var stepped: [Bool] = []
        for x in inputs {
            // d/dw sum(w·x) = x, summed over the micro-batches by backward.
            (accumulated.value * Tensor(x)).sum().backward()
            stepped.append(accumulator.finishMicroBatch(optimizer) { beforeStepCalls += 1 })
        }
        #expect(stepped == [false, true])
        #expect(beforeStepCalls == 1)
        #expect(accumulated.grad == nil)
        #expect(accumulator.pending == 0)

        direct.grad = Tensor(zip(inputs[0], inputs[1]).map { ($0 + $1) / 2 })
        reference.step()
        #expect(isClose(accumulated.value, direct.value, atol: 1e-7, rtol: 1e-6))
        #expect(accumulated.value.scalars != [0.1, 0.2, 0.3])
    }
}

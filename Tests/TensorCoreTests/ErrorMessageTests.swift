import Testing
import TensorCore
import _TestSupport

/// Shape and axis mistakes must stop the process (they are programmer errors, not thrown errors).
///
/// Each case runs in a child process through an exit test. Optimised builds drop precondition
/// messages, so the message itself (op name first, then the shapes) is only checked in debug.
@Suite struct ErrorMessageTests {
    /// Checks that the child's standard error names the failing op and shapes.
    static func expectMessage(_ result: ExitTest.Result?, _ expected: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #if DEBUG
        guard let result else { return }
        let text = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(text.contains(expected), "stderr: \(text)", sourceLocation: sourceLocation)
        #endif
    }

    @Test func broadcastMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]) + Tensor(zeros: [4])
        }
        Self.expectMessage(result, "add: shapes [2, 3] and [4] cannot be broadcast together")
    }

    @Test func broadcastToIncompatibleShapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [3, 1]).broadcast(to: [3])
        }
        Self.expectMessage(result, "broadcast: cannot broadcast [3, 1] to [3]")
    }

    @Test func matmulInnerMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 5]))
        }
        Self.expectMessage(result, "matmul: inner dimensions differ for shapes [2, 3] and [4, 5]")
    }

    @Test func matmulBatchMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor(zeros: [2, 2, 3]), Tensor(zeros: [3, 3, 4]))
        }
        Self.expectMessage(result, "matmul: shapes [2] and [3] cannot be broadcast together")
    }

    @Test func linearWeightMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.linear(Tensor(zeros: [2, 3]), weight: Tensor(zeros: [4, 5]))
        }
        Self.expectMessage(result, "linear: input [2, 3] does not match weight [4, 5]")
    }

    @Test func badReductionAxisStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).sum(axis: 2)
        }
        Self.expectMessage(result, "sum: axis 2 out of range for shape [2, 3]")
    }

    @Test func badNegativeAxisStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).transposed(-3, -1)
        }
        Self.expectMessage(result, "transpose: axis -3 out of range for shape [2, 3]")
    }

    @Test func badReshapeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).reshaped([4, 2])
        }
        Self.expectMessage(result, "reshape: cannot reshape [2, 3] (6 elements) to [4, 2]")
    }

    @Test func squeezeOfWideAxisStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).squeezed(axis: 1)
        }
        Self.expectMessage(result, "squeeze: axis 1 has size 3 in shape [2, 3]")
    }

    @Test func badPermutationStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).permuted([0, 0])
        }
        Self.expectMessage(result, "permute: [0, 0] is not a permutation")
    }

    @Test func concatMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concat([Tensor(zeros: [2, 3]), Tensor(zeros: [3, 4])], axis: 1)
        }
        Self.expectMessage(result, "concat: shapes [2, 3] and [3, 4] differ outside axis 1")
    }

    @Test func concatRankMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concat([Tensor(zeros: [2, 3]), Tensor(zeros: [2, 3, 1])], axis: 0)
        }
        Self.expectMessage(result, "concat: shapes [2, 3] and [2, 3, 1] differ outside axis 0")
    }

    @Test func stackMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.stack([Tensor(zeros: [2, 3]), Tensor(zeros: [3, 2])])
        }
        Self.expectMessage(result, "stack: shapes [2, 3] and [3, 2] differ")
    }

    @Test func sliceOutOfBoundsStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).slice(axis: 1, range: 1..<4)
        }
        Self.expectMessage(result, "slice: range 1..<4 out of bounds for axis 1 of shape [2, 3]")
    }

    @Test func indexSelectOutOfRangeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).indexSelect(axis: -1, indices: [0, 3])
        }
        Self.expectMessage(result, "indexSelect: index 3 out of range for axis -1 of shape [2, 3]")
    }

    @Test func gatherRankMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).gather(axis: 1, indices: [0, 1], indexShape: [2])
        }
        Self.expectMessage(result, "gather: index shape [2] does not have the rank of input shape [2, 3]")
    }

    @Test func repeatWithTooFewCountsStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [2, 3]).repeated([2])
        }
        Self.expectMessage(result, "repeat: 1 counts [2] for shape [2, 3] of rank 2")
    }

    @Test func whereMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.where(Mask(repeating: true, shape: [3]), Tensor(zeros: [2, 4]), Tensor(zeros: [4]))
        }
        Self.expectMessage(result, "where: shapes [3] and [2, 4] cannot be broadcast together")
    }

    @Test func maskedFillWiderMaskStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [3]).maskedFill(Mask(repeating: true, shape: [2, 3]), with: 0)
        }
        Self.expectMessage(result, "maskedFill: mask shape [2, 3] does not broadcast to [3]")
    }

    @Test func padWithTooManyPairsStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(zeros: [3]).padded([(1, 1), (1, 1)])
        }
        Self.expectMessage(result, "pad: 2 (before, after) pairs for shape [3] of rank 1")
    }

    @Test func secondBackwardThroughFreedGraphStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor([1, 2, 3]).requiringGrad()
            let y = (x * x).sum()
            y.backward()
            y.backward()
        }
        Self.expectMessage(result, "backward: the graph through 'sum' was already freed by an earlier backward")
    }

    @Test func backwardOfTensorWithoutGradStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            Tensor([1, 2]).sum().backward()
        }
        Self.expectMessage(result, "backward: tensor of shape [] does not require grad")
    }

    /// The exit tests above only prove something if correct calls do not stop: the same ops on
    /// matching shapes return values.
    @Test func matchingShapesDoNotStop() {
        #expect((Tensor(zeros: [2, 3]) + Tensor(ones: [3])).scalars == [Float](repeating: 1, count: 6))
        #expect(Tensor.matmul(Tensor(ones: [2, 3]), Tensor(ones: [3, 4])).scalars == [Float](repeating: 3, count: 8))
        #expect(Tensor.concat([Tensor(zeros: [2, 3]), Tensor(ones: [2, 1])], axis: 1).shape == [2, 4])
        #expect(Tensor(zeros: [2, 3]).reshaped([3, 2]).shape == [3, 2])
    }
}

import Testing
import TensorCore
import _TestSupport

private func randn(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.normal(shape, using: &g)
}

/// 0, 1, 2, … laid out in `shape`: element values equal their flat index, so a moved element
/// shows where it came from.
private func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.elementCount(shape)).map(Float.init))
}

@Suite struct ReshapeFamilyTests {
    @Test func reshapeKeepsOrderAndResolvesMinusOne() {
        let x = iota([2, 3])
        let y = x.reshaped([3, -1])
        #expect(y.shape == [3, 2])
        #expect(y.scalars == x.scalars)
        let r = checkGradients([randn([2, 3], seed: 1)]) { $0[0].reshaped([3, 2]) }
        #expect(r.passed, "\(r)")
    }

    @Test func flattenMergesTheGivenAxes() {
        #expect(iota([2, 3, 4]).flattened(from: 1).shape == [2, 12])
        #expect(iota([2, 3, 4]).flattened(from: 0, through: 1).shape == [6, 4])
        #expect(iota([2, 3, 4]).flattened().scalars == iota([24]).scalars)
        let r = checkGradients([randn([2, 3, 2], seed: 2)]) { $0[0].flattened(from: 1) }
        #expect(r.passed, "\(r)")
    }

    @Test func unsqueezeAndSqueezeAreInverse() {
        let x = iota([2, 3])
        #expect(x.unsqueezed(axis: 0).shape == [1, 2, 3])
        #expect(x.unsqueezed(axis: -1).shape == [2, 3, 1])
        #expect(x.unsqueezed(axis: 1).squeezed(axis: 1) == x)
        let r = checkGradients([randn([2, 3], seed: 3)]) { $0[0].unsqueezed(axis: 1).squeezed(axis: -2) }
        #expect(r.passed, "\(r)")
    }

    @Test func broadcastToRepeatsValues() {
        #expect(Tensor([1, 2, 3]).broadcast(to: [2, 3]).scalars == [1, 2, 3, 1, 2, 3])
        #expect(Tensor(shape: [2, 1], scalars: [1, 2]).broadcast(to: [2, 3]).scalars == [1, 1, 1, 2, 2, 2])
        let y = iota([2, 1, 3]).broadcast(to: [2, 4, 3])
        #expect(y[1, 2, 0] == 3 && y[0, 3, 2] == 2)
        for (from, to) in [([3], [2, 3]), ([2, 1, 3], [2, 4, 3]), ([4, 1], [2, 4, 3]), ([], [2, 2])] {
            let r = checkGradients([randn(from, seed: 4)]) { $0[0].broadcast(to: to) }
            #expect(r.passed, "\(from) -> \(to): \(r)")
        }
    }

    @Test func permuteMovesElements() {
        let x = iota([2, 3, 4])
        let y = x.permuted([2, 0, 1])
        #expect(y.shape == [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(y[k, i, j] == x[i, j, k]) } } }
        let r = checkGradients([randn([2, 3, 4], seed: 5)]) { $0[0].permuted([1, 2, 0]) }
        #expect(r.passed, "\(r)")
    }

    @Test func transposeSwapsTwoAxes() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(iota([2, 3, 4]).transposed(0, 2).shape == [4, 3, 2])
        let r = checkGradients([randn([2, 3, 4], seed: 6)]) { $0[0].transposed(0, -1) }
        #expect(r.passed, "\(r)")
    }
}

@Suite struct SliceTests {
    @Test func sliceTakesTheRange() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.slice(axis: 1, range: 1..<3).scalars == [2, 3, 5, 6])
        #expect(x.slice(axis: -1, range: 1..<3).shape == [2, 2])
        #expect(x.slice(axis: 0, range: 1...).scalars == [4, 5, 6])
        #expect(x.slice(axis: 1, range: ..<1).scalars == [1, 4])
        #expect(x.slice(axis: 1, range: 0...2, step: 2).scalars == [1, 3, 4, 6])
        #expect(x.slice(axis: 1, range: 2..<2).shape == [2, 0])
    }

    @Test func sliceOfInnerAxisMatchesIndexing() {
        let x = iota([3, 4, 5])
        let y = x.slice(axis: 1, range: 1..<3)
        #expect(y.shape == [3, 2, 5])
        for i in 0..<3 { for j in 0..<2 { for k in 0..<5 { #expect(y[i, j, k] == x[i, j + 1, k]) } } }
        let z = x.slice(axis: 2, range: 1..<5, step: 3)
        #expect(z.shape == [3, 4, 2])
        #expect(z[2, 3, 0] == x[2, 3, 1] && z[2, 3, 1] == x[2, 3, 4])
    }

    @Test func sliceGradientScattersIntoZeros() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGrad()
        x.slice(axis: 1, range: 1..<3).sum().backward()
        #expect(x.grad?.scalars == [0, 1, 1, 0, 1, 1])
        let cases: [(Int, Range<Int>, Int)] = [(0, 1..<3, 1), (1, 0..<2, 1), (-1, 1..<4, 1), (2, 0..<4, 2), (1, 1..<3, 5)]
        for (axis, range, step) in cases {
            let r = checkGradients([randn([3, 3, 4], seed: 7)]) { $0[0].slice(axis: axis, range: range, step: step) }
            #expect(r.passed, "axis \(axis) range \(range) step \(step): \(r)")
        }
    }
}

@Suite struct ConcatTests {
    @Test func concatJoinsAlongTheAxis() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 1], scalars: [5, 6])
        #expect(Tensor.concat([a, b], axis: 1).scalars == [1, 2, 5, 3, 4, 6])
        #expect(Tensor.concat([a, b], axis: -1).shape == [2, 3])
        #expect(Tensor.concat([a, a], axis: 0).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
        #expect(Tensor.concat([a, Tensor(zeros: [0, 2])]).scalars == a.scalars)
    }

    @Test func concatOfSlicesIsIdentity() {
        let x = randn([2, 5, 3], seed: 8)
        let parts = [x.slice(axis: 1, range: 0..<1), x.slice(axis: 1, range: 1..<4), x.slice(axis: 1, range: 4..<5)]
        #expect(Tensor.concat(parts, axis: 1) == x)
    }

    @Test func concatGradientSplits() {
        let inputs = [randn([2, 1, 3], seed: 9), randn([2, 2, 3], seed: 10), randn([2, 3, 3], seed: 11)]
        let r = checkGradients(inputs) { Tensor.concat($0, axis: 1) * $0[1].sum() }
        #expect(r.passed, "\(r)")
        let r0 = checkGradients([randn([1, 3], seed: 12), randn([2, 3], seed: 13)]) { Tensor.concat($0) }
        #expect(r0.passed, "\(r0)")
        // An input without gradient among ones with: only the others get gradients.
        let a = Tensor([1, 2]).requiringGrad()
        Tensor.concat([a, Tensor([3])]).sum().backward()
        #expect(a.grad?.scalars == [1, 1])
    }

    @Test func stackAddsAnAxis() {
        let a = Tensor([1, 2, 3]), b = Tensor([4, 5, 6])
        #expect(Tensor.stack([a, b]).shape == [2, 3])
        #expect(Tensor.stack([a, b]).scalars == [1, 2, 3, 4, 5, 6])
        #expect(Tensor.stack([a, b], axis: -1).shape == [3, 2])
        #expect(Tensor.stack([a, b], axis: 1).scalars == [1, 4, 2, 5, 3, 6])
        #expect(Tensor.stack([Tensor(1), Tensor(2)]).scalars == [1, 2])
        let r = checkGradients([randn([2, 3], seed: 14), randn([2, 3], seed: 15)]) { Tensor.stack($0, axis: 1) }
        #expect(r.passed, "\(r)")
    }
}

@Suite struct GatherTests {
    @Test func indexSelectPicksSlicesInOrder() {
        let x = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.indexSelect(axis: 0, indices: [2, 0, 2]).scalars == [5, 6, 1, 2, 5, 6])
        #expect(x.indexSelect(axis: -1, indices: [1]).scalars == [2, 4, 6])
        #expect(x.indexSelect(axis: 0, indices: []).shape == [0, 2])
    }

    @Test func indexSelectGradientAccumulatesRepeats() {
        let x = Tensor([10, 20, 30]).requiringGrad()
        x.indexSelect(axis: 0, indices: [1, 1, 0, 1]).sum().backward()
        #expect(x.grad?.scalars == [1, 3, 0])
        for axis in [0, 1, -1] {
            let r = checkGradients([randn([3, 4, 2], seed: 16)]) {
                $0[0].indexSelect(axis: axis, indices: [1, 0, 1, 1])
            }
            #expect(r.passed, "axis \(axis): \(r)")
        }
    }

    @Test func gatherFollowsTorchSemantics() {
        // torch.gather(torch.tensor([[1, 2], [3, 4]]), 1, torch.tensor([[0, 0], [1, 0]])) == [[1, 1], [4, 3]]
        let t = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(t.gather(axis: 1, indices: [0, 0, 1, 0], indexShape: [2, 2]).scalars == [1, 1, 4, 3])
        // Along axis 0: out[i][j] = t[index[i][j]][j].
        #expect(t.gather(axis: 0, indices: [1, 0, 1, 1], indexShape: [2, 2]).scalars == [3, 2, 3, 4])
        // Picking one logit per row, the cross-entropy pattern.
        let logits = iota([3, 4])
        #expect(logits.gather(axis: -1, indices: [3, 0, 2], indexShape: [3, 1]).scalars == [3, 4, 10])
        // An index tensor smaller than the input outside the axis reads the leading corner.
        let x = iota([3, 4, 5])
        let y = x.gather(axis: 1, indices: [3, 0, 1, 2], indexShape: [2, 1, 2])
        #expect(y.scalars == [x[0, 3, 0], x[0, 0, 1], x[1, 1, 0], x[1, 2, 1]])
    }

    @Test func gatherGradientAccumulatesRepeats() {
        let x = Tensor(shape: [1, 3], scalars: [1, 2, 3]).requiringGrad()
        x.gather(axis: 1, indices: [2, 2, 0], indexShape: [1, 3]).sum().backward()
        #expect(x.grad?.scalars == [1, 0, 2])
        let r = checkGradients([randn([3, 4, 2], seed: 17)]) {
            $0[0].gather(axis: 1, indices: [3, 3, 0, 1, 2, 2, 1, 0, 0, 1, 2, 3], indexShape: [2, 3, 2])
        }
        #expect(r.passed, "\(r)")
        let r0 = checkGradients([randn([3, 4], seed: 18)]) {
            $0[0].gather(axis: 0, indices: [2, 0, 1, 2, 2, 2, 0, 1], indexShape: [2, 4])
        }
        #expect(r0.passed, "\(r0)")
    }
}

@Suite struct RepeatTests {
    @Test func repeatTilesLikeTorch() {
        let x = Tensor([1, 2, 3])
        #expect(x.repeated([2]).scalars == [1, 2, 3, 1, 2, 3])
        // torch.tensor([1, 2, 3]).repeat(2, 2) has shape [2, 6].
        let y = x.repeated([2, 2])
        #expect(y.shape == [2, 6])
        #expect(y.scalars == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
        let m = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(m.repeated([2, 1]).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
        #expect(m.repeated([1, 2]).scalars == [1, 2, 1, 2, 3, 4, 3, 4])
        #expect(m.repeated([0, 2]).shape == [0, 4])
        #expect(Tensor(5).repeated([3]).scalars == [5, 5, 5])
        let z = iota([2, 3]).repeated([2, 3, 2])
        #expect(z.shape == [2, 6, 6])
        #expect(z[1, 4, 5] == iota([2, 3])[0, 2])
    }

    @Test func repeatGradientSumsTiles() {
        let x = Tensor([1, 2]).requiringGrad()
        (x.repeated([3]) * Tensor([1, 2, 3, 4, 5, 6])).sum().backward()
        #expect(x.grad?.scalars == [9, 12])
        for counts in [[2, 3], [1, 2, 1], [2, 1, 3, 2]] {
            let r = checkGradients([randn([2, 3], seed: 19)]) { $0[0].repeated(counts) }
            #expect(r.passed, "\(counts): \(r)")
        }
    }
}

@Suite struct WhereTests {
    @Test func whereSelectsByMask() {
        let c = Mask(shape: [2, 2], values: [true, false, false, true])
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        #expect(Tensor.where(c, a, b).scalars == [1, 6, 7, 4])
        #expect(Tensor.where(!c, a, b).scalars == [5, 2, 3, 8])
        // The condition, a and b broadcast together.
        let row = Mask(shape: [3], values: [true, false, true])
        #expect(Tensor.where(row, Tensor(shape: [2, 1], scalars: [1, 2]), Tensor(0)).scalars == [1, 0, 1, 2, 0, 2])
        #expect(a.mask { $0 > 2 } == Mask(shape: [2, 2], values: [false, false, true, true]))
    }

    @Test func whereGradientGoesToTheChosenSide() {
        let a = Tensor([1, 2, 3]).requiringGrad(), b = Tensor([4, 5, 6]).requiringGrad()
        Tensor.where(Mask(shape: [3], values: [true, false, true]), a, b).sum().backward()
        #expect(a.grad?.scalars == [1, 0, 1])
        #expect(b.grad?.scalars == [0, 1, 0])
        let mask = Mask(shape: [2, 1, 3], values: [true, false, true, false, false, true])
        let r = checkGradients([randn([4, 3], seed: 20), randn([2, 1, 1], seed: 21)]) { Tensor.where(mask, $0[0], $0[1]) }
        #expect(r.passed, "\(r)")
    }

    @Test func maskedFillWritesTheValue() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(x.maskedFill(Mask(shape: [2, 2], values: [false, true, true, false]), with: 9).scalars == [1, 9, 9, 4])
        // A causal mask broadcast over a batch, filled with -inf as before a softmax.
        let causal = Mask(shape: [2, 2], values: [false, true, false, false])
        let scores = Tensor(zeros: [3, 2, 2]).maskedFill(causal, with: -.infinity)
        #expect(scores.scalars.filter { $0 == -.infinity }.count == 3)
        #expect(scores[2, 0, 1] == -.infinity && scores[2, 1, 0] == 0)
    }

    @Test func maskedFillGradientSkipsFilledPositions() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        x.maskedFill(Mask(shape: [3], values: [false, true, false]), with: 0).sum().backward()
        #expect(x.grad?.scalars == [1, 0, 1])
        let mask = Mask(shape: [3], values: [true, false, false])
        let r = checkGradients([randn([2, 3], seed: 22)]) { $0[0].maskedFill(mask, with: -5) }
        #expect(r.passed, "\(r)")
    }
}

@Suite struct PadTests {
    @Test func padSurroundsTrailingAxes() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let y = x.padded([(1, 0), (0, 2)], value: 9)
        #expect(y.shape == [3, 4])
        #expect(y.scalars == [9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9])
        #expect(x.padded([(1, 1)]).scalars == [0, 1, 2, 0, 0, 3, 4, 0])
        let z = iota([2, 3, 4]).padded([(1, 2), (2, 1)])
        #expect(z.shape == [2, 6, 7])
        #expect(z[1, 1, 2] == iota([2, 3, 4])[1, 0, 0] && z[1, 0, 2] == 0 && z[0, 5, 6] == 0)
        #expect(z.slice(axis: 1, range: 1..<4).slice(axis: 2, range: 2..<6) == iota([2, 3, 4]))
    }

    @Test func padGradientCropsBack() {
        let x = Tensor([1, 2]).requiringGrad()
        (x.padded([(2, 1)], value: 3) * Tensor([1, 2, 3, 4, 5])).sum().backward()
        #expect(x.grad?.scalars == [3, 4])
        let r = checkGradients([randn([2, 3, 2], seed: 23)]) { $0[0].padded([(0, 1), (1, 2), (2, 0)], value: 0.5) }
        #expect(r.passed, "\(r)")
    }
}

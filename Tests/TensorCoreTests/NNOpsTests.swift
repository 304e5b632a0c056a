import Foundation
import Testing
import TensorCore
import _TestSupport

/// Softmax, log-softmax, layer norm, GELU, dropout, drop-path and conv2d: hand-computable values,
/// agreement with compositions of simpler primitives, and finite-difference gradient checks.
@Suite struct NNOpsTests {
    // MARK: Softmax

    @Test func softmaxOfEqualLogitsIsUniform() {
        let x = Tensor(repeating: 3, shape: [2, 4, 5])
        for (axis, k) in [(-1, 5), (0, 2), (1, 4)] {
            let y = x.softmax(axis: axis)
            #expect(y.shape == x.shape)
            #expect(y.scalars.allSatisfy { Swift.abs($0 - 1 / Float(k)) < 1e-6 }, "axis \(axis)")
        }
    }

    @Test func softmaxMatchesExpOverSumOnEveryAxis() {
        var g = RandomGenerator(seed: 11)
        let x = Tensor.normal([2, 3, 4], std: 3, using: &g)
        for axis in 0..<3 {
            let e = x.exp()
            let reference = e / e.sum(axis: axis, keepDims: true)
            #expect(isClose(x.softmax(axis: axis), reference), "axis \(axis)")
            #expect(isClose(x.logSoftmax(axis: axis), reference.log(), atol: 1e-5, rtol: 1e-5), "axis \(axis)")
        }
    }

    @Test func softmaxIsStableForHugeLogits() {
        let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -1000, -1000, -1000])
        let y = x.softmax()
        let e: [Float] = [1, Foundation.exp(1), Foundation.exp(2)]
        let s = e.reduce(0, +)
        let third: Float = 1 / 3
        let expected = Tensor(shape: [2, 3], scalars: e.map { $0 / s } + [third, third, third])
        #expect(isClose(y, expected))
        let ly = x.logSoftmax()
        #expect(ly.scalars.allSatisfy { $0.isFinite })
        #expect(Swift.abs(ly[0, 2] - (2 - Foundation.log(s))) < 1e-4)
    }

    @Test func softmaxIsAccurateAcrossTheExponentRange() {
        // softmax([0, x])[1] = 1/(1 + e^(−x)): checks the exponential over its whole useful range.
        let xs = stride(from: -86.0, through: 86.0, by: 0.37).map { $0 }
        let pairs = Tensor(shape: [xs.count, 2], scalars: xs.flatMap { [0, Float($0)] })
        let y = pairs.softmax()
        for (i, x) in xs.enumerated() {
            let expected = 1 / (1 + Foundation.exp(-Double(Float(x))))
            let got = Double(y[i, 1])
            #expect(Swift.abs(got - expected) <= 4e-7 * expected + 1e-37, "x = \(x): \(got) vs \(expected)")
        }
    }

    @Test(arguments: [-1, 0, 1])
    func softmaxGradient(axis: Int) {
        var g = RandomGenerator(seed: 12)
        let x = Tensor.normal([3, 4, 5], using: &g)
        let r = checkGradients([x]) { $0[0].softmax(axis: axis) }
        #expect(r.passed, "\(r)")
    }

    @Test(arguments: [-1, 0, 1])
    func logSoftmaxGradient(axis: Int) {
        var g = RandomGenerator(seed: 13)
        let x = Tensor.normal([3, 4, 5], using: &g)
        let r = checkGradients([x]) { $0[0].logSoftmax(axis: axis) }
        #expect(r.passed, "\(r)")
    }

    // MARK: Layer norm

    @Test func layerNormHandComputedRow() {
        // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
        let x = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        let y = Tensor.layerNorm(x, weight: nil, bias: nil, epsilon: 0)
        let s = Float(1.25).squareRoot()
        #expect(isClose(y, Tensor(shape: [1, 4], scalars: [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s])))
        let w = Tensor([1, 2, 3, 4]), b = Tensor([0, 1, 0, -1])
        let affine = Tensor.layerNorm(x, weight: w, bias: b, epsilon: 0)
        #expect(isClose(affine, Tensor(shape: [1, 4], scalars: [-1.5 / s, -1 / s + 1, 1.5 / s, 6 / s - 1])))
    }

    @Test func layerNormMatchesComposition() {
        var g = RandomGenerator(seed: 21)
        let x = Tensor.normal([2, 3, 8], mean: 1, std: 2, using: &g)
        let w = Tensor.normal([8], using: &g), b = Tensor.normal([8], using: &g)
        let mean = x.mean(axis: -1, keepDims: true)
        let centered = x - mean
        let variance = centered.squared().mean(axis: -1, keepDims: true)
        let reference = centered / (variance + 1e-5).sqrt() * w + b
        #expect(isClose(Tensor.layerNorm(x, weight: w, bias: b, epsilon: 1e-5), reference, atol: 1e-5, rtol: 1e-4))
    }

    @Test func layerNormGradientWithAffine() {
        var g = RandomGenerator(seed: 22)
        let x = Tensor.normal([3, 2, 6], using: &g)
        let w = Tensor.normal([6], using: &g), b = Tensor.normal([6], using: &g)
        let r = checkGradients([x, w, b]) { Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2], epsilon: 1e-5) }
        #expect(r.passed, "\(r)")
    }

    @Test func layerNormGradientWithoutAffineAndWeightOnly() {
        var g = RandomGenerator(seed: 23)
        let x = Tensor.normal([4, 5], using: &g), w = Tensor.normal([5], using: &g)
        let plain = checkGradients([x]) { Tensor.layerNorm($0[0], weight: nil, bias: nil, epsilon: 1e-5) }
        #expect(plain.passed, "\(plain)")
        let weighted = checkGradients([x, w]) { Tensor.layerNorm($0[0], weight: $0[1], bias: nil, epsilon: 1e-5) }
        #expect(weighted.passed, "\(weighted)")
    }

    @Test func layerNormGradientManyRowsUsesEveryChunk() {
        // Enough rows that the weight and bias gradients are summed from several partials.
        var g = RandomGenerator(seed: 24)
        let x = Tensor.normal([2_048, 16], using: &g)
        let w = Tensor.normal([16], using: &g).requiringGrad(), b = Tensor.normal([16], using: &g).requiringGrad()
        let seed = Tensor.normal([2_048, 16], using: &g)
        Tensor.layerNorm(x, weight: w, bias: b).backward(seed)
        let xhat = Tensor.layerNorm(x, weight: nil, bias: nil)
        #expect(isClose(b.grad!, seed.sum(axis: 0), atol: 1e-3, rtol: 1e-4))
        #expect(isClose(w.grad!, (seed * xhat).sum(axis: 0), atol: 1e-3, rtol: 1e-4))
    }

    // MARK: GELU

    @Test func geluKnownValues() {
        let y = Tensor([0, 1, -1, 3]).gelu()
        #expect(y[0] == 0)
        #expect(Swift.abs(y[1] - 0.8413447) < 1e-6)
        #expect(Swift.abs(y[2] - -0.1586553) < 1e-6)
        #expect(Swift.abs(y[3] - 2.9959503) < 1e-5)
    }

    @Test func geluMatchesDoublePrecisionErfForm() {
        let xs = stride(from: -8.0, through: 8.0, by: 0.01).map { Float($0) }
        let y = Tensor(xs).gelu()
        for (i, x) in xs.enumerated() {
            let expected = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            #expect(Swift.abs(Double(y[i]) - expected) < 1e-6 * Swift.max(1, Swift.abs(Double(x))), "x = \(x)")
        }
    }

    @Test func geluGradient() {
        var g = RandomGenerator(seed: 31)
        let x = Tensor.normal([4, 7], std: 2, using: &g)
        let r = checkGradients([x]) { $0[0].gelu() }
        #expect(r.passed, "\(r)")
        // Hand value: d/dx GELU at 0 is Φ(0) = 0.5.
        let z = Tensor([0]).requiringGrad()
        z.gelu().sum().backward()
        #expect(Swift.abs(z.grad!.scalars[0] - 0.5) < 1e-6)
    }

    // MARK: Dropout and drop-path

    @Test func dropoutKeepRateAndScale() {
        var g = RandomGenerator(seed: 41)
        let p: Float = 0.3
        let y = Tensor(ones: [50_001]).dropout(probability: p, using: &g)
        let kept = y.scalars.filter { $0 != 0 }
        let rate = Double(kept.count) / Double(y.count)
        #expect(Swift.abs(rate - 0.7) < 0.01, "keep rate \(rate)")
        #expect(kept.allSatisfy { $0 == 1 / (1 - p) })
    }

    @Test func dropoutIsIdentityWhenOffAndZeroWhenCertain() {
        var g = RandomGenerator(seed: 42)
        let before = g
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.dropout(probability: 0.5, training: false, using: &g) == x)
        #expect(x.dropout(probability: 0, using: &g) == x)
        #expect(g == before)
        #expect(x.dropout(probability: 1, using: &g).scalars == [Float](repeating: 0, count: 6))
    }

    @Test func dropoutGradientWithFixedGenerator() {
        var g = RandomGenerator(seed: 43)
        let x = Tensor.normal([5, 6], using: &g)
        let r = checkGradients([x]) { xs in
            var fixed = RandomGenerator(seed: 44)
            return xs[0].dropout(probability: 0.4, using: &fixed)
        }
        #expect(r.passed, "\(r)")
    }

    @Test func dropPathZeroesWholeSamples() {
        var g = RandomGenerator(seed: 45)
        let y = Tensor(ones: [64, 3, 4]).dropPath(probability: 0.25, using: &g)
        var kept = 0
        for s in 0..<64 {
            let sample = Array(y.scalars[(s * 12)..<((s + 1) * 12)])
            let dropped = sample.allSatisfy { $0 == 0 }
            let scaled = sample.allSatisfy { $0 == 1 / Float(0.75) }
            #expect(dropped || scaled, "sample \(s): \(sample)")
            if scaled { kept += 1 }
        }
        #expect(kept > 32 && kept < 64, "kept \(kept) of 64")
        var h = RandomGenerator(seed: 46)
        #expect(Tensor(ones: [4, 2]).dropPath(probability: 0.5, training: false, using: &h) == Tensor(ones: [4, 2]))
        #expect(Tensor(ones: [4, 2]).dropPath(probability: 0, using: &h) == Tensor(ones: [4, 2]))
    }

    @Test func dropPathGradientWithFixedGenerator() {
        var g = RandomGenerator(seed: 47)
        let x = Tensor.normal([6, 2, 3], using: &g)
        let r = checkGradients([x]) { xs in
            var fixed = RandomGenerator(seed: 48)
            return xs[0].dropPath(probability: 0.5, using: &fixed)
        }
        #expect(r.passed, "\(r)")
    }

    @Test func addingScaledSamplesAddsTheListedSamplesOnly() {
        var g = RandomGenerator(seed: 49)
        let x = Tensor.normal([5, 3, 40], using: &g), y = Tensor.normal([2, 3, 40], using: &g)
        let out = x.addingScaledSamples(y, samples: [1, 4], factors: [2, 0.5])
        let expected = Tensor.concat([
            x.slice(axis: 0, range: 0..<1), x.slice(axis: 0, range: 1..<2) + y.slice(axis: 0, range: 0..<1) * 2,
            x.slice(axis: 0, range: 2..<4), x.slice(axis: 0, range: 4..<5) + y.slice(axis: 0, range: 1..<2) * 0.5,
        ], axis: 0)
        #expect(isClose(out, expected, atol: 1e-6, rtol: 1e-6))
        let r = checkGradients([Tensor.normal([4, 2, 3], using: &g), Tensor.normal([3, 2, 3], using: &g)]) {
            $0[0].addingScaledSamples($0[1], samples: [0, 2, 3], factors: [1.5, 0, -2])
        }
        #expect(r.passed, "\(r)")
    }

    /// `DropPath.add(to:_:)` runs the branch on the kept samples only; values, parameter gradients
    /// and the generator's state equal those of `residual + dropPath(branch(residual))`.
    @Test func dropPathAddSkipsDroppedSamplesExactly() {
        var g = RandomGenerator(seed: 50)
        let linear = Linear(inFeatures: 6, outFeatures: 6, using: &g)
        let x = Tensor.normal([16, 3, 6], using: &g), weights = Tensor.normal([16, 3, 6], using: &g)
        func run(_ f: (DropPath) -> Tensor) -> (Tensor, Tensor, UInt64) {
            let path = DropPath(probability: 0.5, generator: RandomGenerator(seed: 51))
            linear.zeroGrad()
            let y = f(path)
            (y * weights).sum().backward()
            return (y.detached(), linear.weight.grad!, path.generator.next())
        }
        let (y, grad, next) = run { path in path.add(to: x) { linear($0) } }
        let (expected, expectedGrad, expectedNext) = run { path in x + path(linear(x)) }
        #expect(isClose(y, expected, atol: 1e-6, rtol: 1e-6) && next == expectedNext)
        #expect(isClose(grad, expectedGrad, atol: 1e-5, rtol: 1e-5))
        // The mask dropped some samples and kept others, so the skipping path ran.
        let kept = (0..<16).filter { s in y.slice(axis: 0, range: s..<(s + 1)) != x.slice(axis: 0, range: s..<(s + 1)) }
        #expect(kept.count > 0 && kept.count < 16)
        let path = DropPath(probability: 0.5)
        path.eval()
        #expect(isClose(path.add(to: x) { linear($0) }, x + linear(x), atol: 1e-6, rtol: 1e-6))
    }

    // MARK: Conv2d

    /// Direct seven-loop convolution, the definition the fast paths must reproduce.
    private func referenceConv2d(
        _ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int), padding: (Int, Int)
    ) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - kh) / stride.0 + 1, ow = (wd + 2 * padding.1 - kw) / stride.1 + 1
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for s in 0..<n {
            for oc in 0..<o {
                for y in 0..<oh {
                    for q in 0..<ow {
                        var acc = b.map { $0[oc] } ?? 0
                        for ci in 0..<c {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let iy = y * stride.0 - padding.0 + i, ix = q * stride.1 - padding.1 + j
                                    if iy >= 0 && iy < h && ix >= 0 && ix < wd { acc += x[s, ci, iy, ix] * w[oc, ci, i, j] }
                                }
                            }
                        }
                        out[((s * o + oc) * oh + y) * ow + q] = acc
                    }
                }
            }
        }
        return Tensor(shape: [n, o, oh, ow], scalars: out)
    }

    @Test func conv2dHandComputedSums() {
        // A 3×3 box filter over ones with padding 1 counts the in-image neighbours.
        let y = Tensor.conv2d(Tensor(ones: [1, 1, 3, 3]), weight: Tensor(ones: [1, 1, 3, 3]), padding: (1, 1))
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.scalars == [4, 6, 4, 6, 9, 6, 4, 6, 4])
    }

    @Test(arguments: [
        (3, 3, 1, 1, 1, 1), (3, 3, 2, 2, 1, 1), (3, 2, 2, 1, 0, 1),  // general im2col
        (2, 2, 2, 2, 0, 0), (3, 3, 3, 3, 0, 0),                      // stride == kernel (7 % 3 != 0)
        (1, 1, 1, 1, 0, 0),                                          // pointwise
    ])
    func conv2dMatchesDirectDefinition(kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int) {
        var g = RandomGenerator(seed: 51)
        let x = Tensor.normal([3, 2, 7, 8], using: &g)
        let w = Tensor.normal([4, 2, kh, kw], using: &g), b = Tensor.normal([4], using: &g)
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: (sh, sw), padding: (ph, pw))
        let reference = referenceConv2d(x, w, b, stride: (sh, sw), padding: (ph, pw))
        #expect(y.shape == reference.shape)
        #expect(isClose(y, reference, atol: 1e-4, rtol: 1e-4))
        let unbiased = Tensor.conv2d(x, weight: w, stride: (sh, sw), padding: (ph, pw))
        #expect(isClose(unbiased, referenceConv2d(x, w, nil, stride: (sh, sw), padding: (ph, pw)), atol: 1e-4, rtol: 1e-4))
    }

    @Test(arguments: [
        (3, 1, 1),  // stride 1, padding 1
        (2, 2, 0),  // stride == kernel (patch embedding), 5 % 2 leaves an uncovered border
        (3, 2, 1),  // strided with padding
        (1, 1, 0),  // pointwise
    ])
    func conv2dGradient(kernel: Int, stride: Int, padding: Int) {
        var g = RandomGenerator(seed: 52)
        let x = Tensor.normal([2, 2, 5, 5], using: &g)
        let w = Tensor.normal([3, 2, kernel, kernel], using: &g), b = Tensor.normal([3], using: &g)
        let r = checkGradients([x, w, b]) {
            Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (stride, stride), padding: (padding, padding))
        }
        #expect(r.passed, "\(r)")
    }
}

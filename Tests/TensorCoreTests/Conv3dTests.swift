import Foundation
import Testing
import TensorCore
import _TestSupport

/// Conv3d, BatchNorm and the 3-D pools against PyTorch (`Scripts/reference/make_conv3d_fixtures.py`)
/// and against central differences.
@Suite("3-D convolution, batch norm and pooling")
struct Conv3dTests {
    let file: SafeTensorsFile

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "golden_conv3d", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        file = try SafeTensors.read(contentsOf: url)
    }

    private func t(_ name: String) throws -> Tensor { try file.tensor(named: name) }

    /// (stride, padding) of each case, as in the script's CONV_CASES.
    static let convCases: [String: ((Int, Int, Int), (Int, Int, Int))] = [
        "general": ((1, 2, 2), (1, 1, 0)),
        "strided": ((2, 2, 2), (1, 1, 1)),
        "pointwise": ((1, 1, 1), (0, 0, 0)),
        "downsample": ((2, 2, 2), (0, 0, 0)),
        "tubelet": ((2, 4, 4), (0, 0, 0)),
        "stem": ((1, 2, 2), (1, 3, 3)),
        "temporal": ((2, 1, 1), (1, 0, 0)),
        "same": ((1, 1, 1), (1, 1, 1)),
        "mixed": ((1, 1, 1), (2, 0, 1)),
        "spatial": ((1, 1, 1), (0, 1, 1)),
    ]

    @Test(arguments: ["general", "strided", "pointwise", "downsample", "tubelet", "stem", "temporal",
                      "same", "mixed", "spatial"])
    func conv3dMatchesPyTorch(_ name: String) throws {
        let p = "conv3d.\(name)"
        let (stride, padding) = Self.convCases[name]!
        let x = try t("\(p).x").requiringGrad(), w = try t("\(p).weight").requiringGrad()
        let b = file.names.contains("\(p).bias") ? try t("\(p).bias").requiringGrad() : nil
        let y = Tensor.conv3d(x, weight: w, bias: b, stride: stride, padding: padding)
        let expected = try t("\(p).out")
        #expect(y.shape == expected.shape && isClose(y, expected, atol: 1e-4, rtol: 1e-4),
                "\(name): max diff \(maxAbsDifference(y, expected))")
        (y * (try t("\(p).g"))).sum().backward()
        #expect(isClose(x.grad!, try t("\(p).dx"), atol: 1e-4, rtol: 1e-4), "\(name) dx")
        #expect(isClose(w.grad!, try t("\(p).dweight"), atol: 1e-3, rtol: 1e-4), "\(name) dweight")
        if let b { #expect(isClose(b.grad!, try t("\(p).dbias"), atol: 1e-3, rtol: 1e-4), "\(name) dbias") }
    }

    /// The 2-D convolution runs through the same kernel with one frame.
    @Test func conv2dSharesTheKernel() throws {
        let x = try t("conv2d.general.x").requiringGrad(), w = try t("conv2d.general.weight").requiringGrad()
        let b = try t("conv2d.general.bias").requiringGrad()
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: (2, 1), padding: (1, 2))
        #expect(isClose(y, try t("conv2d.general.out"), atol: 1e-4))
        (y * (try t("conv2d.general.g"))).sum().backward()
        #expect(isClose(x.grad!, try t("conv2d.general.dx"), atol: 1e-4))
        #expect(isClose(w.grad!, try t("conv2d.general.dweight"), atol: 1e-3))
        #expect(isClose(b.grad!, try t("conv2d.general.dbias"), atol: 1e-3))
        let y3 = Tensor.conv3d(x.reshaped([2, 3, 1, 9, 8]), weight: w.reshaped([4, 3, 1, 3, 3]), bias: b,
                               stride: (1, 2, 1), padding: (0, 1, 2))
        #expect(y3.reshaped(y.shape).scalars == y.scalars)
    }

    /// One sample (the split-inside-a-sample path) and several give the same values.
    @Test func batchOfOneMatchesTheBatch() throws {
        var g = RandomGenerator(seed: 3)
        let x = Tensor.normal([3, 4, 6, 9, 9], using: &g), w = Tensor.normal([5, 4, 3, 3, 3], using: &g)
        let all = Tensor.conv3d(x, weight: w, stride: (1, 2, 2), padding: (1, 1, 1))
        let one = Tensor.conv3d(x.slice(axis: 0, range: 1..<2), weight: w, stride: (1, 2, 2), padding: (1, 1, 1))
        #expect(isClose(one, all.slice(axis: 0, range: 1..<2), atol: 1e-5))
    }

    @Test func conv3dGradientsMatchCentralDifferences() {
        var g = RandomGenerator(seed: 11)
        let x = Tensor.normal([2, 2, 4, 5, 4], using: &g)
        let w = Tensor.normal([3, 2, 3, 3, 2], std: 0.5, using: &g)
        let b = Tensor.normal([3], using: &g)
        let result = checkGradients([x, w, b]) { v in
            Tensor.conv3d(v[0], weight: v[1], bias: v[2], stride: (2, 1, 2), padding: (1, 1, 0))
        }
        #expect(result.passed, "\(result)")
        // Unit strides: the input gradient runs as the transposed convolution.
        let unit = checkGradients([x, w, b]) { v in
            Tensor.conv3d(v[0], weight: v[1], bias: v[2], padding: (2, 1, 0))
        }
        #expect(unit.passed, "\(unit)")
    }

    @Test func batchNormTrainingMatchesPyTorchOverThreeSteps() throws {
        let bn = BatchNorm3d(4)
        bn.weight.value = try t("bn.weight")
        bn.bias.value = try t("bn.bias")
        bn.train()
        var last: (Tensor, Tensor)? = nil
        for step in 0..<3 {
            let x = try t("bn.x\(step)").requiringGrad()
            let y = bn(x)
            #expect(isClose(y, try t("bn.out\(step)"), atol: 1e-4), "step \(step)")
            last = (x, y)
        }
        let (x, y) = last!
        (y * (try t("bn.g2"))).sum().backward()
        #expect(isClose(x.grad!, try t("bn.dx2"), atol: 1e-4, rtol: 1e-3))
        #expect(isClose(bn.weight.grad!, try t("bn.dweight2"), atol: 1e-3, rtol: 1e-4))
        #expect(isClose(bn.bias.grad!, try t("bn.dbias2"), atol: 1e-3, rtol: 1e-4))
        #expect(isClose(bn.runningMean.value, try t("bn.running_mean"), atol: 1e-5))
        #expect(isClose(bn.runningVar.value, try t("bn.running_var"), atol: 1e-5, rtol: 1e-5))

        bn.eval()
        bn.zeroGrad()
        let before = bn.runningMean.value.scalars
        let xe = try t("bn.eval.x").requiringGrad()
        let ye = bn(xe)
        #expect(isClose(ye, try t("bn.eval.out"), atol: 1e-4))
        (ye * (try t("bn.eval.g"))).sum().backward()
        #expect(isClose(xe.grad!, try t("bn.eval.dx"), atol: 1e-4))
        #expect(isClose(bn.weight.grad!, try t("bn.eval.dweight"), atol: 1e-4))
        #expect(isClose(bn.bias.grad!, try t("bn.eval.dbias"), atol: 1e-4))
        #expect(bn.runningMean.value.scalars == before, "eval mode must not move the running statistics")
        #expect(bn.stateDict().map(\.0) == ["weight", "bias", "running_mean", "running_var"])
    }

    /// A PyTorch state dict of a BatchNorm model carries the integer `num_batches_tracked`; strict
    /// loading passes over it and loads the statistics.
    @Test func batchNormLoadsAPyTorchStateDictWithItsCounter() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(arrays: [
            ("weight", .float32(Tensor([1, 2]))), ("bias", .float32(Tensor([3, 4]))),
            ("running_mean", .float32(Tensor([0.5, -0.5]))), ("running_var", .float32(Tensor([2, 3]))),
            ("num_batches_tracked", .int64([7], shape: [])),
        ], to: url)
        let bn = BatchNorm3d(2)
        let report = try bn.load(from: url)
        #expect(report.isExact && bn.runningVar.value.scalars == [2, 3] && bn.bias.value.scalars == [3, 4])
    }

    @Test func batchNorm2dIsTheSameLayer() throws {
        let bn = BatchNorm2d(3)
        let y = bn(try t("bn2d.x"))
        #expect(isClose(y, try t("bn2d.out"), atol: 1e-4))
        #expect(isClose(bn.runningMean.value, try t("bn2d.running_mean"), atol: 1e-5))
        #expect(isClose(bn.runningVar.value, try t("bn2d.running_var"), atol: 1e-5))
    }

    @Test func batchNormGradientsMatchCentralDifferences() {
        var g = RandomGenerator(seed: 5)
        let x = Tensor.normal([3, 2, 2, 3, 2], using: &g)
        let w = Tensor.uniform([2], low: 0.5, high: 1.5, using: &g), b = Tensor.normal([2], using: &g)
        let train = checkGradients([x, w, b]) { v in
            Tensor.batchNormTraining(v[0], weight: v[1], bias: v[2]).output
        }
        #expect(train.passed, "\(train)")
        let (mean, variance) = (Tensor([0.3, -0.2]), Tensor([0.8, 1.7]))
        let inference = checkGradients([x, w, b]) { v in
            Tensor.batchNormInference(v[0], mean: mean, variance: variance, weight: v[1], bias: v[2])
        }
        #expect(inference.passed, "\(inference)")
        // The fused ReLU gives the values and gradients of BatchNorm followed by ReLU (whose own
        // rule is checked on inputs at least 0.05 from the kink).
        for training in [true, false] {
            func run(_ fused: Bool) -> [Tensor] {
                let (xl, wl, bl) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
                let y = training
                    ? Tensor.batchNormTraining(xl, weight: wl, bias: bl, relu: fused).output
                    : Tensor.batchNormInference(xl, mean: mean, variance: variance, weight: wl, bias: bl, relu: fused)
                let out = fused ? y : y.relu()
                (out * Tensor(shape: out.shape, scalars: (0..<out.count).map { Float($0 % 7) - 3 })).sum().backward()
                return [out, xl.grad!, wl.grad!, bl.grad!]
            }
            for (a, e) in zip(run(true), run(false)) { #expect(isClose(a, e, atol: 1e-6), "training \(training)") }
        }
        let spread = Tensor(shape: [2, 36], scalars: (0..<72).map { Float(($0 * 37) % 72) * 0.1 - 3.55 })
        let relu = checkGradients([spread]) { $0[0].relu() }
        #expect(relu.passed, "\(relu)")
    }

    /// (kernel or output size, stride, padding) of each pooling case, as in POOL_CASES.
    static let poolCases: [String: ((Int, Int, Int), (Int, Int, Int), (Int, Int, Int))] = [
        "maxpool.c3d": ((1, 2, 2), (1, 2, 2), (0, 0, 0)),
        "maxpool.cube": ((2, 2, 2), (2, 2, 2), (0, 0, 0)),
        "maxpool.padded": ((3, 3, 3), (2, 2, 1), (1, 1, 1)),
        "avgpool.cube": ((2, 2, 2), (2, 2, 2), (0, 0, 0)),
        "avgpool.padded": ((3, 3, 2), (2, 1, 2), (1, 1, 1)),
        "adaptive.global": ((1, 1, 1), (1, 1, 1), (0, 0, 0)),
        "adaptive.general": ((2, 3, 4), (1, 1, 1), (0, 0, 0)),
    ]

    @Test(arguments: ["maxpool.c3d", "maxpool.cube", "maxpool.padded", "avgpool.cube", "avgpool.padded",
                      "adaptive.global", "adaptive.general"])
    func poolsMatchPyTorch(_ name: String) throws {
        let (k, s, p) = Self.poolCases[name]!
        let x = try t("\(name).x").requiringGrad()
        let y: Tensor
        if name.hasPrefix("maxpool") {
            y = MaxPool3d(kernel: k, stride: s, padding: p)(x)
        } else if name.hasPrefix("avgpool") {
            y = AvgPool3d(kernel: k, stride: s, padding: p)(x)
        } else {
            y = AdaptiveAvgPool3d(outputSize: k)(x)
        }
        let expected = try t("\(name).out")
        #expect(y.shape == expected.shape && isClose(y, expected, atol: 1e-5), "\(name)")
        (y * (try t("\(name).g"))).sum().backward()
        #expect(isClose(x.grad!, try t("\(name).dx"), atol: 1e-5), "\(name) dx")
    }

    @Test func poolGradientsMatchCentralDifferences() {
        var g = RandomGenerator(seed: 9)
        // Well-separated values, so no finite-difference step changes a max-pool winner.
        let x = Tensor(shape: [1, 2, 3, 4, 5], scalars: (0..<120).map { Float(($0 * 37) % 120) * 0.1 })
        let maxPool = checkGradients([x]) { Tensor.maxPool3d($0[0], kernel: (2, 2, 3), stride: (1, 2, 2), padding: (1, 1, 1)) }
        #expect(maxPool.passed, "\(maxPool)")
        let y = Tensor.normal([1, 2, 3, 4, 5], using: &g)
        let avg = checkGradients([y]) { Tensor.avgPool3d($0[0], kernel: (2, 3, 3), stride: (1, 2, 2), padding: (1, 1, 1)) }
        #expect(avg.passed, "\(avg)")
        let adaptive = checkGradients([y]) { Tensor.adaptiveAvgPool3d($0[0], outputSize: (2, 3, 2)) }
        #expect(adaptive.passed, "\(adaptive)")
    }

    @Test func conv3dLayerKeysAndInitialisation() {
        var g = RandomGenerator(seed: 1)
        let conv = Conv3d(inChannels: 2, outChannels: 3, kernelSize: (1, 3, 3), stride: (1, 2, 2), padding: (0, 1, 1),
                          using: &g)
        #expect(conv.stateDict().map(\.0) == ["weight", "bias"])
        #expect(conv.weight.shape == [3, 2, 1, 3, 3])
        let bound = 1 / Float(18).squareRoot()
        #expect(conv.weight.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(conv(Tensor(zeros: [1, 2, 4, 8, 8])).shape == [1, 3, 4, 4, 4])
        #expect(ReLU()(Tensor([-1, 2])).scalars == [0, 2])
    }
}

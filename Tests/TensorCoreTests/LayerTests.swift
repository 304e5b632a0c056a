import Foundation
import Testing
import TensorCore
import _TestSupport

/// Layers and initialisers: PyTorch state-dict keys, default initialisation, train/eval
/// behaviour, and explicit, restorable randomness.
@Suite struct LayerTests {
    private func keys(_ module: Module) -> [String] { module.namedParameters().map { $0.0 } }

    @Test func linearKeysShapesAndForward() {
        var g = RandomGenerator(seed: 71)
        let linear = Linear(inFeatures: 3, outFeatures: 2, using: &g)
        #expect(keys(linear) == ["weight", "bias"])
        #expect(linear.weight.shape == [2, 3] && linear.bias?.shape == [2])
        let x = Tensor.normal([4, 3], using: &g)
        let reference = Tensor.matmul(x, linear.weight.value.transposed()) + linear.bias!.value
        #expect(isClose(linear(x), reference))
        #expect(keys(Linear(inFeatures: 3, outFeatures: 2, bias: false, using: &g)) == ["weight"])
    }

    @Test func linearDefaultInitStaysWithinPyTorchBounds() {
        var g = RandomGenerator(seed: 72)
        let linear = Linear(inFeatures: 16, outFeatures: 64, using: &g)
        let bound: Float = 1 / 4  // 1/√16
        for p in [linear.weight.value, linear.bias!.value] {
            #expect(p.scalars.allSatisfy { Swift.abs($0) <= bound })
            // Spread over the whole interval, not a degenerate fill.
            #expect(p.scalars.map { Swift.abs($0) }.max()! > 0.8 * bound)
        }
        #expect(linear.weight.value.scalars.filter { $0 < 0 }.count > 400)
    }

    @Test func layerNormLayerKeysInitAndOutput() {
        let norm = LayerNorm(4, epsilon: 1e-6)
        #expect(keys(norm) == ["weight", "bias"])
        #expect(norm.weight!.value == Tensor(ones: [4]) && norm.bias!.value == Tensor(zeros: [4]))
        let y = norm(Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -2, -2, 2, 2]))
        #expect(isClose(y, Tensor.layerNorm(Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -2, -2, 2, 2]),
                                            weight: nil, bias: nil, epsilon: 1e-6)))
        #expect(isClose(y.sum(axis: -1), Tensor(zeros: [2]), atol: 1e-5))
        #expect(keys(LayerNorm(4, elementwiseAffine: false)).isEmpty)
    }

    @Test func mlpKeysMatchTimm() {
        var g = RandomGenerator(seed: 73)
        let mlp = Mlp(inFeatures: 4, hiddenFeatures: 8, using: &g)
        #expect(keys(mlp) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(mlp.namedParameters().map { $0.1.shape } == [[8, 4], [8], [4, 8], [4]])
        let x = Tensor.normal([2, 3, 4], using: &g)
        let reference = mlp.fc2(mlp.fc1(x).gelu())
        #expect(isClose(mlp(x), reference))
    }

    @Test func mlpGivesEveryParameterAGradient() {
        var g = RandomGenerator(seed: 74)
        let mlp = Mlp(inFeatures: 3, hiddenFeatures: 5, outFeatures: 2, dropout: 0.1, using: &g)
        mlp(Tensor.normal([4, 3], using: &g)).squared().sum().backward()
        for (key, p) in mlp.namedParameters() {
            #expect(p.grad != nil && p.grad!.scalars.contains { $0 != 0 }, "\(key)")
        }
    }

    @Test func sequentialKeysArePositions() {
        var g = RandomGenerator(seed: 75)
        let seq = Sequential(Linear(inFeatures: 3, outFeatures: 4, using: &g), GELU(), Identity(),
                             LayerNorm(4), Linear(inFeatures: 4, outFeatures: 1, using: &g))
        #expect(keys(seq) == ["0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"])
        let x = Tensor.normal([2, 3], using: &g)
        let first = seq.layers[0](x).gelu()
        let reference = seq.layers[4](seq.layers[3](first))
        #expect(isClose(seq(x), reference))
    }

    @Test func conv2dLayerKeysInitAndShape() {
        var g = RandomGenerator(seed: 76)
        let conv = Conv2d(inChannels: 3, outChannels: 8, kernelSize: 4, stride: 4, using: &g)
        #expect(keys(conv) == ["weight", "bias"])
        #expect(conv.weight.shape == [8, 3, 4, 4])
        let bound = 1 / Float(48).squareRoot()
        #expect(conv.weight.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(conv.bias!.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        let y = conv(Tensor.normal([2, 3, 16, 12], using: &g))
        #expect(y.shape == [2, 8, 4, 3])
    }

    @Test func dropoutLayersFollowTrainAndEval() {
        var g = RandomGenerator(seed: 77)
        let mlp = Mlp(inFeatures: 8, hiddenFeatures: 32, dropout: 0.5, using: &g)
        let path = DropPath(probability: 0.5, generator: RandomGenerator(seed: 1))
        let x = Tensor.normal([16, 8], using: &g)
        mlp.eval()
        path.eval()
        #expect(mlp(x) == mlp(x))
        #expect(isClose(mlp(x), mlp.fc2(mlp.fc1(x).gelu())))
        #expect(path(x) == x)
        mlp.train()
        path.train()
        #expect(mlp(x) != mlp(x))
        let dropped = path(x)
        #expect(dropped != x && dropped.scalars.contains(0))
    }

    @Test func reseedMakesRandomnessReproducibleAndDistinctPerLayer() {
        func build() -> Sequential {
            Sequential(Dropout(probability: 0.5), Dropout(probability: 0.5), DropPath(probability: 0.5))
        }
        let a = build(), b = build()
        var ga = RandomGenerator(seed: 9), gb = RandomGenerator(seed: 9)
        a.reseedRandomLayers(using: &ga)
        b.reseedRandomLayers(using: &gb)
        let x = Tensor(ones: [8, 64])
        #expect(a(x) == b(x))
        let layers = a.namedStochasticModules()
        #expect(layers.map { $0.0 } == ["0", "1", "2"])
        #expect(Set(layers.map { $0.1.generator }).count == 3)
        // Without reseeding, both dropout layers would share the placeholder stream.
        let (d0, d1) = (a.layers[0], a.layers[1])
        #expect(d0(x) != d1(x))
    }

    @Test func randomLayerStatesRestoreExactly() throws {
        var g = RandomGenerator(seed: 78)
        let mlp = Mlp(inFeatures: 4, hiddenFeatures: 16, dropout: 0.3, using: &g)
        mlp.reseedRandomLayers(using: &g)
        let x = Tensor.normal([5, 4], using: &g)
        let saved = mlp.randomLayerStates()
        #expect(Set(saved.keys) == ["drop1", "drop2"])
        let first = mlp(x)
        try mlp.restoreRandomLayerStates(saved)
        #expect(mlp(x) == first)
        #expect(mlp(x) != first)
        #expect(throws: RandomLayerStateMismatch(missing: ["drop2"], unexpected: ["drop3"])) {
            try mlp.restoreRandomLayerStates(["drop1": saved["drop1"]!, "drop3": saved["drop2"]!])
        }
    }

    @Test func initializers() {
        var g = RandomGenerator(seed: 79)
        let p = Parameter(Tensor(zeros: [64, 96]))
        Init.truncatedNormal(p, using: &g)
        let v = p.value.scalars
        let mean = v.reduce(0, +) / Float(v.count)
        let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)).squareRoot()
        #expect(Swift.abs(mean) < 0.002 && Swift.abs(std - 0.02) < 0.002, "mean \(mean) std \(std)")
        #expect(v.allSatisfy { Swift.abs($0) <= 2 })

        let w = Parameter(Tensor(zeros: [6, 4, 3, 3]))
        #expect(Init.fans(w.shape) == (36, 54))
        Init.xavierUniform(w, using: &g)
        let bound = (6 / Float(36 + 54)).squareRoot()
        #expect(w.value.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(w.value.scalars.map { Swift.abs($0) }.max()! > 0.8 * bound)

        Init.ones(w)
        #expect(w.value == Tensor(ones: [6, 4, 3, 3]))
        Init.zeros(w)
        #expect(w.value == Tensor(zeros: [6, 4, 3, 3]))
        #expect(w.requiresGrad)
    }
}

import TensorCore

/// DINO's projection head as SVT uses it (`reference/SVT-VideoMS-IIC.md` §1.4): an MLP
/// `in → hidden → … → bottleneck` with GELU between the layers and no batch norm, L2
/// normalisation, then a weight-normalised linear layer `bottleneck → out` without bias.
///
/// Keys follow the reference: `mlp.0`, `mlp.2`, `mlp.4` (three layers) and
/// `last_layer.weight_g`, `last_layer.weight_v`. The MLP's linear layers start truncated-normal
/// (std 0.02, zero bias); the last layer's direction `v` keeps PyTorch's default `Linear`
/// initialisation and its norm `g` starts at 1 (created after the reference's init pass).
public final class DINOHead: Module, UnaryLayer {
    /// The projection MLP (a single `Linear` for one layer, else a `Sequential`).
    public let mlp: any UnaryLayer
    /// The weight-normalised output layer.
    public let lastLayer: WeightNormLinear

    /// Builds the head; with `normalizeLastLayer` (`norm_last_layer`) the norm `g` stays fixed at 1.
    public init(
        inputDim: Int, outputDim: Int, hiddenDim: Int = 2048, bottleneckDim: Int = 256, layers: Int = 3,
        normalizeLastLayer: Bool = true, using generator: inout RandomGenerator
    ) {
        precondition(inputDim > 0 && outputDim > 0 && hiddenDim > 0 && bottleneckDim > 0 && layers >= 1,
                     "DINOHead: sizes \(inputDim), \(hiddenDim), \(bottleneckDim), \(outputDim) and layers \(layers) must be positive")
        if layers == 1 {
            mlp = Linear(inFeatures: inputDim, outFeatures: bottleneckDim, using: &generator)
        } else {
            var stack: [any UnaryLayer] = [Linear(inFeatures: inputDim, outFeatures: hiddenDim, using: &generator), GELU()]
            for _ in 0..<(layers - 2) {
                stack += [Linear(inFeatures: hiddenDim, outFeatures: hiddenDim, using: &generator), GELU()]
            }
            stack.append(Linear(inFeatures: hiddenDim, outFeatures: bottleneckDim, using: &generator))
            mlp = Sequential(stack)
        }
        let mlpModule = mlp as Module
        Init.truncatedNormalLinears(in: mlpModule, using: &generator)
        lastLayer = WeightNormLinear(inFeatures: bottleneckDim, outFeatures: outputDim, trainableNorm: !normalizeLastLayer,
                                     using: &generator)
        super.init()
    }

    /// Logits `[N, out]` of features `[N, in]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        lastLayer(DINOHead.l2Normalized(mlp(x)))
    }

    /// `F.normalize(x, dim=-1)`: each row divided by `max(‖row‖₂, 1e-12)`.
    public static func l2Normalized(_ x: Tensor) -> Tensor {
        let norm = x.squared().sum(axis: -1, keepDims: true).sqrt()
        let floor = Tensor(shape: norm.shape, scalars: Array(repeating: 1e-12, count: norm.count))
        return x / Tensor.where(norm.mask { $0 >= 1e-12 }, norm, floor)
    }
}

/// `nn.utils.weight_norm(nn.Linear(in, out, bias=False))`: the weight is `g · v / ‖v‖` row by row
/// (keys `weight_g` `[out, 1]` and `weight_v` `[out, in]`).
public final class WeightNormLinear: Module, UnaryLayer {
    /// The row norms `g`.
    public let weightG: Parameter
    /// The directions `v`.
    public let weightV: Parameter

    /// `v` with PyTorch's default `Linear` initialisation, `g` = 1; `g` is trained only when
    /// `trainableNorm`.
    public init(inFeatures: Int, outFeatures: Int, trainableNorm: Bool, using generator: inout RandomGenerator) {
        let linear = Linear(inFeatures: inFeatures, outFeatures: outFeatures, bias: false, using: &generator)
        weightV = linear.weight
        weightG = Parameter(Tensor(shape: [outFeatures, 1], scalars: Array(repeating: 1, count: outFeatures)),
                            requiresGrad: trainableNorm)
        super.init()
    }

    /// The effective weight `g · v / ‖v‖` `[out, in]`.
    public var weight: Tensor {
        let v = weightV.value
        return v * (weightG.value / v.squared().sum(axis: 1, keepDims: true).sqrt())
    }

    /// `x · weightᵀ`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight)
    }
}

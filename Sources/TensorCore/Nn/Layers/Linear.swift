/// A fully connected layer `y = x·Wᵀ + b` over the last dimension, as `torch.nn.Linear`.
///
/// State-dict keys: `weight` `[outFeatures, inFeatures]` and `bias` `[outFeatures]`.
public final class Linear: Module, UnaryLayer {
    /// The weight, `[outFeatures, inFeatures]`.
    public let weight: Parameter
    /// The bias, `[outFeatures]`, when the layer has one.
    public let bias: Parameter?

    /// The size of the last input dimension.
    public var inFeatures: Int { weight.shape[1] }
    /// The size of the last output dimension.
    public var outFeatures: Int { weight.shape[0] }

    /// Creates a layer with PyTorch's default initialisation: weight and bias uniform in
    /// `[−1/√inFeatures, 1/√inFeatures)`, drawn from `generator` (weight first).
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, using generator: inout RandomGenerator) {
        precondition(inFeatures >= 0 && outFeatures >= 0,
                     "Linear: feature counts \(inFeatures) → \(outFeatures) must be non-negative")
        weight = Parameter(Tensor(zeros: [outFeatures, inFeatures]))
        self.bias = bias ? Parameter(Tensor(zeros: [outFeatures])) : nil
        super.init()
        Init.pytorchDefault(weight: weight, bias: self.bias, using: &generator)
    }

    /// Applies `x·Wᵀ + b` to `x` of shape `[..., inFeatures]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight.value, bias: bias?.value)
    }
}

/// Layer normalisation over the last dimension, as `torch.nn.LayerNorm(dim, eps)`.
///
/// State-dict keys: `weight` (initialised to ones) and `bias` (zeros), both `[dim]`, when the
/// layer has an elementwise affine transform.
public final class LayerNorm: Module, UnaryLayer {
    /// The scale, `[dim]`.
    public let weight: Parameter?
    /// The shift, `[dim]`.
    public let bias: Parameter?
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// The normalised (last) dimension.
    public let dim: Int

    /// Creates a layer normalising `dim` values with the given `epsilon` (PyTorch default 1e-5;
    /// timm's ViTs use 1e-6).
    public init(_ dim: Int, epsilon: Float = 1e-5, elementwiseAffine: Bool = true) {
        precondition(dim > 0, "LayerNorm: dimension \(dim) must be positive")
        self.dim = dim
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(Tensor(ones: [dim])) : nil
        bias = elementwiseAffine ? Parameter(Tensor(zeros: [dim])) : nil
        super.init()
    }

    /// Normalises `x` of shape `[..., dim]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == dim, "LayerNorm: input \(x.shape) for dimension \(dim)")
        return Tensor.layerNorm(x, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
    }
}

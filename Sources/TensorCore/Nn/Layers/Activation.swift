/// The GELU activation in its exact erf form, as `torch.nn.GELU()`.
public final class GELU: Module, UnaryLayer {
    /// Creates the activation (no parameters).
    public override init() { super.init() }

    /// Applies GELU elementwise.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.gelu() }
}

/// The identity, as `torch.nn.Identity()`: a placeholder where a block takes an optional part.
public final class Identity: Module, UnaryLayer {
    /// Creates the identity (no parameters).
    public override init() { super.init() }

    /// Returns `x` unchanged.
    public func callAsFunction(_ x: Tensor) -> Tensor { x }
}

/// The rectified linear unit, as `torch.nn.ReLU()`. The result is a new tensor: autograd keeps the
/// input alive for the gradient, so PyTorch's `inplace=True` would save nothing here.
public final class ReLU: Module, UnaryLayer {
    /// Creates the activation (no parameters).
    public override init() { super.init() }

    /// Applies `max(x, 0)` elementwise.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

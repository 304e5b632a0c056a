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

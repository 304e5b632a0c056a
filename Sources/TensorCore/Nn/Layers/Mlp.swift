/// The transformer feed-forward block of timm (`timm.layers.Mlp`):
/// `fc1 → GELU → dropout → fc2 → dropout`.
///
/// State-dict keys: `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`.
public final class Mlp: Module, UnaryLayer {
    /// The expanding projection, `inFeatures → hiddenFeatures`.
    public let fc1: Linear
    /// The activation (no parameters; applied inside the fused `fc1` + GELU primitive).
    public let act: GELU
    /// Dropout after the activation.
    public let drop1: Dropout
    /// The contracting projection, `hiddenFeatures → outFeatures`.
    public let fc2: Linear
    /// Dropout after the output projection.
    public let drop2: Dropout

    /// Creates the block; `hiddenFeatures` and `outFeatures` default to `inFeatures`, as in timm.
    ///
    /// The two linear layers draw their PyTorch-default initial values from `generator` (`fc1`
    /// first); each dropout layer receives a generator forked from it.
    public init(
        inFeatures: Int, hiddenFeatures: Int? = nil, outFeatures: Int? = nil, dropout: Float = 0,
        using generator: inout RandomGenerator
    ) {
        let hidden = hiddenFeatures ?? inFeatures
        let out = outFeatures ?? inFeatures
        fc1 = Linear(inFeatures: inFeatures, outFeatures: hidden, using: &generator)
        act = GELU()
        drop1 = Dropout(probability: dropout, generator: RandomGenerator(seed: generator.next()))
        fc2 = Linear(inFeatures: hidden, outFeatures: out, using: &generator)
        drop2 = Dropout(probability: dropout, generator: RandomGenerator(seed: generator.next()))
        super.init()
    }

    /// Applies the block to `x` of shape `[..., inFeatures]`.
    ///
    /// `fc1` and the GELU run as one primitive (``Tensor/linearGELU(_:weight:bias:)``), which
    /// applies the activation to each block of the product while it is still in cache.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let hidden = Tensor.linearGELU(x, weight: fc1.weight.value, bias: fc1.bias?.value)
        return drop2(fc2(drop1(hidden)))
    }
}

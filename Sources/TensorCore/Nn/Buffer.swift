/// A non-trainable tensor owned by a ``Module``: BatchNorm's running statistics, a fixed
/// sinusoidal position table, a memory bank, a DINO centre.
///
/// Buffers are found by name like parameters and saved in state dicts under their PyTorch keys
/// (`bn1.running_mean`), but optimizers never see them: ``Module/namedParameters()`` lists
/// parameters only. The layer that owns a buffer decides when it changes; by PyTorch's convention
/// statistics are updated only in training mode (``Module/isTraining``).
public final class Buffer: @unchecked Sendable {
    /// The current value, always detached from any autograd graph.
    public var value: Tensor {
        didSet { if value.requiresGrad { value = value.detached() } }
    }

    /// Creates a buffer holding `value` (detached).
    public init(_ value: Tensor) {
        self.value = value.detached()
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }
}

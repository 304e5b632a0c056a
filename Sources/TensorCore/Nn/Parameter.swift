/// A trainable tensor owned by a ``Module``.
///
/// A parameter is a reference: the module, the optimizer and the state-dict loader all see the
/// same object. Its ``value`` is an autograd leaf while ``requiresGrad`` is true, so gradients of
/// any loss computed from it accumulate in ``grad``.
public final class Parameter: @unchecked Sendable {
    private var leaf: GradNode?
    private var tensor: Tensor

    /// Creates a parameter holding `value`.
    public init(_ value: Tensor, requiresGrad: Bool = true) {
        let node = requiresGrad ? GradNode(leaf: "parameter") : nil
        self.leaf = node
        self.tensor = Tensor(shape: value.shape, storage: value.storage, node: node)
    }

    /// The current value. Assigning keeps the parameter's identity (and its gradient leaf).
    public var value: Tensor {
        get { tensor }
        set { tensor = Tensor(shape: newValue.shape, storage: newValue.storage, node: leaf) }
    }

    /// The shape of the value.
    public var shape: [Int] { tensor.shape }

    /// Whether gradients are recorded for this parameter. Setting it to false (freezing) drops any
    /// accumulated gradient.
    public var requiresGrad: Bool {
        get { leaf != nil }
        set {
            guard newValue != (leaf != nil) else { return }
            leaf = newValue ? GradNode(leaf: "parameter") : nil
            tensor = Tensor(shape: tensor.shape, storage: tensor.storage, node: leaf)
        }
    }

    /// The gradient accumulated by backward passes since the last ``zeroGrad()``.
    public var grad: Tensor? {
        get { leaf?.grad }
        set { leaf?.grad = newValue?.detached() }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { leaf?.grad = nil }

    /// Updates the value in place without recording (optimizer steps, initialisation).
    public func update(_ body: (inout UnsafeMutableBufferPointer<Float>) -> Void) {
        tensor.storage.withUnsafeMutableBufferPointer(body)
    }
}

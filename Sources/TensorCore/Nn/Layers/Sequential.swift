/// Layers applied one after another, as `torch.nn.Sequential`.
///
/// Children are keyed by position (`0.weight`, `1.bias`, …), like PyTorch.
public final class Sequential: Module, UnaryLayer {
    /// The layers, in application order.
    public let layers: [any UnaryLayer]

    /// Creates a sequence from an array of layers.
    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    /// Creates a sequence from a list of layers.
    public convenience init(_ layers: any UnaryLayer...) {
        self.init(layers)
    }

    /// The layers keyed `"0"`, `"1"`, … (not `layers.0`), matching PyTorch's state-dict keys.
    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { (String($0.offset), $0.element as Module) }
    }

    /// Applies every layer in turn.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}

/// A 2-D convolution layer, as `torch.nn.Conv2d` (no groups or dilation).
///
/// State-dict keys: `weight` `[outChannels, inChannels, kh, kw]` and `bias` `[outChannels]`.
public final class Conv2d: Module, UnaryLayer {
    /// The kernel, `[outChannels, inChannels, kh, kw]`.
    public let weight: Parameter
    /// The bias, `[outChannels]`, when the layer has one.
    public let bias: Parameter?
    /// Step between neighbouring output positions, (height, width).
    public let stride: (Int, Int)
    /// Zero padding added on each side, (height, width).
    public let padding: (Int, Int)

    /// Creates a layer with PyTorch's default initialisation (`kaiming_uniform_(a=√5)`: weight and
    /// bias uniform in `±1/√(inChannels·kh·kw)`), drawn from `generator` (weight first).
    public init(
        inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), bias: Bool = true, using generator: inout RandomGenerator
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0,
                     "Conv2d: channels \(inChannels) → \(outChannels) and kernel \(kernelSize) must be positive")
        weight = Parameter(Tensor(zeros: [outChannels, inChannels, kernelSize.0, kernelSize.1]))
        self.bias = bias ? Parameter(Tensor(zeros: [outChannels])) : nil
        self.stride = stride
        self.padding = padding
        super.init()
        Init.pytorchDefault(weight: weight, bias: self.bias, using: &generator)
    }

    /// Creates a layer with a square kernel, stride and padding.
    public convenience init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, using generator: inout RandomGenerator
    ) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelSize: (kernelSize, kernelSize),
                  stride: (stride, stride), padding: (padding, padding), bias: bias, using: &generator)
    }

    /// Convolves `x` of shape `[N, inChannels, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}

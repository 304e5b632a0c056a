/// A 3-D convolution layer, as `torch.nn.Conv3d` (no groups or dilation), over `[N, C, T, H, W]`.
///
/// State-dict keys: `weight` `[outChannels, inChannels, kt, kh, kw]` and `bias` `[outChannels]`.
public final class Conv3d: Module, UnaryLayer {
    /// The kernel, `[outChannels, inChannels, kt, kh, kw]`.
    public let weight: Parameter
    /// The bias, `[outChannels]`, when the layer has one.
    public let bias: Parameter?
    /// Step between neighbouring output positions, (time, height, width).
    public let stride: (Int, Int, Int)
    /// Zero padding added on each side, (time, height, width).
    public let padding: (Int, Int, Int)

    /// Creates a layer with PyTorch's default initialisation (`kaiming_uniform_(a=√5)`: weight and
    /// bias uniform in `±1/√(inChannels·kt·kh·kw)`), drawn from `generator` (weight first).
    public init(
        inChannels: Int, outChannels: Int, kernelSize: (Int, Int, Int), stride: (Int, Int, Int) = (1, 1, 1),
        padding: (Int, Int, Int) = (0, 0, 0), bias: Bool = true, using generator: inout RandomGenerator
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0 && kernelSize.2 > 0,
                     "Conv3d: channels \(inChannels) → \(outChannels) and kernel \(kernelSize) must be positive")
        weight = Parameter(Tensor(zeros: [outChannels, inChannels, kernelSize.0, kernelSize.1, kernelSize.2]))
        self.bias = bias ? Parameter(Tensor(zeros: [outChannels])) : nil
        self.stride = stride
        self.padding = padding
        super.init()
        Init.pytorchDefault(weight: weight, bias: self.bias, using: &generator)
    }

    /// Creates a layer with a cubic kernel, stride and padding.
    public convenience init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, using generator: inout RandomGenerator
    ) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelSize: (kernelSize, kernelSize, kernelSize),
                  stride: (stride, stride, stride), padding: (padding, padding, padding), bias: bias, using: &generator)
    }

    /// Convolves `x` of shape `[N, inChannels, T, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv3d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}

/// 3-D max pooling, as `torch.nn.MaxPool3d(kernel, stride, padding)` (`ceil_mode=False`); no
/// parameters.
public final class MaxPool3d: Module, UnaryLayer {
    /// Window extent (time, height, width).
    public let kernel: (Int, Int, Int)
    /// Window step; defaults to the kernel.
    public let stride: (Int, Int, Int)
    /// Padding (−∞) on each side.
    public let padding: (Int, Int, Int)

    /// Creates the layer; `stride` defaults to `kernel`, as in PyTorch.
    public init(kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        super.init()
    }

    /// Pools `x` `[N, C, T, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.maxPool3d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// 3-D average pooling, as `torch.nn.AvgPool3d(kernel, stride, padding)` (`ceil_mode=False`,
/// `count_include_pad=True`); no parameters.
public final class AvgPool3d: Module, UnaryLayer {
    /// Window extent (time, height, width).
    public let kernel: (Int, Int, Int)
    /// Window step; defaults to the kernel.
    public let stride: (Int, Int, Int)
    /// Zero padding on each side.
    public let padding: (Int, Int, Int)

    /// Creates the layer; `stride` defaults to `kernel`, as in PyTorch.
    public init(kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        super.init()
    }

    /// Pools `x` `[N, C, T, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.avgPool3d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// Adaptive 3-D average pooling, as `torch.nn.AdaptiveAvgPool3d(outputSize)`; no parameters.
public final class AdaptiveAvgPool3d: Module, UnaryLayer {
    /// The output extent (time, height, width).
    public let outputSize: (Int, Int, Int)

    /// Creates the layer; `(1, 1, 1)` is global average pooling.
    public init(outputSize: (Int, Int, Int) = (1, 1, 1)) {
        self.outputSize = outputSize
        super.init()
    }

    /// Pools `x` `[N, C, T, H, W]` to `[N, C, outputSize…]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.adaptiveAvgPool3d(x, outputSize: outputSize)
    }
}

/// Batch normalisation over the channel axis 1 of `[N, C, ...]`, as `torch.nn.BatchNorm1d`,
/// `BatchNorm2d` and `BatchNorm3d` (one class: they differ only in the rank they accept).
///
/// State-dict keys: `weight` (ones) and `bias` (zeros) `[C]`, and the buffers `running_mean`
/// (zeros) and `running_var` (ones) `[C]`. PyTorch's integer `num_batches_tracked` is not kept:
/// it only matters for `momentum=None`, and checkpoint import sets integer buffers aside.
///
/// In training mode (``Module/isTraining``) the output uses the batch's own statistics and the
/// running ones move towards them exactly as PyTorch does:
/// `running_mean ← (1 − momentum)·running_mean + momentum·mean` and
/// `running_var ← (1 − momentum)·running_var + momentum·var·M/(M − 1)` (the unbiased variance over
/// the `M` values per channel). In evaluation mode the running statistics are used and not changed.
/// Every forward in training mode updates them once, so three forwards of three views make three
/// updates, as IIC's three passes do.
public final class BatchNorm: Module, UnaryLayer {
    /// The scale γ, `[C]`.
    public let weight: Parameter
    /// The shift β, `[C]`.
    public let bias: Parameter
    /// The running mean, `[C]`.
    public let runningMean: Buffer
    /// The running (unbiased) variance, `[C]`.
    public let runningVar: Buffer
    /// Added to the variance before the square root (PyTorch default 1e-5).
    public let epsilon: Float
    /// The weight of the newest batch in the running statistics (PyTorch default 0.1).
    public let momentum: Float
    /// The number of channels `C`.
    public let numFeatures: Int

    /// Creates a layer over `numFeatures` channels with PyTorch's defaults.
    public init(_ numFeatures: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        precondition(numFeatures > 0, "BatchNorm: channel count \(numFeatures) must be positive")
        precondition(momentum >= 0 && momentum <= 1, "BatchNorm: momentum \(momentum) must lie in [0, 1]")
        self.numFeatures = numFeatures
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(Tensor(ones: [numFeatures]))
        bias = Parameter(Tensor(zeros: [numFeatures]))
        runningMean = Buffer(Tensor(zeros: [numFeatures]))
        runningVar = Buffer(Tensor(ones: [numFeatures]))
        super.init()
    }

    /// Normalises `x` of shape `[N, C, ...]` with batch statistics (training) or the running ones
    /// (evaluation).
    public func callAsFunction(_ x: Tensor) -> Tensor { normalised(x, relu: false) }

    /// `relu(self(x))` in one pass over the data (and one in the backward), the same values as
    /// applying ``ReLU`` after the layer.
    public func withReLU(_ x: Tensor) -> Tensor { normalised(x, relu: true) }

    private func normalised(_ x: Tensor, relu: Bool) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == numFeatures,
                     "BatchNorm: input \(x.shape) for \(numFeatures) channels")
        guard isTraining else {
            return Tensor.batchNormInference(x, mean: runningMean.value, variance: runningVar.value,
                                             weight: weight.value, bias: bias.value, epsilon: epsilon, relu: relu)
        }
        let (y, mean, variance) = Tensor.batchNormTraining(x, weight: weight.value, bias: bias.value,
                                                           epsilon: epsilon, relu: relu)
        let m = Float(x.count / numFeatures)
        let unbiased = m / (m - 1)
        let (rm, rv) = (runningMean.value.scalars, runningVar.value.scalars)
        let (bm, bv) = (mean.scalars, variance.scalars)
        runningMean.value = Tensor(shape: [numFeatures], scalars: (0..<numFeatures).map {
            (1 - momentum) * rm[$0] + momentum * bm[$0]
        })
        runningVar.value = Tensor(shape: [numFeatures], scalars: (0..<numFeatures).map {
            (1 - momentum) * rv[$0] + momentum * bv[$0] * unbiased
        })
        return y
    }
}

/// `torch.nn.BatchNorm2d` over `[N, C, H, W]`: the same layer as ``BatchNorm``.
public typealias BatchNorm2d = BatchNorm
/// `torch.nn.BatchNorm3d` over `[N, C, T, H, W]`: the same layer as ``BatchNorm``.
public typealias BatchNorm3d = BatchNorm

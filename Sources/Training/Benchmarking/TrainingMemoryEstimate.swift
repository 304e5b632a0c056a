import TensorCore

/// How much memory a training step needs, known before the first step.
///
/// The activation figure is measured, so it holds for any model: one training-mode forward pass
/// of a single clip (through the whole objective, both forwards for TIME) runs with its autograd
/// graph kept alive, and the growth of the bytes in use on the heap is what the graph holds for
/// backward. That figure times the batch size, plus the parameters, their gradients and the
/// optimizer's state, is the estimate:
///
/// ```swift
/// let estimate = TrainingMemoryEstimate.measure(
///     batchSize: 8, parameters: model.parameters(), optimizerStateCopies: 2) {
///     crossEntropy(logits: model(oneClip), labels: [0])
/// }
/// print(estimate?.totalBytes ?? 0)
/// ```
///
/// Checked against the peak resident-set growth of real training steps: within 3% on the tiny
/// TimeSformer, Motionformer and X-ViT, plain and with TIME (`videossl bench`), and within ±35% in
/// the test suite. Backward frees the saved activations while it allocates the gradients, so the
/// sum slightly over-estimates the peak; allocator and BLAS buffers slightly add to it.
public struct TrainingMemoryEstimate: Sendable, Hashable, Codable {
    /// Bytes the autograd graph of one clip's forward pass holds until backward.
    public var activationBytesPerClip: Int
    /// Clips per forward pass (the micro-batch; gradient accumulation does not change it).
    public var batchSize: Int
    /// Bytes of every parameter value.
    public var parameterBytes: Int
    /// Bytes of the gradients of the trainable parameters.
    public var gradientBytes: Int
    /// Bytes of the optimizer's per-parameter state (AdamW's moments, SGD's momentum) and of a
    /// weight average, if one is kept.
    public var optimizerStateBytes: Int

    /// Creates an estimate from its parts.
    public init(activationBytesPerClip: Int, batchSize: Int, parameterBytes: Int, gradientBytes: Int,
                optimizerStateBytes: Int) {
        precondition(batchSize > 0, "TrainingMemoryEstimate: batch size \(batchSize) must be positive")
        self.activationBytesPerClip = activationBytesPerClip
        self.batchSize = batchSize
        self.parameterBytes = parameterBytes
        self.gradientBytes = gradientBytes
        self.optimizerStateBytes = optimizerStateBytes
    }

    /// Activations of one batch: the per-clip figure times the batch size.
    public var activationBytes: Int { activationBytesPerClip * batchSize }

    /// What training adds to a process that already holds the model: activations, gradients and
    /// optimizer state (the figure to compare with a training step's peak resident-set growth).
    public var trainingOverheadBytes: Int { activationBytes + gradientBytes + optimizerStateBytes }

    /// Parameters plus ``trainingOverheadBytes``.
    public var totalBytes: Int { parameterBytes + trainingOverheadBytes }

    /// Measures the activations of `forwardOneClip` and adds the parameters' share.
    ///
    /// `forwardOneClip` must run the training-mode forward pass of a batch of one clip and return
    /// the loss, whose graph keeps the activations alive; it runs twice (the first run warms lazily
    /// created buffers and is not measured). Nothing is backpropagated, so no gradient changes,
    /// but stochastic layers draw masks: save and restore their generators around the call when
    /// that matters.
    ///
    /// - Parameters:
    ///   - batchSize: clips per forward pass in training, which the activations are scaled to.
    ///   - parameters: every parameter of the model and objective; frozen ones get no gradient.
    ///   - optimizerStateCopies: per-parameter tensors of optimizer state (AdamW 2, with amsgrad
    ///     3; SGD with momentum 1; add 1 for a weight average).
    ///   - forwardOneClip: the training-mode forward pass of one clip, returning the loss.
    /// - Returns: `nil` where the allocator cannot be queried (anything but glibc).
    public static func measure(
        batchSize: Int, parameters: [Parameter], optimizerStateCopies: Int, forwardOneClip: () -> Tensor
    ) -> TrainingMemoryEstimate? {
        precondition(optimizerStateCopies >= 0,
                     "TrainingMemoryEstimate.measure: optimizerStateCopies \(optimizerStateCopies) is negative")
        guard HeapStatistics.inUseBytes() != nil else { return nil }
        withExtendedLifetime(forwardOneClip()) {}
        guard let before = HeapStatistics.inUseBytes() else { return nil }
        let loss = forwardOneClip()
        let after = HeapStatistics.inUseBytes() ?? before
        withExtendedLifetime(loss) {}
        let floats = MemoryLayout<Float>.size
        let all = parameters.reduce(0) { $0 + $1.value.count }
        let trainable = parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.value.count }
        return TrainingMemoryEstimate(
            activationBytesPerClip: max(0, after - before), batchSize: batchSize,
            parameterBytes: all * floats, gradientBytes: trainable * floats,
            optimizerStateBytes: optimizerStateCopies * trainable * floats)
    }
}

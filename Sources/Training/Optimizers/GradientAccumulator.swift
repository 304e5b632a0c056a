import TensorCore

/// Gradient accumulation: lets gradients of several micro-batches add up in the parameters, then
/// averages them and takes one optimizer step.
///
/// ```swift
/// var accumulator = GradientAccumulator(microBatches: 4)
/// for batch in loader {
///     loss(batch).backward()
///     accumulator.finishMicroBatch(optimizer) { clipGradNorm(optimizer.namedParameters.map(\.parameter), maxNorm: 1) }
/// }
/// ```
/// With equal micro-batch sizes and a mean loss, the step equals one on the whole batch.
public struct GradientAccumulator: Sendable {
    /// The number of micro-batches per optimizer step.
    public let microBatches: Int
    /// The micro-batches accumulated since the last step.
    public private(set) var pending = 0

    /// Creates an accumulator stepping every `microBatches` micro-batches (1: every batch).
    public init(microBatches: Int) {
        precondition(microBatches >= 1, "GradientAccumulator: micro-batches \(microBatches) must be at least 1")
        self.microBatches = microBatches
    }

    /// Counts a micro-batch whose backward pass has run. On the last one of a group it divides
    /// the gradients by the number of micro-batches, runs `beforeStep` (e.g. clipping), steps and
    /// zeroes the gradients; returns whether it stepped. An error thrown by `beforeStep` leaves
    /// the parameters unchanged.
    @discardableResult
    public mutating func finishMicroBatch(_ optimizer: some Optimizer, beforeStep: () throws -> Void = {}) rethrows -> Bool {
        pending += 1
        guard pending == microBatches else { return false }
        pending = 0
        if microBatches > 1 {
            let scale = 1 / Float(microBatches)
            for (_, parameter) in optimizer.namedParameters {
                guard var grad = parameter.grad else { continue }
                grad.withUnsafeMutableBufferPointer { g in
                    for i in g.indices { g[i] *= scale }
                }
                parameter.grad = grad
            }
        }
        try beforeStep()
        optimizer.step()
        optimizer.zeroGrad()
        return true
    }
}

import TensorCore

/// Averages the gradients of a parameter list over the ranks of a ``ProcessGroup`` in buckets.
///
/// Parameters are packed in a fixed order into buckets of at most ``capacity`` floats (PyTorch
/// DDP's 25 MiB by default); each bucket is one all-reduce. A bucket starts with one presence
/// flag per parameter, so a parameter no rank produced a gradient for keeps `nil` (an optimizer
/// then leaves it alone, exactly as in a single process) while one produced on some ranks gets
/// the mean with zeros from the others, as DDP does.
///
/// The all-reduce runs after the whole backward pass rather than overlapping it: on a CPU the
/// reduction competes with the backward kernels for the same cores, and the measured overlap
/// gain at 2 ranks is below the noise (see the "Training on many machines with MPI" article).
///
/// ```swift
/// let buckets = GradientBuckets(parameters: optimizer.namedParameters.map(\.parameter))
/// try buckets.average(over: group)   // after backward, before clipping
/// ```
public final class GradientBuckets {
    /// The parameters in packing order.
    public let parameters: [Parameter]
    /// The parameter index ranges of the buckets.
    public let buckets: [Range<Int>]
    /// The largest bucket in floats (flags included).
    public let capacity: Int
    private var buffer: [Float]

    /// Splits `parameters` into buckets of at most `capacity` floats (a larger parameter gets a
    /// bucket of its own).
    public init(parameters: [Parameter], capacity: Int = 25 * 1024 * 1024 / 4) {
        precondition(capacity > 0, "GradientBuckets: capacity \(capacity) must be positive")
        self.parameters = parameters
        var buckets: [Range<Int>] = [], start = 0, size = 0, largest = 0
        for (i, p) in parameters.enumerated() {
            let n = p.shape.reduce(1, *) + 1
            if size > 0 && size + n > capacity {
                buckets.append(start..<i)
                largest = max(largest, size)
                (start, size) = (i, 0)
            }
            size += n
        }
        if start < parameters.count {
            buckets.append(start..<parameters.count)
            largest = max(largest, size)
        }
        self.buckets = buckets
        self.capacity = largest
        buffer = []
    }

    /// Replaces every gradient with its mean over the ranks of `group` (nothing to do for one).
    public func average(over group: any ProcessGroup) throws {
        guard group.isDistributed else { return }
        if buffer.count < capacity { buffer = [Float](repeating: 0, count: capacity) }
        let scale = 1 / Float(group.worldSize)
        try buffer.withUnsafeMutableBufferPointer { whole in
            for bucket in buckets {
                let flags = bucket.count
                var size = flags
                for i in bucket { size += parameters[i].shape.reduce(1, *) }
                let view = UnsafeMutableBufferPointer(rebasing: whole[0..<size])
                var offset = flags
                for (f, i) in bucket.enumerated() {
                    let p = parameters[i], n = p.shape.reduce(1, *)
                    if let grad = p.grad {
                        view[f] = 1
                        grad.withUnsafeBufferPointer { g in
                            _ = UnsafeMutableBufferPointer(rebasing: view[offset..<offset + n]).initialize(from: g)
                        }
                    } else {
                        view[f] = 0
                        UnsafeMutableBufferPointer(rebasing: view[offset..<offset + n]).update(repeating: 0)
                    }
                    offset += n
                }
                try group.allReduce(view, .sum)
                offset = flags
                for (f, i) in bucket.enumerated() {
                    let p = parameters[i], n = p.shape.reduce(1, *)
                    if view[f] > 0 {
                        var scalars = [Float](repeating: 0, count: n)
                        for j in 0..<n { scalars[j] = view[offset + j] * scale }
                        p.grad = Tensor(shape: p.shape, scalars: scalars)
                    }
                    offset += n
                }
            }
        }
    }
}

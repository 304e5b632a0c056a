/// Broadcasting rules (NumPy/PyTorch semantics) and the strided iteration behind binary ops.
extension Tensor {
    /// The shape two shapes broadcast to, stopping with a message naming `op` when they cannot.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "\(op): shapes \(a) and \(b) cannot be broadcast together")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` viewed at `outShape` (zero stride on broadcast dimensions).
    @usableFromInline
    static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let own = strides(of: shape)
        let offset = outShape.count - shape.count
        var result = [Int](repeating: 0, count: outShape.count)
        for i in 0..<shape.count where shape[i] != 1 {
            result[i + offset] = own[i]
        }
        return result
    }

    /// Applies `f` elementwise to `a` and `b` broadcast together.
    @inlinable @inline(__always)
    static func broadcastApply(
        _ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float
    ) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        // Residual adds of whole activations: worth both cores.
                        ComputeContext.parallelFor(out.count, minimumChunk: 65_536) { range in
                            for i in range { out[i] = f(pa[i], pb[i]) }
                        }
                    }
                }
            }
        }
        let outShape = broadcastShape(a.shape, b.shape, op: op)
        let total = elementCount(outShape)
        // Fast paths: one side is a scalar, or one side repeats along the trailing block.
        if b.count == 1 && outShape == a.shape {
            let s = b.storage[0]
            return Tensor(shape: outShape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    for i in 0..<total { out[i] = f(pa[i], s) }
                }
            }
        }
        if a.count == 1 && outShape == b.shape {
            let s = a.storage[0]
            return Tensor(shape: outShape) { out in
                b.storage.withUnsafeBufferPointer { pb in
                    for i in 0..<total { out[i] = f(s, pb[i]) }
                }
            }
        }
        if outShape == a.shape, let inner = trailingRepeat(of: b.shape, in: outShape), inner > 0 {
            return Tensor(shape: outShape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        ComputeContext.parallelFor(total / inner, minimumChunk: Swift.max(1, 65_536 / inner)) { rows in
                            for r in rows {
                                let i = r * inner
                                for j in 0..<inner { out[i + j] = f(pa[i + j], pb[j]) }
                            }
                        }
                    }
                }
            }
        }
        if outShape == b.shape, let inner = trailingRepeat(of: a.shape, in: outShape), inner > 0 {
            return Tensor(shape: outShape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        ComputeContext.parallelFor(total / inner, minimumChunk: Swift.max(1, 65_536 / inner)) { rows in
                            for r in rows {
                                let i = r * inner
                                for j in 0..<inner { out[i + j] = f(pa[j], pb[i + j]) }
                            }
                        }
                    }
                }
            }
        }
        // General case: odometer over all but the last dimension.
        let sa = broadcastStrides(a.shape, to: outShape)
        let sb = broadcastStrides(b.shape, to: outShape)
        return Tensor(shape: outShape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    guard total > 0 else { return }
                    let rank = outShape.count
                    let last = outShape[rank - 1]
                    let la = sa[rank - 1], lb = sb[rank - 1]
                    var index = [Int](repeating: 0, count: rank)
                    var oa = 0, ob = 0, o = 0
                    while o < total {
                        for j in 0..<last { out[o + j] = f(pa[oa + j * la], pb[ob + j * lb]) }
                        o += last
                        var axis = rank - 2
                        while axis >= 0 {
                            index[axis] += 1
                            oa += sa[axis]; ob += sb[axis]
                            if index[axis] < outShape[axis] { break }
                            oa -= sa[axis] * outShape[axis]; ob -= sb[axis] * outShape[axis]
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
        }
    }

    /// When `shape` broadcast to `outShape` is a block repeated over leading dimensions (for
    /// example a bias `[C]` against `[N, C]`), the size of that block.
    @usableFromInline
    static func trailingRepeat(of shape: [Int], in outShape: [Int]) -> Int? {
        var trimmed = shape[...]
        while let first = trimmed.first, first == 1 { trimmed = trimmed.dropFirst() }
        guard trimmed.count <= outShape.count, Array(trimmed) == Array(outShape.suffix(trimmed.count)) else {
            return nil
        }
        return elementCount(Array(trimmed))
    }

    /// Sums a gradient of a broadcast result back down to the shape of the input that was broadcast.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        precondition(offset >= 0, "sumToShape: cannot reduce \(shape) to \(target)")
        var axes: [Int] = Array(0..<offset)
        for i in 0..<target.count where target[i] == 1 && shape[i + offset] != 1 {
            axes.append(i + offset)
        }
        var reduced = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        reduced = reduced.reshaped(target)
        return reduced
    }
}

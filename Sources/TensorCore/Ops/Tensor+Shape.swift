/// Reshape (a view: no copy), broadcast-to, permute and transpose.
///
/// VJPs: reshape reshapes back; broadcast-to sums back; permute applies the inverse permutation.
extension Tensor {
    /// The same elements under a new shape, without recording (internal building block).
    @usableFromInline
    func reshapedRaw(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage, node: nil)
    }

    /// Resolves one `-1` extent in a requested shape.
    private func resolvedShape(_ requested: [Int]) -> [Int] {
        var shape = requested
        let unknown = shape.indices.filter { shape[$0] == -1 }
        precondition(unknown.count <= 1, "reshape: more than one -1 in \(requested)")
        if let u = unknown.first {
            let known = shape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot reshape \(self.shape) to \(requested)")
            shape[u] = count / known
        }
        precondition(shape.allSatisfy { $0 >= 0 } && Tensor.elementCount(shape) == count,
                     "reshape: cannot reshape \(self.shape) (\(count) elements) to \(requested)")
        return shape
    }

    /// The same elements under a new shape (one extent may be -1). Shares storage with `self`.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = resolvedShape(newShape)
        if target == shape { return self }
        let inShape = shape
        return Tensor.record("reshape", reshapedRaw(target), inputs: [self]) { _ in
            { g in [g.reshaped(inShape)] }
        }
    }

    /// Flattens dimensions `start...end` into one.
    public func flattened(from start: Int = 0, through end: Int = -1) -> Tensor {
        guard rank > 0 else { return reshaped([1]) }
        let s = normalizedAxis(start, op: "flatten"), e = normalizedAxis(end, op: "flatten")
        precondition(s <= e, "flatten: start \(start) after end \(end) for shape \(shape)")
        let merged = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Inserts a dimension of size one at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, op: "unsqueeze", rankOffset: 1)
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes a dimension of size one at `axis`.
    public func squeezed(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, op: "squeeze")
        precondition(shape[a] == 1, "squeeze: axis \(axis) has size \(shape[a]) in shape \(shape)")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }

    /// Repeats size-one (or missing leading) dimensions to reach `target`, as `torch.expand`.
    /// The result is materialised (TensorCore tensors are always contiguous).
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let checked = Tensor.broadcastShape(shape, target, op: "broadcast")
        precondition(checked == target, "broadcast: cannot broadcast \(shape) to \(target)")
        let inShape = shape
        let materialised = broadcastRaw(to: target)
        return Tensor.record("broadcast", materialised, inputs: [self]) { _ in
            { g in [g.sumToShape(inShape)] }
        }
    }

    /// Same as ``broadcast(to:)``; the PyTorch name.
    public func expanded(to target: [Int]) -> Tensor { broadcast(to: target) }

    /// Reorders the dimensions: result dimension `i` is input dimension `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.count == rank && Set(permutation) == Set(0..<rank),
                     "permute: \(permutation) is not a permutation of the \(rank) axes of shape \(shape)")
        if permutation == Array(0..<rank) { return self }
        let value = permutedRaw(permutation)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor.record("permute", value, inputs: [self]) { _ in
            { g in [g.permuted(inverse)] }
        }
    }

    /// Swaps two dimensions.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let a = normalizedAxis(axis0, op: "transpose"), b = normalizedAxis(axis1, op: "transpose")
        var p = Array(0..<rank)
        p.swapAt(a, b)
        return permuted(p)
    }

    /// Materialises the broadcast of `self` to `target` without recording.
    private func broadcastRaw(to target: [Int]) -> Tensor {
        let total = Tensor.elementCount(target)
        if let inner = Tensor.trailingRepeat(of: shape, in: target), inner > 0 {
            return Tensor(shape: target) { out in
                storage.withUnsafeBufferPointer { p in
                    var o = 0
                    while o < total {
                        for j in 0..<inner { out[o + j] = p[j] }
                        o += inner
                    }
                }
            }
        }
        let srcStrides = Tensor.broadcastStrides(shape, to: target)
        return Tensor(shape: target) { out in
            storage.withUnsafeBufferPointer { p in
                guard total > 0 else { return }
                let r = target.count
                let last = target[r - 1], ls = srcStrides[r - 1]
                var index = [Int](repeating: 0, count: r)
                var src = 0, o = 0
                while o < total {
                    for j in 0..<last { out[o + j] = p[src + j * ls] }
                    o += last
                    var axis = r - 2
                    while axis >= 0 {
                        index[axis] += 1
                        src += srcStrides[axis]
                        if index[axis] < target[axis] { break }
                        src -= srcStrides[axis] * target[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    private func permutedRaw(_ permutation: [Int]) -> Tensor {
        let outShape = permutation.map { shape[$0] }
        let inStrides = Tensor.strides(of: shape)
        let srcStrides = permutation.map { inStrides[$0] }
        let total = count
        return Tensor(shape: outShape) { out in
            storage.withUnsafeBufferPointer { p in
                guard total > 0 else { return }
                let r = outShape.count
                let last = outShape[r - 1], ls = srcStrides[r - 1]
                var index = [Int](repeating: 0, count: r)
                var src = 0, o = 0
                while o < total {
                    if ls == 1 {
                        for j in 0..<last { out[o + j] = p[src + j] }
                    } else {
                        for j in 0..<last { out[o + j] = p[src + j * ls] }
                    }
                    o += last
                    var axis = r - 2
                    while axis >= 0 {
                        index[axis] += 1
                        src += srcStrides[axis]
                        if index[axis] < outShape[axis] { break }
                        src -= srcStrides[axis] * outShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }
}

/// Index selection along an axis (`torch.index_select`) and elementwise gathering
/// (`torch.gather`).
///
/// VJPs: both scatter-add the gradient back to the positions that were read, so an index used
/// twice receives the sum of both gradients.
extension Tensor {
    /// The slices at `indices` along `axis`, in that order (indices may repeat), as
    /// `torch.index_select`.
    ///
    /// The result has the input's shape with `shape[axis]` replaced by `indices.count`. Each index
    /// must lie in `0..<shape[axis]`; `axis` may be negative.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = normalizedAxis(axis, op: "indexSelect")
        precondition(rank > 0, "indexSelect: cannot index a rank-0 tensor")
        let n = shape[a]
        for i in indices {
            precondition(i >= 0 && i < n,
                         "indexSelect: index \(i) out of range for axis \(axis) of shape \(shape)")
        }
        let value = indexSelectRaw(axis: a, indices: indices)
        let inShape = shape
        return Tensor.record("indexSelect", value, inputs: [self]) { _ in
            { g in [Tensor.indexAddRaw(g, axis: a, indices: indices, into: inShape)] }
        }
    }

    /// Picks one element per index along `axis`, as `torch.gather`; the result has `indexShape`.
    ///
    /// `indices` holds the index tensor's values in row-major order. For every position `p` of
    /// the index tensor, the result at `p` is the input at `p` with coordinate `axis` replaced by
    /// `indices[p]`. The index tensor has the input's rank, and each of its extents other than
    /// `axis` is at most the input's. Typical use: picking the target logit of each row with
    /// `logits.gather(axis: -1, indices: labels, indexShape: [batch, 1])`.
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) -> Tensor {
        let a = normalizedAxis(axis, op: "gather")
        precondition(rank > 0 && indexShape.count == rank,
                     "gather: index shape \(indexShape) does not have the rank of input shape \(shape)")
        precondition(indices.count == Tensor.elementCount(indexShape),
                     "gather: \(indices.count) indices do not fill index shape \(indexShape)")
        for d in 0..<rank where d != a {
            precondition(indexShape[d] <= shape[d],
                         "gather: index shape \(indexShape) exceeds input shape \(shape) outside axis \(axis)")
        }
        let offsets = gatherOffsets(axis: a, indices: indices, indexShape: indexShape, op: "gather")
        let value = Tensor(shape: indexShape) { out in
            storage.withUnsafeBufferPointer { p in
                for e in 0..<out.count { out[e] = p[offsets[e]] }
            }
        }
        let inShape = shape
        return Tensor.record("gather", value, inputs: [self]) { _ in
            { g in
                [Tensor(shape: inShape) { out in
                    out.initialize(repeating: 0)
                    g.storage.withUnsafeBufferPointer { pg in
                        for e in 0..<pg.count { out[offsets[e]] += pg[e] }
                    }
                }]
            }
        }
    }

    /// The flat input offset each gathered element reads, checking every index on the way.
    private func gatherOffsets(axis a: Int, indices: [Int], indexShape: [Int], op: String) -> [Int] {
        let strides = Tensor.strides(of: shape)
        let n = shape[a], r = rank
        var offsets = [Int](repeating: 0, count: indices.count)
        var coordinate = [Int](repeating: 0, count: r)
        // `base` is the offset contributed by every coordinate except the gathered one.
        var base = 0
        for e in 0..<indices.count {
            let i = indices[e]
            precondition(i >= 0 && i < n, "\(op): index \(i) out of range for axis \(a) of shape \(shape)")
            offsets[e] = base + i * strides[a]
            var d = r - 1
            while d >= 0 {
                coordinate[d] += 1
                if d != a { base += strides[d] }
                if coordinate[d] < indexShape[d] { break }
                if d != a { base -= strides[d] * indexShape[d] }
                coordinate[d] = 0
                d -= 1
            }
        }
        return offsets
    }

    /// The slices at `indices` along axis `a` (already normalised and checked), without recording.
    @usableFromInline
    func indexSelectRaw(axis a: Int, indices: [Int]) -> Tensor {
        let (outer, n, inner) = splitAround(a)
        let m = indices.count
        var outShape = shape
        outShape[a] = m
        return Tensor(shape: outShape) { out in
            guard out.count > 0 else { return }
            storage.withUnsafeBufferPointer { p in
                let src = p.baseAddress!, dst = out.baseAddress!
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        let from = (o * n + i) * inner, to = (o * m + k) * inner
                        if inner == 1 {
                            dst[to] = src[from]
                        } else {
                            (dst + to).update(from: src + from, count: inner)
                        }
                    }
                }
            }
        }
    }

    /// Zeros of `shape` with the slices of `g` added at `indices` along axis `a` (the adjoint of
    /// ``indexSelectRaw(axis:indices:)``), without recording.
    @usableFromInline
    static func indexAddRaw(_ g: Tensor, axis a: Int, indices: [Int], into shape: [Int]) -> Tensor {
        let (outer, m, inner) = g.splitAround(a)
        let n = shape[a]
        return Tensor(shape: shape) { out in
            out.initialize(repeating: 0)
            guard g.count > 0 else { return }
            g.storage.withUnsafeBufferPointer { pg in
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        let from = (o * m + k) * inner, to = (o * n + i) * inner
                        for j in 0..<inner { out[to + j] += pg[from + j] }
                    }
                }
            }
        }
    }
}

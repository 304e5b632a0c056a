/// Tiling, as `torch.Tensor.repeat`.
///
/// VJP: the output gradient, viewed as `[c0, s0, c1, s1, …]` (count, extent per axis), is summed
/// over the count axes, adding up the gradient of every tile.
extension Tensor {
    /// Tiles the tensor `counts[i]` times along axis `i`, as `torch.Tensor.repeat`.
    ///
    /// `counts` may be longer than the rank: the tensor is then treated as having leading
    /// dimensions of size one, so `Tensor([1, 2]).repeated([2, 2])` has shape `[2, 4]`. Counts may
    /// be zero (an empty result).
    public func repeated(_ counts: [Int]) -> Tensor {
        precondition(counts.count >= rank,
                     "repeat: \(counts.count) counts \(counts) for shape \(shape) of rank \(rank)")
        precondition(counts.allSatisfy { $0 >= 0 }, "repeat: negative count in \(counts) for shape \(shape)")
        if counts.count == rank && counts.allSatisfy({ $0 == 1 }) { return self }
        let source = [Int](repeating: 1, count: counts.count - rank) + shape
        let outShape = zip(counts, source).map { $0 * $1 }
        let value = Tensor(shape: outShape) { out in
            guard out.count > 0 else { return }
            storage.withUnsafeBufferPointer { p in
                Tensor.tile(p.baseAddress!, shape: source, into: out.baseAddress!, shape: outShape)
            }
        }
        let inShape = shape
        return Tensor.record("repeat", value, inputs: [self]) { _ in
            { g in
                var interleaved: [Int] = []
                for (c, s) in zip(counts, source) { interleaved += [c, s] }
                let countAxes = Array(stride(from: 0, to: interleaved.count, by: 2))
                return [g.reshaped(interleaved).sum(axes: countAxes).reshaped(inShape)]
            }
        }
    }

    /// Writes the tiling of a `source`-shaped buffer into an `outShape`-shaped one (every extent
    /// of `outShape` a multiple of the matching one of `source`).
    ///
    /// Walks the output one row (last axis) at a time; each row is the source row copied
    /// back to back.
    private static func tile(
        _ src: UnsafePointer<Float>, shape source: [Int],
        into dst: UnsafeMutablePointer<Float>, shape outShape: [Int]
    ) {
        let r = outShape.count
        guard r > 0 else { dst[0] = src[0]; return }
        let rowLength = source[r - 1], rowCopies = outShape[r - 1] / rowLength
        let ss = strides(of: source)
        let rows = elementCount(outShape) / outShape[r - 1]
        var coordinate = [Int](repeating: 0, count: r)
        var sourceCoordinate = [Int](repeating: 0, count: r)
        var s = 0, d = 0
        for _ in 0..<rows {
            for _ in 0..<rowCopies {
                (dst + d).update(from: src + s, count: rowLength)
                d += rowLength
            }
            var axis = r - 2
            while axis >= 0 {
                coordinate[axis] += 1
                sourceCoordinate[axis] += 1
                s += ss[axis]
                if sourceCoordinate[axis] == source[axis] {
                    sourceCoordinate[axis] = 0
                    s -= ss[axis] * source[axis]
                }
                if coordinate[axis] < outShape[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Slicing along one axis (`x[..., lo:hi:step, ...]` in PyTorch), and the box-copy kernel that
/// slicing, padding and concatenation share.
///
/// VJP: the gradient is scattered back into zeros at the positions the slice read.
extension Tensor {
    /// The elements at positions `range` (stepping by `step`) along `axis`; other axes are kept whole.
    ///
    /// `range` may be any integer range expression (`1..<3`, `2...`, `..<4`) and must lie inside
    /// the axis; `axis` may be negative. The result is a copy (TensorCore tensors are contiguous).
    public func slice<R: RangeExpression<Int>>(axis: Int, range: R, step: Int = 1) -> Tensor {
        let a = normalizedAxis(axis, op: "slice")
        precondition(rank > 0, "slice: cannot slice a rank-0 tensor")
        let n = shape[a]
        let bounds = range.relative(to: 0..<n)
        precondition(bounds.lowerBound >= 0 && bounds.upperBound <= n,
                     "slice: range \(bounds) out of bounds for axis \(axis) of shape \(shape)")
        precondition(step >= 1, "slice: step \(step) must be positive (shape \(shape))")
        if bounds == 0..<n && step == 1 { return self }
        let inShape = shape
        if step == 1 {
            var origin = [Int](repeating: 0, count: rank)
            origin[a] = bounds.lowerBound
            var extent = shape
            extent[a] = bounds.count
            let value = croppedRaw(origin: origin, extent: extent)
            return Tensor.record("slice", value, inputs: [self]) { _ in
                { g in [g.placedRaw(in: inShape, at: origin)] }
            }
        }
        let indices = Array(stride(from: bounds.lowerBound, to: bounds.upperBound, by: step))
        let value = indexSelectRaw(axis: a, indices: indices)
        return Tensor.record("slice", value, inputs: [self]) { _ in
            { g in [Tensor.indexAddRaw(g, axis: a, indices: indices, into: inShape)] }
        }
    }

    /// The box of size `extent` starting at `origin`, without recording.
    @usableFromInline
    func croppedRaw(origin: [Int], extent: [Int]) -> Tensor {
        let inShape = shape
        return Tensor(shape: extent) { out in
            guard out.count > 0 else { return }
            storage.withUnsafeBufferPointer { p in
                Tensor.copyBox(p.baseAddress!, shape: inShape, origin: origin,
                               into: out.baseAddress!, shape: extent,
                               origin: [Int](repeating: 0, count: extent.count), extent: extent)
            }
        }
    }

    /// A tensor of shape `outShape` filled with `fill`, with `self` copied in at `origin`, without
    /// recording.
    @usableFromInline
    func placedRaw(in outShape: [Int], at origin: [Int], fill: Float = 0) -> Tensor {
        let extent = shape
        return Tensor(shape: outShape) { out in
            guard let base = out.baseAddress else { return }
            Kernels.forChunks(out.count, grain: 1 << 16) { start, n in
                (base + start).initialize(repeating: fill, count: n)
            }
            guard count > 0 else { return }
            storage.withUnsafeBufferPointer { p in
                Tensor.copyBox(p.baseAddress!, shape: extent,
                               origin: [Int](repeating: 0, count: extent.count),
                               into: out.baseAddress!, shape: outShape, origin: origin, extent: extent)
            }
        }
    }

    /// Copies the box `extent` at `srcOrigin` of a row-major `srcShape` buffer to `dstOrigin` of
    /// a row-major `dstShape` buffer.
    ///
    /// Trailing axes that the box covers whole in both buffers are contiguous in both, so they
    /// merge into one run; each run is a single `memcpy`, and only the axes before it are walked.
    @usableFromInline
    static func copyBox(
        _ src: UnsafePointer<Float>, shape srcShape: [Int], origin srcOrigin: [Int],
        into dst: UnsafeMutablePointer<Float>, shape dstShape: [Int], origin dstOrigin: [Int],
        extent: [Int]
    ) {
        let rank = extent.count
        guard !extent.contains(0) else { return }
        guard rank > 0 else { dst[0] = src[0]; return }
        var k = rank - 1
        var inner = 1
        while k > 0 && extent[k] == srcShape[k] && extent[k] == dstShape[k] {
            inner *= extent[k]
            k -= 1
        }
        let run = extent[k] * inner
        let ss = strides(of: srcShape), ds = strides(of: dstShape)
        var s0 = 0, d0 = 0
        for axis in 0..<rank {
            s0 += srcOrigin[axis] * ss[axis]
            d0 += dstOrigin[axis] * ds[axis]
        }
        let runs = extent[..<k].reduce(1, *)
        // Activation-sized boxes (a slice or a concat of token blocks) are split over the compute
        // threads, by runs or, for a single run, by pieces of it.
        if runs == 1 {
            Kernels.forChunks(run, grain: 1 << 16) { start, n in
                (dst + d0 + start).update(from: src + s0 + start, count: n)
            }
            return
        }
        ComputeContext.parallelFor(runs, minimumChunk: Swift.max(1, (1 << 16) / run)) { range in
            // The offsets of the first run of the chunk, then an odometer over the axes before k.
            var index = [Int](repeating: 0, count: k)
            var rest = range.lowerBound, s = s0, d = d0
            for axis in stride(from: k - 1, through: 0, by: -1) {
                index[axis] = rest % extent[axis]
                rest /= extent[axis]
                s += index[axis] * ss[axis]
                d += index[axis] * ds[axis]
            }
            for _ in range {
                (dst + d).update(from: src + s, count: run)
                var axis = k - 1
                while axis >= 0 {
                    index[axis] += 1
                    s += ss[axis]
                    d += ds[axis]
                    if index[axis] < extent[axis] { break }
                    s -= ss[axis] * extent[axis]
                    d -= ds[axis] * extent[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

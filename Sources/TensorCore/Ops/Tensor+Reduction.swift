import Foundation

/// Reductions: sum, mean, max, argmax, logsumexp over axes, with `keepDims`.
///
/// VJPs: sum broadcasts the gradient back; mean also divides by the reduced count; max routes the
/// gradient to the (first) maximal element; logsumexp multiplies by softmax.
extension Tensor {
    /// Splits the shape around `axis` into (outer, extent, inner).
    @usableFromInline
    func splitAround(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        let outer = Tensor.elementCount(Array(shape[..<axis]))
        let inner = Tensor.elementCount(Array(shape[(axis + 1)...]))
        return (outer, shape[axis], inner)
    }

    private func reducedShape(_ axes: Set<Int>, keepDims: Bool) -> [Int] {
        var out: [Int] = []
        for (i, d) in shape.enumerated() {
            if axes.contains(i) { if keepDims { out.append(1) } } else { out.append(d) }
        }
        return out
    }

    private func normalizedAxes(_ axes: [Int], op: String) -> Set<Int> {
        let set = Set(axes.map { normalizedAxis($0, op: op) })
        precondition(set.count == axes.count, "\(op): repeated axis in \(axes) for shape \(shape)")
        return set
    }

    /// Sums one axis without recording; keeps a size-1 dimension there.
    ///
    /// Rows are added into the output a vector at a time, the columns split over the compute
    /// threads: bias gradients (`[tokens, C]` summed over tokens) took 3% of a training step as a
    /// scalar loop.
    private func sumAxisRaw(_ axis: Int) -> Tensor {
        let (outer, n, inner) = splitAround(axis)
        var outShape = shape
        outShape[axis] = 1
        return Tensor(shape: outShape) { out in
            storage.withUnsafeBufferPointer { p in
                guard let src = p.baseAddress, let dst = out.baseAddress, out.count > 0 else { return }
                if inner == 1 {
                    ComputeContext.parallelFor(outer, minimumChunk: Swift.max(1, 32_768 / Swift.max(1, n))) { range in
                        for o in range { dst[o] = Kernels.table.sum(src + o * n, n) }
                    }
                    return
                }
                // Column blocks of 64 keep whole vectors of every instruction set.
                let blocks = (inner + 63) / 64
                for o in 0..<outer {
                    let base = src + o * n * inner, target = dst + o * inner
                    ComputeContext.parallelFor(blocks, minimumChunk: Swift.max(1, 32_768 / Swift.max(1, n * 64))) { range in
                        let lo = range.lowerBound * 64, hi = Swift.min(inner, range.upperBound * 64)
                        Kernels.table.sum_rows(base + lo, n, inner, hi - lo, target + lo)
                    }
                }
            }
        }
    }

    /// Sum over `axes` (all axes when empty is not intended: pass every axis explicitly or use ``sum()``).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let set = normalizedAxes(axes, op: "sum")
        var value = self.detached()
        for axis in set.sorted(by: >) { value = value.sumAxisRaw(axis) }
        let kept = value.shape
        value = value.reshapedRaw(reducedShape(set, keepDims: keepDims))
        let inShape = shape
        return Tensor.record("sum", value, inputs: [self]) { _ in
            { g in [g.reshaped(kept).broadcast(to: inShape)] }
        }
    }

    /// Sum over one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor {
        rank == 0 ? self : sum(axes: Array(0..<rank))
    }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let set = normalizedAxes(axes, op: "mean")
        let n = set.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Mean over one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { rank == 0 ? self : mean(axes: Array(0..<rank)) }

    /// Index of the largest element along `axis` (first one on ties), as in `torch.argmax`.
    public func argmax(axis: Int) -> [Int] {
        let a = normalizedAxis(axis, op: "argmax")
        let (outer, n, inner) = splitAround(a)
        precondition(n > 0, "argmax: empty axis \(axis) in shape \(shape)")
        var result = [Int](repeating: 0, count: outer * inner)
        storage.withUnsafeBufferPointer { p in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = p[o * n * inner + i], bestIndex = 0
                    for j in 1..<Swift.max(n, 1) {
                        let v = p[(o * n + j) * inner + i]
                        if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = j }
                    }
                    result[o * inner + i] = bestIndex
                }
            }
        }
        return result
    }

    /// Largest element along `axis`; the gradient flows to the element `argmax` picks.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, op: "max")
        let (outer, n, inner) = splitAround(a)
        let indices = argmax(axis: a)
        var outShape = shape
        outShape[a] = 1
        var value = Tensor(shape: outShape) { out in
            storage.withUnsafeBufferPointer { p in
                for o in 0..<outer {
                    for i in 0..<inner { out[o * inner + i] = p[(o * n + indices[o * inner + i]) * inner + i] }
                }
            }
        }
        let kept = outShape
        if !keepDims { outShape.remove(at: a); value = value.reshapedRaw(outShape) }
        let inShape = shape
        return Tensor.record("max", value, inputs: [self]) { _ in
            { g in
                let gk = g.reshaped(kept)
                return [Tensor(shape: inShape) { out in
                    out.initialize(repeating: 0)
                    gk.storage.withUnsafeBufferPointer { pg in
                        for o in 0..<outer {
                            for i in 0..<inner {
                                out[(o * n + indices[o * inner + i]) * inner + i] = pg[o * inner + i]
                            }
                        }
                    }
                }]
            }
        }
    }

    /// log(sum(exp(x))) along `axis`, computed stably.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, op: "logsumexp")
        let m = noGrad { self.max(axis: a, keepDims: true) }
        let shifted = (self - m).exp().sum(axis: a, keepDims: true).log() + m
        if keepDims { return shifted }
        var outShape = shape
        outShape.remove(at: a)
        return shifted.reshaped(outShape)
    }
}

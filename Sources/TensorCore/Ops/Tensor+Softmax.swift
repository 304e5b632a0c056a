/// Softmax and log-softmax along one axis, as fused single-kernel primitives.
///
/// Both subtract the maximum of each slice before exponentiating, so large logits cannot
/// overflow. VJPs, with `y` the saved output and sums taken along the axis:
/// softmax `dx = y·(g − Σ g·y)`; log-softmax `dx = g − exp(y)·Σ g`.
///
/// Layout: the axis splits the shape into (outer, n, inner). The last axis (inner == 1) walks
/// contiguous rows; any other axis walks each outer block with the `inner` slices side by side,
/// so the innermost loop stays contiguous either way. The exponential is the Cephes polynomial
/// (about one ulp) in the vector width of ``Kernels``.
extension Tensor {
    /// Softmax along `axis` (default: the last), as `torch.softmax(x, dim=axis)`.
    public func softmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "softmax: needs rank ≥ 1, got shape \(shape)")
        let a = normalizedAxis(axis, op: "softmax")
        let (outer, n, inner) = splitAround(a)
        let y = Tensor.softmaxForward(self, outer: outer, n: n, inner: inner, log: false)
        return Tensor.record("softmax", y, inputs: [self]) { _ in
            { g in [Tensor.softmaxBackward(g, y, outer: outer, n: n, inner: inner, log: false)] }
        }
    }

    /// Log-softmax along `axis` (default: the last), as `torch.log_softmax(x, dim=axis)`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "logSoftmax: needs rank ≥ 1, got shape \(shape)")
        let a = normalizedAxis(axis, op: "logSoftmax")
        let (outer, n, inner) = splitAround(a)
        let y = Tensor.softmaxForward(self, outer: outer, n: n, inner: inner, log: true)
        return Tensor.record("logSoftmax", y, inputs: [self]) { _ in
            { g in [Tensor.softmaxBackward(g, y, outer: outer, n: n, inner: inner, log: true)] }
        }
    }

    /// Elements per parallel chunk below which splitting the work costs more than it saves.
    private static var softmaxGrain: Int { 16_384 }

    private static func softmaxForward(
        _ x: Tensor, outer: Int, n: Int, inner: Int, log: Bool
    ) -> Tensor {
        let minimumChunk = Swift.max(1, softmaxGrain / Swift.max(1, n * inner))
        let flag: Int32 = log ? 1 : 0
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                    let block = n * inner, start = range.lowerBound * block
                    if inner == 1 {
                        Kernels.table.softmax_rows(src + start, dst + start, range.count, n, flag)
                        return
                    }
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * inner) { scratch in
                        for o in range {
                            Kernels.table.softmax_columns(src + o * block, dst + o * block, n, inner, flag,
                                                          scratch.baseAddress!)
                        }
                    }
                }
            }
        }
    }

    /// Softmax: `dx = y·(g − Σ g·y)`; log-softmax: `dx = g − exp(y)·Σ g`.
    private static func softmaxBackward(
        _ g: Tensor, _ y: Tensor, outer: Int, n: Int, inner: Int, log: Bool
    ) -> Tensor {
        let minimumChunk = Swift.max(1, softmaxGrain / Swift.max(1, n * inner))
        let flag: Int32 = log ? 1 : 0
        return Tensor(shape: y.shape) { out in
            g.storage.withUnsafeBufferPointer { pg in
                y.storage.withUnsafeBufferPointer { py in
                    guard let gp = pg.baseAddress, let yp = py.baseAddress, let dp = out.baseAddress else { return }
                    ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                        let block = n * inner, start = range.lowerBound * block
                        if inner == 1 {
                            Kernels.table.softmax_backward_rows(gp + start, yp + start, dp + start, range.count, n,
                                                                flag)
                            return
                        }
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: inner) { scratch in
                            for o in range {
                                Kernels.table.softmax_backward_columns(
                                    gp + o * block, yp + o * block, dp + o * block, n, inner, flag,
                                    scratch.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}

import Foundation

/// Softmax and log-softmax along one axis, as fused single-kernel primitives.
///
/// Both subtract the maximum of each slice before exponentiating, so large logits cannot
/// overflow. VJPs, with `y` the saved output and sums taken along the axis:
/// softmax `dx = y·(g − Σ g·y)`; log-softmax `dx = g − exp(y)·Σ g`.
///
/// Layout: the axis splits the shape into (outer, n, inner). The last axis (inner == 1) walks
/// contiguous rows; any other axis walks each outer block with the `inner` slices side by side,
/// so the innermost loop stays contiguous either way.
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
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                    if inner == 1 {
                        for o in range { softmaxRow(src + o * n, dst + o * n, n: n, log: log) }
                    } else {
                        var scratch = [Float](repeating: 0, count: 2 * inner)
                        scratch.withUnsafeMutableBufferPointer { s in
                            for o in range {
                                softmaxBlock(src + o * n * inner, dst + o * n * inner, n: n, inner: inner,
                                             log: log, maxima: s.baseAddress!, sums: s.baseAddress! + inner)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func softmaxRow(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, log: Bool
    ) {
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, x[j]) }
        var s: Float = 0
        if log {
            for j in 0..<n { s += Foundation.exp(x[j] - m) }
            let shift = m + Foundation.log(s)
            for j in 0..<n { y[j] = x[j] - shift }
        } else {
            for j in 0..<n {
                let e = Foundation.exp(x[j] - m)
                y[j] = e
                s += e
            }
            let r = 1 / s
            for j in 0..<n { y[j] *= r }
        }
    }

    @inline(__always)
    private static func softmaxBlock(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, inner: Int, log: Bool,
        maxima m: UnsafeMutablePointer<Float>, sums s: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<inner { m[i] = -Float.infinity; s[i] = 0 }
        for j in 0..<n {
            let row = x + j * inner
            for i in 0..<inner { m[i] = Swift.max(m[i], row[i]) }
        }
        for j in 0..<n {
            let row = x + j * inner, outRow = y + j * inner
            for i in 0..<inner {
                let e = Foundation.exp(row[i] - m[i])
                if !log { outRow[i] = e }
                s[i] += e
            }
        }
        if log {
            for i in 0..<inner { m[i] += Foundation.log(s[i]) }
            for j in 0..<n {
                let row = x + j * inner, outRow = y + j * inner
                for i in 0..<inner { outRow[i] = row[i] - m[i] }
            }
        } else {
            for i in 0..<inner { s[i] = 1 / s[i] }
            for j in 0..<n {
                let outRow = y + j * inner
                for i in 0..<inner { outRow[i] *= s[i] }
            }
        }
    }

    /// Softmax: `dx = y·(g − Σ g·y)`; log-softmax: `dx = g − exp(y)·Σ g`.
    private static func softmaxBackward(
        _ g: Tensor, _ y: Tensor, outer: Int, n: Int, inner: Int, log: Bool
    ) -> Tensor {
        let minimumChunk = Swift.max(1, softmaxGrain / Swift.max(1, n * inner))
        return Tensor(shape: y.shape) { out in
            g.storage.withUnsafeBufferPointer { pg in
                y.storage.withUnsafeBufferPointer { py in
                    guard let gp = pg.baseAddress, let yp = py.baseAddress, let dp = out.baseAddress else { return }
                    ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                        if inner == 1 {
                            for o in range {
                                let (gb, yb, db) = (gp + o * n, yp + o * n, dp + o * n)
                                var dot: Float = 0
                                if log {
                                    for j in 0..<n { dot += gb[j] }
                                    for j in 0..<n { db[j] = gb[j] - Foundation.exp(yb[j]) * dot }
                                } else {
                                    for j in 0..<n { dot += gb[j] * yb[j] }
                                    for j in 0..<n { db[j] = yb[j] * (gb[j] - dot) }
                                }
                            }
                            return
                        }
                        var scratch = [Float](repeating: 0, count: inner)
                        scratch.withUnsafeMutableBufferPointer { s in
                            let dot = s.baseAddress!
                            for o in range {
                                let base = o * n * inner
                                let (gb, yb, db) = (gp + base, yp + base, dp + base)
                                for i in 0..<inner { dot[i] = 0 }
                                for j in 0..<n {
                                    let k = j * inner
                                    if log {
                                        for i in 0..<inner { dot[i] += gb[k + i] }
                                    } else {
                                        for i in 0..<inner { dot[i] += gb[k + i] * yb[k + i] }
                                    }
                                }
                                for j in 0..<n {
                                    let k = j * inner
                                    if log {
                                        for i in 0..<inner { db[k + i] = gb[k + i] - Foundation.exp(yb[k + i]) * dot[i] }
                                    } else {
                                        for i in 0..<inner { db[k + i] = yb[k + i] * (gb[k + i] - dot[i]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 3-D pooling over `[N, C, T, H, W]`, as `torch.nn.functional.max_pool3d`, `avg_pool3d` and
/// `adaptive_avg_pool3d` (output sizes rounded down: `ceil_mode=False`, PyTorch's default and what
/// C3D, R3D and R(2+1)D use).
///
/// Each `(n, c)` plane is independent, so planes are split over ``ComputeContext``'s threads.
/// VJPs: max pooling sends each output gradient to the input element that won its window (the
/// first maximum in window order, as PyTorch; the winners are saved in the forward); average
/// pooling spreads it evenly over the window, dividing by the full kernel volume (PyTorch's
/// `count_include_pad=True`) or, adaptively, by the window's own size.
extension Tensor {
    /// Max pooling with a `kernel` window moved by `stride` over `x` padded with `padding` (−∞).
    ///
    /// Output extent per axis: `(in + 2·padding − kernel)/stride + 1`.
    /// - Precondition: `padding` at most half the kernel on each axis (as PyTorch requires).
    public static func maxPool3d(
        _ x: Tensor, kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)
    ) -> Tensor {
        let geo = PoolGeometry(op: "maxPool3d", x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
        var winners = [Int32](repeating: 0, count: geo.outputCount)
        let y = Tensor(shape: geo.outputShape, unsafeUninitialized: { out in
            x.storage.withUnsafeBufferPointer { px in
                winners.withUnsafeMutableBufferPointer { pi in
                    ComputeContext.parallelFor(geo.planes) { planes in
                        for plane in planes {
                            let src = px.baseAddress! + plane * geo.planeIn
                            let dst = out.baseAddress! + plane * geo.planeOut
                            let idx = pi.baseAddress! + plane * geo.planeOut
                            var o = 0
                            for z in 0..<geo.ot {
                                let tr = geo.window(z, geo.st, geo.pt, geo.kt, geo.t)
                                for y in 0..<geo.oh {
                                    let hr = geo.window(y, geo.sh, geo.ph, geo.kh, geo.h)
                                    for q in 0..<geo.ow {
                                        let wr = geo.window(q, geo.sw, geo.pw, geo.kw, geo.w)
                                        var best = -Float.infinity, at = -1
                                        for a in tr {
                                            for i in hr {
                                                let row = (a * geo.h + i) * geo.w
                                                for j in wr {
                                                    let v = src[row + j]
                                                    if v > best || v.isNaN || at < 0 { best = v; at = row + j }
                                                }
                                            }
                                        }
                                        dst[o] = best
                                        idx[o] = Int32(at)
                                        o += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        })
        let saved = winners
        return record("maxPool3d", y, inputs: [x]) { _ in
            { g in
                var dx = [Float](repeating: 0, count: geo.inputCount)
                g.storage.withUnsafeBufferPointer { pg in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        ComputeContext.parallelFor(geo.planes) { planes in
                            for plane in planes {
                                let d = pdx.baseAddress! + plane * geo.planeIn
                                for o in (plane * geo.planeOut)..<((plane + 1) * geo.planeOut) {
                                    d[Int(saved[o])] += pg[o]
                                }
                            }
                        }
                    }
                }
                return [Tensor(shape: geo.inputShape, scalars: dx)]
            }
        }
    }

    /// Average pooling with a `kernel` window moved by `stride` over `x` zero-padded with `padding`;
    /// every window is divided by the full kernel volume (`count_include_pad=True`).
    public static func avgPool3d(
        _ x: Tensor, kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)
    ) -> Tensor {
        let geo = PoolGeometry(op: "avgPool3d", x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
        let divisor = Float(kernel.0 * kernel.1 * kernel.2)
        return averagePool("avgPool3d", x, geo, outputShape: geo.outputShape) { z, y, q in
            (geo.window(z, geo.st, geo.pt, geo.kt, geo.t), geo.window(y, geo.sh, geo.ph, geo.kh, geo.h),
             geo.window(q, geo.sw, geo.pw, geo.kw, geo.w), divisor)
        }
    }

    /// Adaptive average pooling to `outputSize` (T, H, W), as `F.adaptive_avg_pool3d`: output index
    /// `i` of an axis of extent `n` averages inputs `⌊i·n/out⌋ ..< ⌈(i+1)·n/out⌉`.
    /// `(1, 1, 1)` is global average pooling.
    public static func adaptiveAvgPool3d(_ x: Tensor, outputSize: (Int, Int, Int) = (1, 1, 1)) -> Tensor {
        precondition(outputSize.0 > 0 && outputSize.1 > 0 && outputSize.2 > 0,
                     "adaptiveAvgPool3d: output size \(outputSize) must be positive (input \(x.shape))")
        precondition(x.rank == 5, "adaptiveAvgPool3d: input \(x.shape) must be [N, C, T, H, W]")
        let (t, h, w) = (x.shape[2], x.shape[3], x.shape[4])
        let geo = PoolGeometry(adaptive: x.shape, output: outputSize)
        func range(_ i: Int, _ n: Int, _ out: Int) -> Range<Int> { (i * n / out)..<(((i + 1) * n + out - 1) / out) }
        return averagePool("adaptiveAvgPool3d", x, geo, outputShape: geo.outputShape) { z, y, q in
            let (a, b, c) = (range(z, t, outputSize.0), range(y, h, outputSize.1), range(q, w, outputSize.2))
            return (a, b, c, Float(a.count * b.count * c.count))
        }
    }

    /// Shared forward and VJP of the average pools: `windows(z, y, q)` gives the input ranges
    /// (already clipped to the input) and the divisor of one output element.
    private static func averagePool(
        _ op: String, _ x: Tensor, _ geo: PoolGeometry, outputShape: [Int],
        windows: @escaping (Int, Int, Int) -> (Range<Int>, Range<Int>, Range<Int>, Float)
    ) -> Tensor {
        let y = Tensor(shape: outputShape, unsafeUninitialized: { out in
            x.storage.withUnsafeBufferPointer { px in
                ComputeContext.parallelFor(geo.planes) { planes in
                    for plane in planes {
                        let src = px.baseAddress! + plane * geo.planeIn
                        let dst = out.baseAddress! + plane * geo.planeOut
                        var o = 0
                        for z in 0..<geo.ot {
                            for y in 0..<geo.oh {
                                for q in 0..<geo.ow {
                                    let (tr, hr, wr, divisor) = windows(z, y, q)
                                    var s: Float = 0
                                    for a in tr { for i in hr { let row = src + (a * geo.h + i) * geo.w; for j in wr { s += row[j] } } }
                                    dst[o] = s / divisor
                                    o += 1
                                }
                            }
                        }
                    }
                }
            }
        })
        return record(op, y, inputs: [x]) { _ in
            { g in
                var dx = [Float](repeating: 0, count: geo.inputCount)
                g.storage.withUnsafeBufferPointer { pg in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        ComputeContext.parallelFor(geo.planes) { planes in
                            for plane in planes {
                                let d = pdx.baseAddress! + plane * geo.planeIn
                                var o = plane * geo.planeOut
                                for z in 0..<geo.ot {
                                    for y in 0..<geo.oh {
                                        for q in 0..<geo.ow {
                                            let (tr, hr, wr, divisor) = windows(z, y, q)
                                            let share = pg[o] / divisor
                                            for a in tr { for i in hr { let row = d + (a * geo.h + i) * geo.w; for j in wr { row[j] += share } } }
                                            o += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                return [Tensor(shape: geo.inputShape, scalars: dx)]
            }
        }
    }
}

/// Shapes of one 3-D pooling call.
private struct PoolGeometry {
    let n, c, t, h, w, kt, kh, kw, st, sh, sw, pt, ph, pw, ot, oh, ow: Int
    var planes: Int { n * c }
    var planeIn: Int { t * h * w }
    var planeOut: Int { ot * oh * ow }
    var inputCount: Int { planes * planeIn }
    var outputCount: Int { planes * planeOut }
    var inputShape: [Int] { [n, c, t, h, w] }
    var outputShape: [Int] { [n, c, ot, oh, ow] }

    init(op: String, _ shape: [Int], kernel: (Int, Int, Int), stride: (Int, Int, Int), padding: (Int, Int, Int)) {
        precondition(shape.count == 5, "\(op): input \(shape) must be [N, C, T, H, W]")
        precondition(kernel.0 > 0 && kernel.1 > 0 && kernel.2 > 0 && stride.0 > 0 && stride.1 > 0 && stride.2 > 0,
                     "\(op): kernel \(kernel) and stride \(stride) must be positive (input \(shape))")
        precondition(padding.0 >= 0 && padding.1 >= 0 && padding.2 >= 0
                     && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1 && 2 * padding.2 <= kernel.2,
                     "\(op): padding \(padding) must be between 0 and half the kernel \(kernel) (input \(shape))")
        (n, c, t, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        (kt, kh, kw) = kernel
        (st, sh, sw) = stride
        (pt, ph, pw) = padding
        precondition(t + 2 * pt >= kt && h + 2 * ph >= kh && w + 2 * pw >= kw,
                     "\(op): kernel \(kernel) larger than the padded input \(shape) (padding \(padding))")
        ot = (t + 2 * pt - kt) / st + 1
        oh = (h + 2 * ph - kh) / sh + 1
        ow = (w + 2 * pw - kw) / sw + 1
    }

    /// Geometry of an adaptive pool (windows come from the caller; kernel fields unused).
    init(adaptive shape: [Int], output: (Int, Int, Int)) {
        (n, c, t, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        (kt, kh, kw, st, sh, sw, pt, ph, pw) = (1, 1, 1, 1, 1, 1, 0, 0, 0)
        (ot, oh, ow) = output
    }

    /// The input indices of output position `i` on one axis, clipped to the input.
    @inline(__always)
    func window(_ i: Int, _ stride: Int, _ pad: Int, _ kernel: Int, _ extent: Int) -> Range<Int> {
        let start = i * stride - pad
        return Swift.max(0, start)..<Swift.min(extent, start + kernel)
    }
}

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) through im2col and one
/// `cblas_sgemm` per sample.
///
/// For sample `s`, with `cols` the `[C·kh·kw, Hout·Wout]` matrix of input patches:
/// `out[s] = W·cols (+ b)`, which lands directly in `[O, Hout, Wout]` order. VJPs:
/// `dW = Σ_s dOut[s]·colsᵀ`, `db = Σ_{s,y,x} dOut`, `dx[s] = col2im(Wᵀ·dOut[s])` (col2im adds
/// overlapping patches back). Two layouts skip the general im2col: a 1×1 kernel with stride 1 and
/// no padding uses the input itself as `cols`, and non-overlapping patches (stride == kernel, no
/// padding: ViT patch embedding) are gathered as `[Hout·Wout, C·kh·kw]` rows of contiguous runs,
/// a pure rearrangement that BLAS reads transposed.
extension Tensor {
    /// Convolves `input` `[N, C, H, W]` with `weight` `[O, C, kh, kw]` and adds `bias` `[O]`.
    ///
    /// The output is `[N, O, Hout, Wout]` with `Hout = (H + 2·padding.0 − kh)/stride.0 + 1`
    /// (and likewise for the width). Groups and dilation are not supported.
    public static func conv2d(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
        stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
    ) -> Tensor {
        let geo = Conv2dGeometry(input: input.shape, weight: weight.shape, bias: bias?.shape,
                                 stride: stride, padding: padding)
        let value = Tensor(shape: [geo.n, geo.o, geo.oh, geo.ow]) { out in
            input.storage.withUnsafeBufferPointer { px in
                weight.storage.withUnsafeBufferPointer { pw in
                    let pb = bias?.storage
                    geo.forEachSampleChunk { samples, _ in
                        var scratch = [Float](repeating: 0, count: geo.layout == .pointwise ? 0 : geo.k * geo.l)
                        scratch.withUnsafeMutableBufferPointer { cols in
                            for s in samples {
                                let dst = out.baseAddress! + s * geo.o * geo.l
                                if let pb {
                                    for oc in 0..<geo.o { (dst + oc * geo.l).update(repeating: pb[oc], count: geo.l) }
                                }
                                let x = px.baseAddress! + s * geo.c * geo.h * geo.w
                                let b = geo.columns(of: x, into: cols.baseAddress)
                                let patchRows = geo.layout == .patchify
                                BLAS.sgemm(transposeA: false, transposeB: patchRows,
                                           m: geo.o, n: geo.l, k: geo.k,
                                           a: pw.baseAddress!, lda: geo.k,
                                           b: b, ldb: patchRows ? geo.k : geo.l,
                                           beta: pb == nil ? 0 : 1, c: dst, ldc: geo.l)
                            }
                        }
                    }
                }
            }
        }
        let (xd, wd) = (input.detached(), weight.detached())
        var inputs = [input, weight]
        if let bias { inputs.append(bias) }
        return record("conv2d", value, inputs: inputs) { needs in
            { g in
                let (dx, dw) = conv2dBackward(g, xd, wd, geo, needInput: needs[0], needWeight: needs[1])
                var grads: [Tensor?] = [dx, dw]
                if needs.count == 3 {
                    grads.append(needs[2] ? g.sum(axes: [0, 2, 3]) : nil)
                }
                return grads
            }
        }
    }

    private static func conv2dBackward(
        _ g: Tensor, _ x: Tensor, _ w: Tensor, _ geo: Conv2dGeometry, needInput: Bool, needWeight: Bool
    ) -> (Tensor?, Tensor?) {
        let (k, l, o) = (geo.k, geo.l, geo.o)
        let chunks = geo.sampleChunkCount
        // Each chunk of samples accumulates its own weight gradient; the partials are added after.
        var partialW = [Float](repeating: 0, count: needWeight ? chunks * o * k : 0)
        var dx = [Float](repeating: 0, count: needInput ? x.count : 0)
        g.storage.withUnsafeBufferPointer { pg in
            x.storage.withUnsafeBufferPointer { px in
                w.storage.withUnsafeBufferPointer { pw in
                    partialW.withUnsafeMutableBufferPointer { pdw in
                        dx.withUnsafeMutableBufferPointer { pdx in
                            geo.forEachSampleChunk { samples, chunk in
                                let patchRows = geo.layout == .patchify
                                var colsBuffer = [Float](repeating: 0, count: geo.layout == .pointwise ? 0 : k * l)
                                var gradCols = [Float](repeating: 0, count: needInput && geo.layout != .pointwise ? k * l : 0)
                                colsBuffer.withUnsafeMutableBufferPointer { cols in
                                    gradCols.withUnsafeMutableBufferPointer { gcols in
                                        for s in samples {
                                            let gs = pg.baseAddress! + s * o * l
                                            let xs = px.baseAddress! + s * geo.c * geo.h * geo.w
                                            if needWeight {
                                                let b = geo.columns(of: xs, into: cols.baseAddress)
                                                BLAS.sgemm(transposeA: false, transposeB: !patchRows,
                                                           m: o, n: k, k: l,
                                                           a: gs, lda: l, b: b, ldb: patchRows ? k : l,
                                                           beta: 1, c: pdw.baseAddress! + chunk * o * k, ldc: k)
                                            }
                                            guard needInput else { continue }
                                            let dxs = pdx.baseAddress! + s * geo.c * geo.h * geo.w
                                            switch geo.layout {
                                            case .pointwise:
                                                BLAS.sgemm(transposeA: true, transposeB: false, m: k, n: l, k: o,
                                                           a: pw.baseAddress!, lda: k, b: gs, ldb: l,
                                                           c: dxs, ldc: l)
                                            case .patchify:
                                                BLAS.sgemm(transposeA: true, transposeB: false, m: l, n: k, k: o,
                                                           a: gs, lda: l, b: pw.baseAddress!, ldb: k,
                                                           c: gcols.baseAddress!, ldc: k)
                                                geo.scatterPatches(gcols.baseAddress!, into: dxs)
                                            case .general:
                                                BLAS.sgemm(transposeA: true, transposeB: false, m: k, n: l, k: o,
                                                           a: pw.baseAddress!, lda: k, b: gs, ldb: l,
                                                           c: gcols.baseAddress!, ldc: l)
                                                geo.col2im(gcols.baseAddress!, addingInto: dxs)
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
        var dw: Tensor? = nil
        if needWeight {
            var total = [Float](partialW.prefix(o * k))
            for c in 1..<Swift.max(chunks, 1) {
                for i in 0..<(o * k) { total[i] += partialW[c * o * k + i] }
            }
            dw = Tensor(shape: w.shape, scalars: total)
        }
        return (needInput ? Tensor(shape: x.shape, scalars: dx) : nil, dw)
    }
}

/// Shapes, checks and data movement of one `conv2d` call.
private struct Conv2dGeometry {
    enum Layout { case pointwise, patchify, general }

    let n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow: Int
    /// Patch length `C·kh·kw` (the GEMM's inner dimension).
    var k: Int { c * kh * kw }
    /// Output positions per sample `Hout·Wout`.
    var l: Int { oh * ow }
    let layout: Layout

    init(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: (Int, Int)) {
        precondition(input.count == 4 && weight.count == 4,
                     "conv2d: input \(input) must be [N, C, H, W] and weight \(weight) [O, C, kh, kw]")
        precondition(input[1] == weight[1],
                     "conv2d: input \(input) has \(input[1]) channels but weight \(weight) expects \(weight[1])")
        precondition(stride.0 > 0 && stride.1 > 0 && padding.0 >= 0 && padding.1 >= 0,
                     "conv2d: stride \(stride) must be positive and padding \(padding) non-negative (input \(input), weight \(weight))")
        if let bias {
            precondition(bias == [weight[0]], "conv2d: bias \(bias) for weight \(weight)")
        }
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (o, kh, kw) = (weight[0], weight[2], weight[3])
        (sh, sw, ph, pw) = (stride.0, stride.1, padding.0, padding.1)
        precondition(h + 2 * ph >= kh && w + 2 * pw >= kw && kh > 0 && kw > 0,
                     "conv2d: kernel \(weight) larger than padded input \(input) with padding \(padding)")
        oh = (h + 2 * ph - kh) / sh + 1
        ow = (w + 2 * pw - kw) / sw + 1
        if kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 {
            layout = .pointwise
        } else if sh == kh && sw == kw && ph == 0 && pw == 0 {
            layout = .patchify
        } else {
            layout = .general
        }
    }

    /// Samples are split into this many chunks, one per thread (each with single-threaded BLAS);
    /// a single sample runs on the calling thread, where BLAS may use every core.
    var sampleChunkCount: Int { Swift.max(1, Swift.min(ComputeContext.threadCount, n)) }

    func forEachSampleChunk(_ body: (Range<Int>, Int) -> Void) {
        let chunks = sampleChunkCount
        ComputeContext.parallelFor(chunks) { range in
            for chunk in range { body((n * chunk / chunks)..<(n * (chunk + 1) / chunks), chunk) }
        }
    }

    /// The patch matrix of one sample (`[k, l]`, or `[l, k]` for `.patchify`), written to
    /// `buffer` unless the input already is that matrix.
    func columns(of x: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        switch layout {
        case .pointwise: return x
        case .patchify: gatherPatches(x, into: buffer!)
        case .general: im2col(x, into: buffer!)
        }
        return UnsafePointer(buffer!)
    }

    /// Output columns `q` whose input column `q·sw − pw + j` lies inside the image.
    private func validColumns(_ j: Int) -> Range<Int> {
        let first = pw - j
        let lo = first <= 0 ? 0 : (first + sw - 1) / sw
        let end = w + pw - j
        let hi = end <= 0 ? 0 : Swift.min(ow, (end + sw - 1) / sw)
        return lo..<Swift.max(lo, hi)
    }

    private func im2col(_ x: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>) {
        for ci in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((ci * kh + i) * kw + j) * l
                    let valid = validColumns(j)
                    for y in 0..<oh {
                        let dst = row + y * ow
                        let iy = y * sh - ph + i
                        guard iy >= 0 && iy < h else {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = x + (ci * h + iy) * w - pw + j
                        for q in 0..<valid.lowerBound { dst[q] = 0 }
                        if sw == 1 {
                            for q in valid { dst[q] = src[q] }
                        } else {
                            for q in valid { dst[q] = src[q * sw] }
                        }
                        for q in valid.upperBound..<ow { dst[q] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of ``im2col(_:into:)``: adds every patch entry back onto its input pixel.
    func col2im(_ cols: UnsafePointer<Float>, addingInto x: UnsafeMutablePointer<Float>) {
        for ci in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((ci * kh + i) * kw + j) * l
                    let valid = validColumns(j)
                    for y in 0..<oh {
                        let iy = y * sh - ph + i
                        guard iy >= 0 && iy < h else { continue }
                        let src = row + y * ow
                        let dst = x + (ci * h + iy) * w - pw + j
                        if sw == 1 {
                            for q in valid { dst[q] += src[q] }
                        } else {
                            for q in valid { dst[q * sw] += src[q] }
                        }
                    }
                }
            }
        }
    }

    /// Non-overlapping patches as rows: `patches[y·ow + q][(ci·kh + i)·kw + j] = x[ci, y·kh + i, q·kw + j]`.
    private func gatherPatches(_ x: UnsafePointer<Float>, into patches: UnsafeMutablePointer<Float>) {
        for y in 0..<oh {
            for q in 0..<ow {
                let dst = patches + (y * ow + q) * k
                for ci in 0..<c {
                    for i in 0..<kh {
                        (dst + (ci * kh + i) * kw).update(from: x + (ci * h + y * kh + i) * w + q * kw, count: kw)
                    }
                }
            }
        }
    }

    /// The adjoint of ``gatherPatches(_:into:)``; pixels no patch covers (when the size is not a
    /// multiple of the kernel) keep the zero they start with.
    func scatterPatches(_ patches: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        for y in 0..<oh {
            for q in 0..<ow {
                let src = patches + (y * ow + q) * k
                for ci in 0..<c {
                    for i in 0..<kh {
                        (x + (ci * h + y * kh + i) * w + q * kw).update(from: src + (ci * kh + i) * kw, count: kw)
                    }
                }
            }
        }
    }
}

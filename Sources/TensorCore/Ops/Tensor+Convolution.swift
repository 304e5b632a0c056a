/// 2-D and 3-D convolution (cross-correlation, as `torch.nn.functional.conv2d` / `conv3d`) through
/// vol2col (im2col over time, height and width) and a matrix product.
///
/// The products go through `BLAS.parallelSgemm(packed: true)`: the AVX-512 kernel table's own
/// packed sgemm (`GEMMAVX512.c`) where that table is active, `cblas_sgemm` otherwise (and under
/// `VIDEOSSL_KERNELS=avx2`). The development machine runs OpenBLAS with `OPENBLAS_CORETYPE=Haswell`,
/// that is its AVX2 kernels: about 100 GFLOP/s per core on these shapes against 120–190 for the
/// packed AVX-512 one, which took the r3d_18 training step from 0.224 to 0.318 clips/s on two
/// threads, 0.93× to 1.17× PyTorch (medians of four alternating runs; Benchmarks/README.md,
/// CNNBenchmarks).
///
/// A 2-D convolution is the 3-D one with one frame and a kernel one frame deep, so both share one
/// geometry, one kernel and one VJP. For sample `s`, with `cols` the `[C·kt·kh·kw, Tout·Hout·Wout]`
/// matrix of input patches: `out[s] = W·cols (+ b)`, which lands directly in `[O, Tout, Hout, Wout]`
/// order. VJPs: `dW = Σ_s dOut[s]·colsᵀ`, `db = Σ_{s,z,y,x} dOut`, `dx[s] = col2vol(Wᵀ·dOut[s])`
/// (col2vol adds overlapping patches back).
///
/// The general layout builds `cols` for a band of output rows at a time (about 4 MiB of columns, at
/// least 256 columns), not for the whole clip: a 3×3×3 convolution over 64 channels of 16×56×56
/// would otherwise need 350 MB of columns per sample, and a band small enough to stay in cache is
/// written by vol2col and read back by the GEMM's packing without a trip to memory. Samples are spread over ``ComputeContext``'s threads; with fewer
/// samples than threads, each sample's column building, products and scatter are themselves split
/// (over input channels and over output rows), so one clip still uses every core.
///
/// Two layouts skip the general vol2col: a 1×1×1 kernel with stride 1 and no padding uses the input
/// itself as `cols`, and non-overlapping patches (stride == kernel, no padding: ViT patch and
/// VideoMAE tubelet embedding) are gathered as `[L, K]` rows of contiguous runs, a pure
/// rearrangement that BLAS reads transposed.
extension Tensor {
    /// Convolves `input` `[N, C, H, W]` with `weight` `[O, C, kh, kw]` and adds `bias` `[O]`.
    ///
    /// The output is `[N, O, Hout, Wout]` with `Hout = (H + 2·padding.0 − kh)/stride.0 + 1`
    /// (and likewise for the width). Groups and dilation are not supported.
    public static func conv2d(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
        stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
    ) -> Tensor {
        precondition(input.rank == 4 && weight.rank == 4,
                     "conv2d: input \(input.shape) must be [N, C, H, W] and weight \(weight.shape) [O, C, kh, kw]")
        let s = input.shape, k = weight.shape
        let geo = ConvolutionGeometry(
            op: "conv2d", input: [s[0], s[1], 1, s[2], s[3]], weight: [k[0], k[1], 1, k[2], k[3]],
            bias: bias?.shape, stride: (1, stride.0, stride.1), padding: (0, padding.0, padding.1),
            shapes: "input \(input.shape), weight \(weight.shape)")
        return convolution("conv2d", input, weight: weight, bias: bias, geo,
                           outputShape: [geo.n, geo.o, geo.oh, geo.ow])
    }

    /// Convolves `input` `[N, C, T, H, W]` with `weight` `[O, C, kt, kh, kw]` and adds `bias` `[O]`,
    /// as `torch.nn.functional.conv3d` (dilation 1, groups 1).
    ///
    /// The output is `[N, O, Tout, Hout, Wout]` with `Tout = (T + 2·padding.0 − kt)/stride.0 + 1`
    /// (and likewise for the height and width).
    public static func conv3d(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil,
        stride: (Int, Int, Int) = (1, 1, 1), padding: (Int, Int, Int) = (0, 0, 0)
    ) -> Tensor {
        precondition(input.rank == 5 && weight.rank == 5,
                     "conv3d: input \(input.shape) must be [N, C, T, H, W] and weight \(weight.shape) [O, C, kt, kh, kw]")
        let geo = ConvolutionGeometry(
            op: "conv3d", input: input.shape, weight: weight.shape, bias: bias?.shape,
            stride: stride, padding: padding, shapes: "input \(input.shape), weight \(weight.shape)")
        return convolution("conv3d", input, weight: weight, bias: bias, geo,
                           outputShape: [geo.n, geo.o, geo.ot, geo.oh, geo.ow])
    }

    private static func convolution(
        _ op: String, _ input: Tensor, weight: Tensor, bias: Tensor?, _ geo: ConvolutionGeometry,
        outputShape: [Int]
    ) -> Tensor {
        let value = Tensor(shape: outputShape, unsafeUninitialized: { out in
            input.storage.withUnsafeBufferPointer { px in
                weight.storage.withUnsafeBufferPointer { pw in
                    forward(px.baseAddress!, weight: pw.baseAddress!, bias: bias?.storage, geo, into: out.baseAddress!)
                }
            }
        })
        let (xd, wd) = (input.detached(), weight.detached())
        var inputs = [input, weight]
        if let bias { inputs.append(bias) }
        return record(op, value, inputs: inputs) { needs in
            { g in
                let (dx, dw) = convolutionBackward(g, xd, wd, geo, needInput: needs[0], needWeight: needs[1])
                var grads: [Tensor?] = [dx, dw]
                if needs.count == 3 {
                    grads.append(needs[2] ? g.sum(axes: [0] + Array(2..<g.rank)) : nil)
                }
                return grads
            }
        }
    }

    /// The forward product of every sample of `px` into `out` (`[N, O, L]`).
    private static func forward(
        _ px: UnsafePointer<Float>, weight pw: UnsafePointer<Float>, bias pb: [Float]?, _ geo: ConvolutionGeometry,
        into outBase: UnsafeMutablePointer<Float>
    ) {
        geo.forEachSampleChunk { samples, _ in
            var scratch = [Float](repeating: 0, count: geo.scratchCount)
            scratch.withUnsafeMutableBufferPointer { cols in
                for s in samples {
                    let dst = outBase + s * geo.o * geo.l
                    if let pb {
                        for oc in 0..<geo.o { (dst + oc * geo.l).update(repeating: pb[oc], count: geo.l) }
                    }
                    let beta: Float = pb == nil ? 0 : 1
                    let x = px + s * geo.inputSampleCount
                    switch geo.layout {
                    case .pointwise:
                        BLAS.parallelSgemm(transposeA: false, transposeB: false,
                                           m: geo.o, n: geo.l, k: geo.k, a: pw, lda: geo.k,
                                           b: x, ldb: geo.l, beta: beta, c: dst, ldc: geo.l, packed: true)
                    case .patchify:
                        geo.gatherPatches(x, into: cols.baseAddress!)
                        BLAS.parallelSgemm(transposeA: false, transposeB: true,
                                           m: geo.o, n: geo.l, k: geo.k, a: pw, lda: geo.k,
                                           b: cols.baseAddress!, ldb: geo.k, beta: beta, c: dst, ldc: geo.l, packed: true)
                    case .general:
                        for tile in geo.tiles {
                            let lt = tile.count * geo.ow
                            geo.vol2col(x, rows: tile, into: cols.baseAddress!)
                            BLAS.parallelSgemm(transposeA: false, transposeB: false,
                                               m: geo.o, n: lt, k: geo.k, a: pw, lda: geo.k,
                                               b: cols.baseAddress!, ldb: lt, beta: beta,
                                               c: dst + tile.lowerBound * geo.ow, ldc: geo.l, packed: true)
                        }
                    }
                }
            }
        }
    }

    private static func convolutionBackward(
        _ g: Tensor, _ x: Tensor, _ w: Tensor, _ geo: ConvolutionGeometry, needInput: Bool, needWeight: Bool
    ) -> (Tensor?, Tensor?) {
        let (k, l, o) = (geo.k, geo.l, geo.o)
        let chunks = geo.sampleChunkCount
        // Each chunk of samples accumulates its own weight gradient; the partials are added after.
        var partialW = [Float](repeating: 0, count: needWeight ? chunks * o * k : 0)
        var dx = [Float](repeating: 0, count: needInput ? x.count : 0)
        // With unit strides the input gradient is itself a convolution: of `g` with the kernel
        // flipped in every axis and its channel axes swapped, padded by `k − 1 − p`. That runs the
        // forward path (vol2col of `g`, one well-shaped GEMM with inner size O·kt·kh·kw) instead of
        // a GEMM of inner size O followed by col2vol's scatter.
        let gradientAsConvolution = needInput && geo.layout == .general && geo.hasUnitStride
        let columnInputGradient = needInput && !gradientAsConvolution
        g.storage.withUnsafeBufferPointer { pg in
            x.storage.withUnsafeBufferPointer { px in
                w.storage.withUnsafeBufferPointer { pw in
                    partialW.withUnsafeMutableBufferPointer { pdw in
                        dx.withUnsafeMutableBufferPointer { pdx in
                            geo.forEachSampleChunk { samples, chunk in
                                var colsBuffer = [Float](repeating: 0, count: needWeight ? geo.scratchCount : 0)
                                var gradCols = [Float](repeating: 0, count: columnInputGradient ? geo.scratchCount : 0)
                                colsBuffer.withUnsafeMutableBufferPointer { cols in
                                    gradCols.withUnsafeMutableBufferPointer { gcols in
                                        let dwChunk = needWeight ? pdw.baseAddress! + chunk * o * k : nil
                                        for s in samples {
                                            let gs = pg.baseAddress! + s * o * l
                                            let xs = px.baseAddress! + s * geo.inputSampleCount
                                            let dxs = columnInputGradient ? pdx.baseAddress! + s * geo.inputSampleCount : nil
                                            switch geo.layout {
                                            case .pointwise:
                                                if let dwChunk {
                                                    BLAS.parallelSgemm(transposeA: false, transposeB: true, m: o, n: k, k: l,
                                                                       a: gs, lda: l, b: xs, ldb: l, beta: 1, c: dwChunk, ldc: k, packed: true)
                                                }
                                                if let dxs {
                                                    BLAS.parallelSgemm(transposeA: true, transposeB: false, m: k, n: l, k: o,
                                                                       a: pw.baseAddress!, lda: k, b: gs, ldb: l, c: dxs, ldc: l, packed: true)
                                                }
                                            case .patchify:
                                                if let dwChunk {
                                                    geo.gatherPatches(xs, into: cols.baseAddress!)
                                                    BLAS.parallelSgemm(transposeA: false, transposeB: false, m: o, n: k, k: l,
                                                                       a: gs, lda: l, b: cols.baseAddress!, ldb: k,
                                                                       beta: 1, c: dwChunk, ldc: k, packed: true)
                                                }
                                                if let dxs {
                                                    BLAS.parallelSgemm(transposeA: true, transposeB: false, m: l, n: k, k: o,
                                                                       a: gs, lda: l, b: pw.baseAddress!, ldb: k,
                                                                       c: gcols.baseAddress!, ldc: k, packed: true)
                                                    geo.scatterPatches(gcols.baseAddress!, into: dxs)
                                                }
                                            case .general:
                                                for tile in geo.tiles {
                                                    let lt = tile.count * geo.ow
                                                    let gt = gs + tile.lowerBound * geo.ow
                                                    if let dwChunk {
                                                        geo.vol2col(xs, rows: tile, into: cols.baseAddress!)
                                                        BLAS.parallelSgemm(transposeA: false, transposeB: true, m: o, n: k, k: lt,
                                                                           a: gt, lda: l, b: cols.baseAddress!, ldb: lt,
                                                                           beta: 1, c: dwChunk, ldc: k, packed: true)
                                                    }
                                                    if let dxs {
                                                        BLAS.parallelSgemm(transposeA: true, transposeB: false, m: k, n: lt, k: o,
                                                                           a: pw.baseAddress!, lda: k, b: gt, ldb: l,
                                                                           c: gcols.baseAddress!, ldc: lt, packed: true)
                                                        geo.col2vol(gcols.baseAddress!, rows: tile, addingInto: dxs)
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
            }
        }
        if gradientAsConvolution {
            let flipped = geo.flippedTransposedKernel(w)
            let transposed = ConvolutionGeometry(
                op: "conv3d (input gradient)", input: [geo.n, geo.o, geo.ot, geo.oh, geo.ow],
                weight: [geo.c, geo.o, geo.kt, geo.kh, geo.kw], bias: nil, stride: (1, 1, 1),
                padding: (geo.kt - 1 - geo.pt, geo.kh - 1 - geo.ph, geo.kw - 1 - geo.pw), shapes: "gradient \(g.shape)")
            g.storage.withUnsafeBufferPointer { pg in
                flipped.withUnsafeBufferPointer { pf in
                    dx.withUnsafeMutableBufferPointer { pdx in
                        forward(pg.baseAddress!, weight: pf.baseAddress!, bias: nil, transposed, into: pdx.baseAddress!)
                    }
                }
            }
        }
        var dw: Tensor? = nil
        if needWeight {
            var total = [Float](partialW.prefix(o * k))
            total.withUnsafeMutableBufferPointer { pt in
                partialW.withUnsafeBufferPointer { pp in
                    for c in 1..<Swift.max(chunks, 1) {
                        Kernels.table.accumulate(pt.baseAddress!, pp.baseAddress! + c * o * k, o * k)
                    }
                }
            }
            dw = Tensor(shape: w.shape, scalars: total)
        }
        return (needInput ? Tensor(shape: x.shape, scalars: dx) : nil, dw)
    }
}

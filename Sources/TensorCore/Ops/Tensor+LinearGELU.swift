/// `gelu(x·Wᵀ + b)` as one primitive: the first half of a transformer MLP.
///
/// Forward: the rows are split over the compute threads, and each thread runs its rows in chunks:
/// the bias goes into the chunk, one single-threaded sgemm accumulates onto it, and GELU reads the
/// chunk back while it is still in cache. Without gradient recording the pre-activation lives only
/// in a per-thread chunk buffer; with it, the pre-activation `h` is kept for the VJP.
///
/// VJP: `dh = g·gelu′(h)` (with the bias gradient `Σ_rows dh` summed chunk by chunk as `dh` is
/// written), then those of ``Tensor/linear(_:weight:bias:)``: `dx = dh·W`, `dW = dhᵀ·x`.
extension Tensor {
    /// `gelu(linear(x, weight, bias))` over the last dimension of `x`, with the exact (erf) GELU.
    ///
    /// - Precondition: `weight` is `[out, in]` with `in` the last extent of `x`; `bias`, when
    ///   given, is `[out]`.
    public static func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        linearGELU(x, weight: weight, bias: bias, chunkElements: 1 << 20)
    }

    /// ``linearGELU(_:weight:bias:)`` with chunks of about `chunkElements` pre-activations per thread
    /// (tests use small chunks to cover the chunk boundaries with small tensors).
    package static func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor?, chunkElements: Int) -> Tensor {
        precondition(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
                     "linearGELU: input \(x.shape) does not match weight \(weight.shape)")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias {
            precondition(bias.shape == [outFeatures], "linearGELU: bias \(bias.shape) for weight \(weight.shape)")
        }
        let rows = x.count / Swift.max(inFeatures, 1)
        let outShape = Array(x.shape.dropLast()) + [outFeatures]
        let recording = GradMode.isEnabled && (x.requiresGrad || weight.requiresGrad || bias?.requiresGrad == true)
        let plan = LinearGELUPlan(rows: rows, outFeatures: outFeatures, inFeatures: inFeatures,
                                  chunkElements: chunkElements)
        var preActivation: [Float] = recording
            ? [Float](unsafeUninitializedCapacity: rows * outFeatures) { _, n in n = rows * outFeatures } : []
        let value = Tensor(shape: outShape) { out in
            x.storage.withUnsafeBufferPointer { px in
                weight.storage.withUnsafeBufferPointer { pw in
                    withOptionalStorage(bias) { pb in
                        preActivation.withUnsafeMutableBufferPointer { ph in
                            guard rows > 0, outFeatures > 0, let xp = px.baseAddress, let wp = pw.baseAddress,
                                  let yp = out.baseAddress else { return }
                            plan.forward(x: xp, weight: wp, bias: pb, preActivation: recording ? ph.baseAddress : nil,
                                         out: yp)
                        }
                    }
                }
            }
        }
        guard recording else { return value }
        let (xd, wd) = (x.detached(), weight.detached())
        let h = Tensor(shape: [rows, outFeatures], storage: preActivation, node: nil)
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record("linearGELU", value, inputs: inputs) { needs in
            { g in
                let needBias = needs.count == 3 && needs[2]
                let (dh, db) = plan.backward(g, preActivation: h, needBias: needBias)
                var grads: [Tensor?] = [nil, nil]
                if needs[0] { grads[0] = matmulRaw(dh, wd).reshapedRaw(xd.shape) }
                if needs[1] { grads[1] = matmulRaw(dh, xd.reshapedRaw([rows, inFeatures]), transposeA: true) }
                if needs.count == 3 { grads.append(db) }
                return grads
            }
        }
    }
}

/// How ``Tensor/linearGELU(_:weight:bias:)`` cuts its rows.
struct LinearGELUPlan {
    let rows: Int, outFeatures: Int, inFeatures: Int
    /// Pre-activations per chunk: 2²⁰ (4 MiB of `h`) stays in the last-level cache until GELU reads
    /// it. Chunks of 64 to 336 rows (L2-sized) measured slower: every sgemm call repacks the weight.
    let chunkElements: Int

    /// Rows per chunk, a multiple of 16.
    var chunkRows: Int { Swift.max(16, chunkElements / Swift.max(1, outFeatures) / 16 * 16) }

    /// Each thread's rows, on multiples of 16 (whole sgemm micro-tiles) as in ``BLAS/parallelSgemm``.
    func threadBlocks() -> Int {
        let small = rows * outFeatures * inFeatures < 1 << 19 || ComputeContext.isInsideParallelRegion
        return small ? 1 : Swift.max(1, Swift.min(ComputeContext.threadCount, rows / 16))
    }

    func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        preActivation: UnsafeMutablePointer<Float>?, out: UnsafeMutablePointer<Float>
    ) {
        let blocks = threadBlocks(), tiles = (rows + 15) / 16, chunk = chunkRows
        let (n, k) = (outFeatures, inFeatures)
        ComputeContext.parallelFor(blocks) { range in
            let scratchCount = preActivation == nil ? Swift.min(chunk, rows) * n : 0
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                for block in range {
                    var lo = Swift.min(rows, tiles * block / blocks * 16)
                    let hi = Swift.min(rows, tiles * (block + 1) / blocks * 16)
                    while lo < hi {
                        let m = Swift.min(chunk, hi - lo)
                        let h = preActivation.map { $0 + lo * n } ?? scratch.baseAddress!
                        if let bias {
                            for i in 0..<m { (h + i * n).update(from: bias, count: n) }
                        }
                        BLAS.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: x + lo * k, lda: k,
                                   b: weight, ldb: k, beta: bias == nil ? 0 : 1, c: h, ldc: n)
                        Kernels.table.gelu_forward(h, out + lo * n, m * n)
                        lo += m
                    }
                }
            }
        }
    }

    /// `dh = g·gelu′(h)` and, when asked, `Σ_rows dh`.
    func backward(_ g: Tensor, preActivation h: Tensor, needBias: Bool) -> (dh: Tensor, db: Tensor?) {
        let blocks = threadBlocks(), tiles = (rows + 15) / 16, chunk = chunkRows, n = outFeatures
        var partials = [Float](repeating: 0, count: needBias ? blocks * n : 0)
        let dh = Tensor(shape: [rows, n]) { out in
            g.storage.withUnsafeBufferPointer { pg in
                h.storage.withUnsafeBufferPointer { ph in
                    partials.withUnsafeMutableBufferPointer { pp in
                        guard rows > 0, n > 0, let gp = pg.baseAddress, let hp = ph.baseAddress,
                              let dp = out.baseAddress else { return }
                        let sums = needBias ? pp.baseAddress : nil
                        ComputeContext.parallelFor(blocks) { range in
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: sums == nil ? 0 : n) { column in
                                for block in range {
                                    var lo = Swift.min(rows, tiles * block / blocks * 16)
                                    let hi = Swift.min(rows, tiles * (block + 1) / blocks * 16)
                                    while lo < hi {
                                        let m = Swift.min(chunk, hi - lo), offset = lo * n
                                        Kernels.table.gelu_backward(hp + offset, gp + offset, dp + offset, m * n)
                                        if let sums {
                                            // Column sums of the chunk just written, while it is in cache.
                                            Kernels.table.sum_rows(dp + offset, m, n, n, column.baseAddress!)
                                            Kernels.table.accumulate(sums + block * n, column.baseAddress!, n)
                                        }
                                        lo += m
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard needBias else { return (dh, nil) }
        var total = [Float](repeating: 0, count: n)
        for block in 0..<blocks {
            for j in 0..<n { total[j] += partials[block * n + j] }
        }
        return (dh, Tensor(shape: [n], scalars: total))
    }
}

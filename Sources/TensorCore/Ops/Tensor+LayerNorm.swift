/// Layer normalisation over the last dimension, as one fused primitive.
///
/// Forward, per row of `D` values: `x̂ = (x − mean)·rstd` with `rstd = 1/√(var + ε)` and the biased
/// variance (PyTorch's `F.layer_norm`), then `y = x̂·w + b`. The mean and `rstd` of every row are
/// saved for the VJP:
/// `dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))` with `ĝ = g·w`; `dw = Σ_rows g·x̂`; `db = Σ_rows g`.
extension Tensor {
    /// Normalises `x` over its last dimension and applies an optional elementwise affine
    /// transform, as `torch.nn.functional.layer_norm(x, [D], weight, bias, eps)`.
    ///
    /// - Precondition: `weight` and `bias`, when given, have shape `[D]` with `D` the last extent
    ///   of `x`.
    public static func layerNorm(
        _ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5
    ) -> Tensor {
        precondition(x.rank >= 1, "layerNorm: needs rank ≥ 1, got shape \(x.shape)")
        let d = x.shape[x.rank - 1]
        if let weight {
            precondition(weight.shape == [d], "layerNorm: weight \(weight.shape) for input \(x.shape)")
        }
        if let bias {
            precondition(bias.shape == [d], "layerNorm: bias \(bias.shape) for input \(x.shape)")
        }
        let rows = d == 0 ? 0 : x.count / d
        var mean = [Float](repeating: 0, count: rows)
        var rstd = [Float](repeating: 0, count: rows)
        let y = Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(weight) { pw in
                    withOptionalStorage(bias) { pb in
                        mean.withUnsafeMutableBufferPointer { pm in
                            rstd.withUnsafeMutableBufferPointer { pr in
                                guard rows > 0, let src = px.baseAddress, let dst = out.baseAddress else { return }
                                let (meanOut, rstdOut) = (pm.baseAddress!, pr.baseAddress!)
                                ComputeContext.parallelFor(rows, minimumChunk: layerNormRowsPerChunk(d)) { range in
                                    let r = range.lowerBound
                                    Kernels.table.layer_norm_rows(src + r * d, pw, pb, dst + r * d, meanOut + r,
                                                                  rstdOut + r, range.count, d, epsilon)
                                }
                            }
                        }
                    }
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let xd = x.detached(), wd = weight?.detached()
        let (savedMean, savedRstd) = (mean, rstd)
        let hasWeight = weight != nil, hasBias = bias != nil
        return record("layerNorm", y, inputs: inputs) { needs in
            { g in
                let grads = layerNormBackward(
                    g, xd, weight: wd, mean: savedMean, rstd: savedRstd, rows: rows, d: d,
                    needX: needs[0], needWeight: hasWeight && needs[1],
                    needBias: hasBias && needs[hasWeight ? 2 : 1])
                var result: [Tensor?] = [grads.x]
                if hasWeight { result.append(grads.weight) }
                if hasBias { result.append(grads.bias) }
                return result
            }
        }
    }

    private static func layerNormRowsPerChunk(_ d: Int) -> Int {
        Swift.max(1, 16_384 / Swift.max(1, d))
    }

    private static func layerNormBackward(
        _ g: Tensor, _ x: Tensor, weight: Tensor?, mean: [Float], rstd: [Float], rows: Int, d: Int,
        needX: Bool, needWeight: Bool, needBias: Bool
    ) -> (x: Tensor?, weight: Tensor?, bias: Tensor?) {
        // Weight and bias gradients are sums over rows: each chunk accumulates its own partial
        // row so that threads never write to the same memory, then the partials are added.
        let chunks = Swift.max(1, Swift.min(ComputeContext.threadCount, rows / layerNormRowsPerChunk(d)))
        let needParams = needWeight || needBias
        var partials = [Float](repeating: 0, count: needParams ? 2 * chunks * d : 0)
        var gx = needX ? [Float](unsafeUninitializedCapacity: rows * d) { _, n in n = rows * d } : []
        g.storage.withUnsafeBufferPointer { pg in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(weight) { pw in
                    mean.withUnsafeBufferPointer { pm in
                        rstd.withUnsafeBufferPointer { pr in
                            partials.withUnsafeMutableBufferPointer { pp in
                                gx.withUnsafeMutableBufferPointer { pdx in
                                    guard rows > 0, let gp = pg.baseAddress, let xp = px.baseAddress else { return }
                                    // An empty array may still have a base address: decide by the flags.
                                    let dxp = needX ? pdx.baseAddress : nil
                                    let pap = needParams ? pp.baseAddress : nil
                                    ComputeContext.parallelFor(chunks) { chunkRange in
                                        for c in chunkRange {
                                            let dw = pap.map { $0 + 2 * c * d }, db = dw.map { $0 + d }
                                            let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
                                            Kernels.table.layer_norm_backward_rows(
                                                gp + lo * d, xp + lo * d, pw, pm.baseAddress! + lo,
                                                pr.baseAddress! + lo, dxp.map { $0 + lo * d },
                                                needWeight ? dw : nil, needBias ? db : nil, hi - lo, d)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var dw: Tensor? = nil, db: Tensor? = nil
        if needParams {
            var wSum = [Float](repeating: 0, count: d), bSum = [Float](repeating: 0, count: d)
            for c in 0..<chunks {
                for j in 0..<d {
                    wSum[j] += partials[2 * c * d + j]
                    bSum[j] += partials[2 * c * d + d + j]
                }
            }
            if needWeight { dw = Tensor(shape: [d], scalars: wSum) }
            if needBias { db = Tensor(shape: [d], scalars: bSum) }
        }
        return (needX ? Tensor(shape: x.shape, scalars: gx) : nil, dw, db)
    }
}

/// Batch normalisation over every axis but the channel axis 1, as one fused primitive for any rank
/// ≥ 2 (`BatchNorm1d` on `[N, C]` or `[N, C, L]`, `BatchNorm2d`, `BatchNorm3d`).
///
/// With `M = N·(spatial size)` values per channel, `mean` and the biased variance `var` over them
/// and `rstd = 1/√(var + ε)`: `x̂ = (x − mean)·rstd`, `y = x̂·γ + β`.
///
/// - Training (batch statistics): `dx = γ·rstd·(g − mean(g) − x̂·mean(g·x̂))`, `dγ = Σ g·x̂`,
///   `dβ = Σ g` (the statistics depend on `x`, so the two means appear).
/// - Inference (given statistics): the map is affine per channel, `dx = γ·rstd·g`.
///
/// With `relu`, the output is `max(y, 0)` in the same pass (conv → BN → ReLU is the unit of every 3D
/// CNN) and the VJP first zeroes the gradient where the output is not positive.
///
/// Channels are independent and split over ``ComputeContext``'s threads; each contiguous row is
/// summed by the vectorised C kernels and the rows accumulate in `Double`, so millions of values
/// per channel keep Float32 accuracy.
extension Tensor {
    /// Normalises `x` `[N, C, ...]` with the statistics of this batch, as
    /// `F.batch_norm(x, ..., training=True)`.
    ///
    /// Returns the output and, detached, the batch mean and the **biased** variance `[C]`; the
    /// caller updates running statistics with PyTorch's unbiased variance `var·M/(M − 1)`
    /// (``BatchNorm`` does).
    ///
    /// - Precondition: rank ≥ 2, at least two values per channel, and `weight`/`bias` of shape `[C]`.
    public static func batchNormTraining(
        _ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5, relu: Bool = false
    ) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let geo = BatchNormGeometry(op: "batchNormTraining", x.shape, weight: weight?.shape, bias: bias?.shape)
        precondition(geo.perChannel > 1,
                     "batchNormTraining: input \(x.shape) has \(geo.perChannel) value per channel; batch statistics need more than one")
        var mean = [Float](repeating: 0, count: geo.c)
        var variance = [Float](repeating: 0, count: geo.c)
        let y = Tensor(shape: x.shape, unsafeUninitialized: { out in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(weight) { pw in
                    withOptionalStorage(bias) { pb in
                        mean.withUnsafeMutableBufferPointer { pm in
                            variance.withUnsafeMutableBufferPointer { pv in
                                ComputeContext.parallelFor(geo.c) { channels in
                                    for ch in channels {
                                        var total = 0.0
                                        geo.forEachRow(ch) { r in
                                            total += Double(Kernels.table.sum(px.baseAddress! + r, geo.s))
                                        }
                                        let m = Float(total / Double(geo.perChannel))
                                        var squares = 0.0
                                        geo.forEachRow(ch) { r in
                                            squares += Double(Kernels.table.centered_square_sum(px.baseAddress! + r, m, geo.s))
                                        }
                                        let v = Float(squares / Double(geo.perChannel))
                                        pm[ch] = m
                                        pv[ch] = v
                                        let scale = (pw?[ch] ?? 1) / (v + epsilon).squareRoot()
                                        let shift = (pb?[ch] ?? 0) - m * scale
                                        geo.forEachRow(ch) { r in
                                            Kernels.table.affine(px.baseAddress! + r, scale, shift, relu ? 1 : 0,
                                                                 out.baseAddress! + r, geo.s)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        })
        let rstd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let output = recordBatchNorm("batchNormTraining", y, x: x, weight: weight, bias: bias, geo: geo,
                                     mean: mean, rstd: rstd, batchStatistics: true, relu: relu)
        return (output, Tensor(shape: [geo.c], scalars: mean), Tensor(shape: [geo.c], scalars: variance))
    }

    /// Normalises `x` `[N, C, ...]` with given statistics `mean` and `variance` `[C]` (running
    /// statistics in evaluation), as `F.batch_norm(x, mean, variance, ..., training=False)`.
    ///
    /// Gradients flow to `x`, `weight` and `bias`, not to the statistics.
    public static func batchNormInference(
        _ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5,
        relu: Bool = false
    ) -> Tensor {
        let geo = BatchNormGeometry(op: "batchNormInference", x.shape, weight: weight?.shape, bias: bias?.shape)
        precondition(mean.shape == [geo.c] && variance.shape == [geo.c],
                     "batchNormInference: mean \(mean.shape) and variance \(variance.shape) for input \(x.shape)")
        let m = mean.scalars
        let rstd = variance.scalars.map { 1 / ($0 + epsilon).squareRoot() }
        let y = Tensor(shape: x.shape, unsafeUninitialized: { out in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(weight) { pw in
                    withOptionalStorage(bias) { pb in
                        ComputeContext.parallelFor(geo.c) { channels in
                            for ch in channels {
                                let scale = (pw?[ch] ?? 1) * rstd[ch]
                                let shift = (pb?[ch] ?? 0) - m[ch] * scale
                                geo.forEachRow(ch) { r in
                                    Kernels.table.affine(px.baseAddress! + r, scale, shift, relu ? 1 : 0,
                                                         out.baseAddress! + r, geo.s)
                                }
                            }
                        }
                    }
                }
            }
        })
        return recordBatchNorm("batchNormInference", y, x: x, weight: weight, bias: bias, geo: geo,
                               mean: m, rstd: rstd, batchStatistics: false, relu: relu)
    }

    private static func recordBatchNorm(
        _ op: String, _ y: Tensor, x: Tensor, weight: Tensor?, bias: Tensor?, geo: BatchNormGeometry,
        mean: [Float], rstd: [Float], batchStatistics: Bool, relu: Bool
    ) -> Tensor {
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let xd = x.detached(), wd = weight?.detached()
        let hasWeight = weight != nil, hasBias = bias != nil
        let yd = relu ? y.detached() : nil
        return record(op, y, inputs: inputs) { needs in
            { upstream in
                let g = yd.map { reluMask(upstream, output: $0) } ?? upstream
                let grads = batchNormBackward(g, xd, weight: wd, geo: geo, mean: mean, rstd: rstd,
                                              batchStatistics: batchStatistics, needX: needs[0])
                var result: [Tensor?] = [grads.x]
                if hasWeight { result.append(needs[1] ? grads.weight : nil) }
                if hasBias { result.append(needs[hasWeight ? 2 : 1] ? grads.bias : nil) }
                return result
            }
        }
    }

    /// `g` where the ReLU's `output` is positive, zero elsewhere.
    private static func reluMask(_ g: Tensor, output: Tensor) -> Tensor {
        Tensor(shape: g.shape, unsafeUninitialized: { out in
            g.storage.withUnsafeBufferPointer { pg in
                output.storage.withUnsafeBufferPointer { py in
                    let n = pg.count
                    ComputeContext.parallelFor(n, minimumChunk: 1 << 15) { range in
                        Kernels.table.relu_mask(pg.baseAddress! + range.lowerBound, py.baseAddress! + range.lowerBound,
                                                out.baseAddress! + range.lowerBound, range.count)
                    }
                }
            }
        })
    }

    private static func batchNormBackward(
        _ g: Tensor, _ x: Tensor, weight: Tensor?, geo: BatchNormGeometry, mean: [Float], rstd: [Float],
        batchStatistics: Bool, needX: Bool
    ) -> (x: Tensor?, weight: Tensor, bias: Tensor) {
        var dWeight = [Float](repeating: 0, count: geo.c)
        var dBias = [Float](repeating: 0, count: geo.c)
        var dx = [Float](repeating: 0, count: needX ? x.count : 0)
        g.storage.withUnsafeBufferPointer { pg in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(weight) { pw in
                    dWeight.withUnsafeMutableBufferPointer { pdw in
                        dBias.withUnsafeMutableBufferPointer { pdb in
                            dx.withUnsafeMutableBufferPointer { pdx in
                                ComputeContext.parallelFor(geo.c) { channels in
                                    for ch in channels {
                                        let m = mean[ch], r = rstd[ch]
                                        var sumG = 0.0, sumGX = 0.0
                                        geo.forEachRow(ch) { row in
                                            let (gs, xs) = (pg.baseAddress! + row, px.baseAddress! + row)
                                            sumG += Double(Kernels.table.sum(gs, geo.s))
                                            sumGX += Double(Kernels.table.centered_dot(gs, xs, m, geo.s))
                                        }
                                        pdb[ch] = Float(sumG)
                                        pdw[ch] = Float(sumGX) * r
                                        guard needX else { continue }
                                        let scale = (pw?[ch] ?? 1) * r
                                        if batchStatistics {
                                            let count = Double(geo.perChannel)
                                            let meanG = Float(sumG / count)
                                            // x̂·mean(g·x̂) = (x − m)·r²·mean(g·(x − m)).
                                            let k = Float(sumGX / count) * r * r
                                            geo.forEachRow(ch) { row in
                                                Kernels.table.batch_norm_backward(pg.baseAddress! + row, px.baseAddress! + row,
                                                                                  scale, meanG, m, k, pdx.baseAddress! + row, geo.s)
                                            }
                                        } else {
                                            geo.forEachRow(ch) { row in
                                                Kernels.table.scale(pg.baseAddress! + row, scale, pdx.baseAddress! + row, geo.s)
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
        return (needX ? Tensor(shape: x.shape, scalars: dx) : nil,
                Tensor(shape: [geo.c], scalars: dWeight), Tensor(shape: [geo.c], scalars: dBias))
    }
}

/// `[N, C, S]` view of a batch-norm input (S = product of the trailing extents).
private struct BatchNormGeometry {
    let n, c, s: Int
    /// Values per channel, `N·S`.
    var perChannel: Int { n * s }

    init(op: String, _ shape: [Int], weight: [Int]?, bias: [Int]?) {
        precondition(shape.count >= 2 && shape[1] > 0, "\(op): input \(shape) must be [N, C, ...] with C > 0")
        (n, c) = (shape[0], shape[1])
        s = shape.dropFirst(2).reduce(1, *)
        if let weight { precondition(weight == [c], "\(op): weight \(weight) for input \(shape)") }
        if let bias { precondition(bias == [c], "\(op): bias \(bias) for input \(shape)") }
    }

    /// Calls `body` with the offset of each contiguous row of channel `ch` (one per sample).
    @inline(__always)
    func forEachRow(_ ch: Int, _ body: (Int) -> Void) {
        for sample in 0..<n { body((sample * c + ch) * s) }
    }
}

/// Matrix products through `cblas_sgemm`: plain, batched (with broadcast batch dimensions) and the
/// fused `linear` (x·Wᵀ + b). Transposed operands are passed to BLAS as flags, never copied.
///
/// VJPs for C = op(A)·op(B): dA = dC·op(B)ᵀ (or op(B)·dCᵀ when A is transposed) and
/// dB = op(A)ᵀ·dC (or dCᵀ·op(A) when B is transposed), summed over broadcast batch dimensions.
extension Tensor {
    /// Batched matrix product of the last two dimensions, broadcasting leading (batch) dimensions.
    ///
    /// With `transposeA`, `a` holds `[..., K, M]` and is used as its transpose; likewise `b`.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2,
                     "matmul: operands need rank ≥ 2, got shapes \(a.shape) and \(b.shape)")
        let value = matmulRaw(a, b, transposeA: transposeA, transposeB: transposeB)
        let (ad, bd) = (a.detached(), b.detached())
        return record("matmul", value, inputs: [a, b]) { needs in
            { g in
                var ga: Tensor? = nil, gb: Tensor? = nil
                let flat = b.rank == 2 && !transposeA
                if needs[0] {
                    ga = transposeA
                        ? matmul(bd, g, transposeA: transposeB, transposeB: true)
                        : matmul(g, bd, transposeB: !transposeB)
                    ga = ga!.sumToShape(ad.shape)
                }
                if needs[1] {
                    if flat {
                        // Rows of every batch share B: one GEMM over the flattened rows.
                        let a2 = ad.reshapedRaw([-1, ad.shape[ad.rank - 1]].resolving(ad.count))
                        let g2 = g.reshapedRaw([-1, g.shape[g.rank - 1]].resolving(g.count))
                        gb = transposeB ? matmulRaw(g2, a2, transposeA: true) : matmulRaw(a2, g2, transposeA: true)
                    } else {
                        gb = transposeB
                            ? matmul(g, ad, transposeA: true, transposeB: transposeA)
                            : matmul(ad, g, transposeA: !transposeA)
                        gb = gb!.sumToShape(bd.shape)
                    }
                }
                return [ga, gb]
            }
        }
    }

    /// The product without recording.
    @usableFromInline
    static func matmulRaw(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
    ) -> Tensor {
        let (ar, br) = (a.rank, b.rank)
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let ka = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        precondition(ka == kb, "matmul: inner dimensions differ for shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "")")
        let lda = a.shape[ar - 1], ldb = b.shape[br - 1]
        if br == 2 && !transposeA {
            // Fold every batch dimension of A into its rows: one GEMM.
            let rows = a.count / Swift.max(ka, 1)
            let outShape = Array(a.shape.dropLast()) + [n]
            return Tensor(shape: outShape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        BLAS.parallelSgemm(transposeA: false, transposeB: transposeB, m: rows, n: n, k: ka,
                                   a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                   c: out.baseAddress!, ldc: n)
                    }
                }
            }
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = broadcastShape(batchA, batchB, op: "matmul")
        let count = elementCount(batch)
        let sa = broadcastStrides(batchA, to: batch), sb = broadcastStrides(batchB, to: batch)
        let matA = a.shape[ar - 2] * a.shape[ar - 1], matB = b.shape[br - 2] * b.shape[br - 1]
        let outShape = batch + [m, n]
        return Tensor(shape: outShape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    let po = out.baseAddress!
                    let one = { (i: Int) in
                        var rem = i, offA = 0, offB = 0
                        for axis in stride(from: batch.count - 1, through: 0, by: -1) {
                            let idx = rem % batch[axis]
                            rem /= batch[axis]
                            offA += idx * sa[axis]
                            offB += idx * sb[axis]
                        }
                        BLAS.parallelSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                                   a: pa.baseAddress! + offA * matA, lda: lda,
                                   b: pb.baseAddress! + offB * matB, ldb: ldb,
                                   c: po + i * m * n, ldc: n)
                    }
                    // Small products are dominated by call overhead: spread them over threads with
                    // single-threaded BLAS; large ones let BLAS own the cores.
                    if m * n * ka < 64 * 64 * 64 && count > 1 {
                        ComputeContext.parallelFor(count) { range in for i in range { one(i) } }
                    } else {
                        for i in 0..<count { one(i) }
                    }
                }
            }
        }
    }

    /// Matrix product with the usual `matmul` name on an instance.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    /// `x·Wᵀ + b` over the last dimension of `x`, as `torch.nn.functional.linear`
    /// (weight stored `[out, in]`). One GEMM with the bias as its initial value.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape)")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias {
            precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) for weight \(weight.shape)")
        }
        let rows = x.count / Swift.max(inFeatures, 1)
        let outShape = Array(x.shape.dropLast()) + [outFeatures]
        let value = Tensor(shape: outShape) { out in
            withOptionalStorage(bias) { pb in
                x.storage.withUnsafeBufferPointer { px in
                    weight.storage.withUnsafeBufferPointer { pw in
                        BLAS.parallelSgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                                           a: px.baseAddress!, lda: inFeatures, b: pw.baseAddress!, ldb: inFeatures,
                                           c: out.baseAddress!, ldc: outFeatures, bias: pb)
                    }
                }
            }
        }
        let (xd, wd) = (x.detached(), weight.detached())
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record("linear", value, inputs: inputs) { needs in
            { g in
                let g2 = g.reshapedRaw([rows, outFeatures])
                var grads: [Tensor?] = [nil, nil]
                if needs[0] { grads[0] = matmulRaw(g2, wd).reshapedRaw(xd.shape) }
                if needs[1] {
                    grads[1] = matmulRaw(g2, xd.reshapedRaw([rows, inFeatures]), transposeA: true)
                }
                if needs.count == 3 {
                    grads.append(needs[2] ? g2.sum(axis: 0) : nil)
                }
                return grads
            }
        }
    }
}

/// The storage of `t` as a pointer, or `nil` without a tensor.
func withOptionalStorage<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.storage.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension Array where Element == Int {
    /// Replaces a single -1 so that the shape holds `count` elements.
    @usableFromInline
    func resolving(_ count: Int) -> [Int] {
        guard let u = firstIndex(of: -1) else { return self }
        var s = self
        let known = s.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
        s[u] = known == 0 ? 0 : count / known
        return s
    }
}

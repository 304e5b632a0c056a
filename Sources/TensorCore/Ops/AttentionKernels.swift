/// Kernels behind ``Tensor/scaledDotProductAttention(query:key:value:scale:)``.
///
/// Every operand is a contiguous batch of row-major matrices (`q` `[B, L, d]`, `k` `[B, S, d]`,
/// `v` `[B, S, dv]`, probabilities `[B, L, S]`). Each product of each sequence is one
/// single-threaded `cblas_sgemm`, the sequences spread over the compute threads, and the softmax
/// runs in place on the score tile between the two products.
///
/// Short sequences take the same path on purpose. A direct Swift kernel for L, S ≤ 32 (dot products
/// over d in SIMD8, scores on the stack) was measured 2.5–3.5× slower than per-sequence sgemm for
/// L = 8…32, d = 16…64 (temporal attention, 1176 × 8 × 64: 3.8 ms against 1.3 ms forward plus
/// backward, one thread): Swift compiles for baseline x86-64 (SSE, no FMA) without `unsafeFlags`,
/// while OpenBLAS ≥ 0.3.16 dispatches such small products to AVX-512 small-matrix kernels whose call
/// overhead is about 0.1 µs. Only a kernel compiled for AVX2/AVX-512 could beat it.
///
/// Backward uses the softmax identity dS = P ∘ (dP − rowsum(P ∘ dP)), so only P is kept.
struct AttentionProblem {
    /// Number of independent sequences (the flattened leading dimensions).
    let batch: Int
    /// Query length L, key/value length S, query/key width d and value width dv.
    let l: Int, s: Int, d: Int, dv: Int
    /// Multiplier of the raw scores QKᵀ before the softmax.
    let scale: Float
}

/// The raw pointers of one forward evaluation.
struct AttentionForwardBuffers {
    let q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>
    /// Where the probabilities are kept for backward; `nil` when nothing is recorded.
    let probabilities: UnsafeMutablePointer<Float>?
}

/// The raw pointers of one backward evaluation.
struct AttentionBackwardBuffers {
    let q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>
    let probabilities: UnsafePointer<Float>
    let gradOut: UnsafePointer<Float>
    let gradQ: UnsafeMutablePointer<Float>, gradK: UnsafeMutablePointer<Float>
    let gradV: UnsafeMutablePointer<Float>
}

extension AttentionProblem {
    /// Computes softmax(scale · QKᵀ) V for every sequence.
    func forward(_ b: AttentionForwardBuffers) {
        let (l, s, d, dv) = (self.l, self.s, self.d, self.dv)
        ComputeContext.parallelFor(batch) { range in
            // Scores go straight into the saved probabilities when there are any; otherwise into one
            // scratch tile per thread.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: b.probabilities == nil ? l * s : 0) { scratch in
                for n in range {
                    let p = b.probabilities.map { $0 + n * l * s } ?? scratch.baseAddress!
                    let q = b.q + n * l * d, k = b.k + n * s * d, v = b.v + n * s * dv
                    BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: s, k: d, alpha: scale,
                               a: q, lda: d, b: k, ldb: d, c: p, ldc: s)
                    Kernels.table.softmax_rows(p, p, l, s, 0)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: dv, k: s,
                               a: p, lda: s, b: v, ldb: dv, c: b.out + n * l * dv, ldc: dv)
                }
            }
        }
    }

    /// Computes dQ, dK and dV from the saved probabilities and the output gradient.
    func backward(_ b: AttentionBackwardBuffers) {
        let (l, s, d, dv) = (self.l, self.s, self.d, self.dv)
        ComputeContext.parallelFor(batch) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: l * s) { scratch in
                let ds = scratch.baseAddress!
                for n in range {
                    let q = b.q + n * l * d, k = b.k + n * s * d, v = b.v + n * s * dv
                    let p = b.probabilities + n * l * s, g = b.gradOut + n * l * dv
                    // dV = Pᵀ dO and dP = dO Vᵀ
                    BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: dv, k: l,
                               a: p, lda: s, b: g, ldb: dv, c: b.gradV + n * s * dv, ldc: dv)
                    BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: s, k: dv,
                               a: g, lda: dv, b: v, ldb: dv, c: ds, ldc: s)
                    // dS = P ∘ (dP − rowsum(P ∘ dP)); the score scale goes into the products below.
                    Kernels.table.softmax_backward_rows(ds, p, ds, l, s, 0)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: scale,
                               a: ds, lda: s, b: k, ldb: d, c: b.gradQ + n * l * d, ldc: d)
                    BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: scale,
                               a: ds, lda: s, b: q, ldb: d, c: b.gradK + n * s * d, ldc: d)
                }
            }
        }
    }
}

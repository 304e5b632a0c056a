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
                    for i in 0..<l { AttentionMath.softmaxRow(p + i * s, s) }
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
                    for i in 0..<l { AttentionMath.softmaxBackwardRow(p + i * s, ds + i * s, s) }
                    BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: scale,
                               a: ds, lda: s, b: k, ldb: d, c: b.gradQ + n * l * d, ldc: d)
                    BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: scale,
                               a: ds, lda: s, b: q, ldb: d, c: b.gradK + n * s * d, ldc: d)
                }
            }
        }
    }
}

/// Vector helpers written with explicit SIMD: the compiler may not reorder a floating-point sum on
/// its own, so reductions left as scalar loops would not vectorise.
enum AttentionMath {
    typealias Vector = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ x: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: Vector.self)
    }

    /// Σ a[i]·b[i] over `n` elements.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = Vector(), acc1 = Vector()
        var i = 0
        while i + 16 <= n {
            acc0 += load(a + i) * load(b + i)
            acc1 += load(a + i + 8) * load(b + i + 8)
            i += 16
        }
        if i + 8 <= n {
            acc0 += load(a + i) * load(b + i)
            i += 8
        }
        var total = (acc0 + acc1).sum()
        while i < n {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// Replaces `n` scores by their softmax, shifted by the row maximum for stability.
    @inline(__always)
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var maxima = Vector(repeating: -.infinity)
        var j = 0
        while j + 8 <= n {
            let v = load(p + j)
            maxima = maxima.replacing(with: v, where: v .> maxima)  // a vector select; `pointwiseMax` is a call
            j += 8
        }
        var m = maxima.max()
        while j < n {
            m = Swift.max(m, p[j])
            j += 1
        }
        let shift = Vector(repeating: m)
        var total = Vector()
        j = 0
        while j + 8 <= n {
            let e = exp(load(p + j) - shift)
            store(e, p + j)
            total += e
            j += 8
        }
        var sum = total.sum()
        if j < n {
            // The tail goes through the same vector exp so every element is rounded alike.
            var tail = Vector(repeating: -.infinity)
            for t in 0..<(n - j) { tail[t] = p[j + t] }
            let e = exp(tail - shift)
            for t in 0..<(n - j) {
                p[j + t] = e[t]
                sum += e[t]
            }
        }
        let inverse = 1 / sum
        let scale = Vector(repeating: inverse)
        j = 0
        while j + 8 <= n {
            store(load(p + j) * scale, p + j)
            j += 8
        }
        while j < n {
            p[j] *= inverse
            j += 1
        }
    }

    /// Overwrites the probability gradient `dp` of one softmax row `p` by the score gradient
    /// p ∘ (dp − Σ p·dp).
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, _ n: Int) {
        let r = dot(p, UnsafePointer(dp), n)
        for j in 0..<n { dp[j] = p[j] * (dp[j] - r) }
    }

    /// e^x lane by lane (relative error ≈ 1e-7), far cheaper than eight calls into libm.
    ///
    /// x = n·ln2 + r with |r| ≤ ln2/2, e^r from its Taylor polynomial to degree 7 (truncation
    /// below 1e-8), and 2^n written straight into the exponent bits. Inputs are clamped to the
    /// normal range, so −∞ gives about 1e-38 rather than 0, which no softmax can tell apart.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let clamped = x.replacing(with: -87.3, where: .!(x .>= -87.3)).replacing(with: 88.7, where: x .> 88.7)
        // Adding 1.5·2²³ rounds to an integer and leaves it in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
        var poly = Vector(repeating: 1.0 / 5040)
        poly = poly * r + 1.0 / 720
        poly = poly * r + 1.0 / 120
        poly = poly * r + 1.0 / 24
        poly = poly * r + 1.0 / 6
        poly = poly * r + 0.5
        poly = poly * r + 1
        poly = poly * r + 1
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let twoToN = unsafeBitCast((bits &+ 127) &<< 23, to: Vector.self)
        return poly * twoToN
    }
}

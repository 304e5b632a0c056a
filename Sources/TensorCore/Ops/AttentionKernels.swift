/// Kernels behind ``Tensor/scaledDotProductAttention(query:key:value:scale:)``.
///
/// Two strategies share one layout: every operand is a contiguous batch of row-major matrices
/// (`q` `[B, L, d]`, `k` `[B, S, d]`, `v` `[B, S, dv]`, probabilities `[B, L, S]`).
/// - Short sequences run a direct kernel per sequence: a few thousand multiply-adds each, where a
///   `cblas_sgemm` call would cost more in dispatch than in arithmetic.
/// - Long sequences issue one single-threaded sgemm per product and sequence, the batch spread over
///   the compute threads.
///
/// Backward uses the softmax identity dS = P ∘ (dP − rowsum(P ∘ dP)), so only P is kept.
@usableFromInline
struct AttentionProblem {
    /// Number of independent sequences (the flattened leading dimensions).
    let batch: Int
    /// Query length L, key/value length S, query/key width d and value width dv.
    let l: Int, s: Int, d: Int, dv: Int
    /// Multiplier of the raw scores QKᵀ before the softmax.
    let scale: Float

    /// Longest L or S that takes the direct kernel. Its score tiles live on the stack, and above
    /// this length BLAS's blocked products beat the simple dot-product loops.
    static let directKernelMaxLength = 32

    var usesDirectKernel: Bool {
        l <= AttentionProblem.directKernelMaxLength && s <= AttentionProblem.directKernelMaxLength
    }

    /// Sequences per parallel chunk: enough arithmetic per chunk to amortise the thread hand-off.
    var minimumChunk: Int {
        let work = l * s * (d + dv)
        return Swift.max(1, 16_384 / Swift.max(work, 1))
    }
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
        let direct = usesDirectKernel
        ComputeContext.parallelFor(batch, minimumChunk: direct ? minimumChunk : 1) { range in
            // Scores go straight into the saved probabilities when there are any; otherwise into a
            // scratch tile (on the stack for the direct kernel's small sizes).
            withUnsafeTemporaryAllocation(of: Float.self, capacity: b.probabilities == nil ? l * s : 0) { scratch in
                for n in range {
                    let p = b.probabilities.map { $0 + n * l * s } ?? scratch.baseAddress!
                    let q = b.q + n * l * d, k = b.k + n * s * d, v = b.v + n * s * dv
                    let o = b.out + n * l * dv
                    if direct {
                        for i in 0..<l {
                            let qi = q + i * d, pi = p + i * s
                            for j in 0..<s { pi[j] = scale * AttentionMath.dot(qi, k + j * d, d) }
                        }
                    } else {
                        BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: s, k: d, alpha: scale,
                                   a: q, lda: d, b: k, ldb: d, c: p, ldc: s)
                    }
                    for i in 0..<l { AttentionMath.softmaxRow(p + i * s, s) }
                    if direct {
                        for i in 0..<l {
                            let oi = o + i * dv, pi = p + i * s
                            oi.update(repeating: 0, count: dv)
                            for j in 0..<s { AttentionMath.axpy(pi[j], v + j * dv, oi, dv) }
                        }
                    } else {
                        BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: dv, k: s,
                                   a: p, lda: s, b: v, ldb: dv, c: o, ldc: dv)
                    }
                }
            }
        }
    }

    /// Computes dQ, dK and dV from the saved probabilities and the output gradient.
    func backward(_ b: AttentionBackwardBuffers) {
        let (l, s, d, dv) = (self.l, self.s, self.d, self.dv)
        let direct = usesDirectKernel
        ComputeContext.parallelFor(batch, minimumChunk: direct ? minimumChunk : 1) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: l * s) { scratch in
                let ds = scratch.baseAddress!
                for n in range {
                    let q = b.q + n * l * d, k = b.k + n * s * d, v = b.v + n * s * dv
                    let p = b.probabilities + n * l * s, g = b.gradOut + n * l * dv
                    let gq = b.gradQ + n * l * d, gk = b.gradK + n * s * d, gv = b.gradV + n * s * dv
                    // dP = dO · Vᵀ
                    if direct {
                        for i in 0..<l {
                            for j in 0..<s { ds[i * s + j] = AttentionMath.dot(g + i * dv, v + j * dv, dv) }
                        }
                    } else {
                        BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: s, k: dv,
                                   a: g, lda: dv, b: v, ldb: dv, c: ds, ldc: s)
                    }
                    // dS = P ∘ (dP − rowsum(P ∘ dP)); the score scale is applied in the products below.
                    for i in 0..<l { AttentionMath.softmaxBackwardRow(p + i * s, ds + i * s, s) }
                    if direct {
                        gq.update(repeating: 0, count: l * d)
                        gk.update(repeating: 0, count: s * d)
                        gv.update(repeating: 0, count: s * dv)
                        for i in 0..<l {
                            let qi = q + i * d, gi = g + i * dv, gqi = gq + i * d
                            for j in 0..<s {
                                let w = scale * ds[i * s + j]
                                AttentionMath.axpy(w, k + j * d, gqi, d)
                                AttentionMath.axpy(w, qi, gk + j * d, d)
                                AttentionMath.axpy(p[i * s + j], gi, gv + j * dv, dv)
                            }
                        }
                    } else {
                        BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: dv, k: l,
                                   a: p, lda: s, b: g, ldb: dv, c: gv, ldc: dv)
                        BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: scale,
                                   a: ds, lda: s, b: k, ldb: d, c: gq, ldc: d)
                        BLAS.sgemm(transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: scale,
                                   a: ds, lda: s, b: q, ldb: d, c: gk, ldc: d)
                    }
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

    /// y += alpha·x over `n` elements.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = Vector(repeating: alpha)
        var i = 0
        while i + 8 <= n {
            store(load(y + i) + a * load(x + i), y + i)
            i += 8
        }
        while i < n {
            y[i] += alpha * x[i]
            i += 1
        }
    }

    /// Replaces `n` scores by their softmax, shifted by the row maximum for stability.
    @inline(__always)
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, p[j]) }
        let shift = Vector(repeating: m)
        var total = Vector()
        var j = 0
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
        for j in 0..<n { p[j] *= inverse }
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

import Foundation

/// Multi-head attention read straight from a fused query/key/value projection, as one primitive.
///
/// Shape rule: `qkv` `[outer, L, inner, 3·H·d]` gives `[outer, L, inner, H·d]`. Every
/// `(outer, inner, head)` triple is one sequence of `L` positions along axis 1; channel
/// `s·H·d + h·d + j` of `qkv` is element `j` of component `s` (query, key, value) of head `h`, the
/// order of timm's `qkv` Linear, and channel `h·d + j` of the result is head `h`'s output, the order
/// its `proj` expects. Each operand is addressed through its row stride, so neither the
/// `[3, B, H, L, d]` split nor the head merge is ever copied; with `inner > 1` the sequences
/// interleave (TimeSformer's temporal attention over tokens in "t n" order runs without a permute).
///
/// VJP: that of ``Tensor/scaledDotProductAttention(query:key:value:scale:)`` per sequence
/// (P saved), with dQ, dK, dV written into one gradient of `qkv`'s layout.
extension Tensor {
    /// `softmax(scale · Q Kᵀ) V` for every head of every sequence packed in `qkv`.
    ///
    /// - Parameters:
    ///   - qkv: `[outer, L, inner, 3·C]`, the output of a fused C → 3C projection.
    ///   - heads: the number of heads `H`; `C` must be divisible by it.
    ///   - scale: multiplier of the scores; `1/√d` (d = C / H) when `nil`.
    /// - Returns: `[outer, L, inner, C]`.
    public static func packedAttention(qkv: Tensor, heads: Int, scale: Float? = nil) -> Tensor {
        let problem = PackedAttentionProblem(qkv.shape, heads: heads, scale: scale)
        let outShape = Array(qkv.shape.dropLast()) + [problem.width]
        let recording = GradMode.isEnabled && qkv.requiresGrad
        var probabilities: Tensor? = nil
        let out = Tensor(shape: outShape) { out in
            qkv.storage.withUnsafeBufferPointer { pqkv in
                let run = { (pp: UnsafeMutablePointer<Float>?) in
                    problem.forward(qkv: pqkv.baseAddress!, out: out.baseAddress!, probabilities: pp)
                }
                if recording {
                    probabilities = Tensor(shape: [problem.sequences, problem.l, problem.l]) { pp in
                        run(pp.baseAddress!)
                    }
                } else {
                    run(nil)
                }
            }
        }
        guard recording else { return out }
        let (saved, p) = (qkv.detached(), probabilities!)
        return record("packedAttention", out, inputs: [qkv]) { _ in
            { g in
                [Tensor(shape: saved.shape) { gqkv in
                    saved.storage.withUnsafeBufferPointer { pqkv in
                        p.storage.withUnsafeBufferPointer { pp in
                            g.storage.withUnsafeBufferPointer { pg in
                                problem.backward(qkv: pqkv.baseAddress!, probabilities: pp.baseAddress!,
                                                 gradOut: pg.baseAddress!, gradQKV: gqkv.baseAddress!)
                            }
                        }
                    }
                }]
            }
        }
    }
}

/// Geometry of ``Tensor/packedAttention(qkv:heads:scale:)`` and its kernels.
struct PackedAttentionProblem {
    let outer: Int, l: Int, inner: Int, heads: Int, d: Int
    let scale: Float

    init(_ shape: [Int], heads: Int, scale: Float?) {
        precondition(shape.count == 4 && heads > 0 && shape[3] % (3 * heads) == 0 && shape[3] > 0,
                     "packedAttention: qkv \(shape) is not [outer, L, inner, 3·C] with C divisible by \(heads) heads")
        precondition(shape[1] > 0, "packedAttention: qkv \(shape) has no positions to attend to")
        (outer, l, inner, self.heads) = (shape[0], shape[1], shape[2], heads)
        d = shape[3] / (3 * heads)
        self.scale = scale ?? 1 / Foundation.sqrt(Float(d))
    }

    /// C = H·d, the width of the output.
    var width: Int { heads * d }
    /// Independent sequences, one per (outer, inner, head).
    var sequences: Int { outer * inner * heads }
    /// Row strides of `qkv` (and its gradient) and of the output.
    var packedStride: Int { inner * 3 * width }
    var outStride: Int { inner * width }

    /// Offsets of sequence `n`'s query (key at + C, value at + 2C) and of its output.
    @inline(__always)
    func offsets(_ n: Int) -> (packed: Int, out: Int) {
        let head = n % heads, row = n / heads  // row = o·inner + i: the first position's token
        let o = row / inner, i = row % inner
        let token = o * l * inner + i
        return (token * 3 * width + head * d, token * width + head * d)
    }

    func forward(qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?) {
        let (l, d, c, ldp, ldo) = (self.l, self.d, width, packedStride, outStride)
        ComputeContext.parallelFor(sequences) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: probabilities == nil ? l * l : 0) { scratch in
                for n in range {
                    let (pk, po) = offsets(n)
                    let q = qkv + pk, p = probabilities.map { $0 + n * l * l } ?? scratch.baseAddress!
                    BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: l, k: d, alpha: scale,
                               a: q, lda: ldp, b: q + c, ldb: ldp, c: p, ldc: l)
                    Kernels.table.softmax_rows(p, p, l, l, 0)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: d, k: l,
                               a: p, lda: l, b: q + 2 * c, ldb: ldp, c: out + po, ldc: ldo)
                }
            }
        }
    }

    func backward(qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, gradOut: UnsafePointer<Float>,
                  gradQKV: UnsafeMutablePointer<Float>) {
        let (l, d, c, ldp, ldo) = (self.l, self.d, width, packedStride, outStride)
        ComputeContext.parallelFor(sequences) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: l * l) { scratch in
                let ds = scratch.baseAddress!
                for n in range {
                    let (pk, po) = offsets(n)
                    let q = qkv + pk, k = q + c, v = q + 2 * c, p = probabilities + n * l * l, g = gradOut + po
                    let dq = gradQKV + pk, dk = dq + c, dv = dq + 2 * c
                    // dV = Pᵀ dO and dP = dO Vᵀ
                    BLAS.sgemm(transposeA: true, transposeB: false, m: l, n: d, k: l,
                               a: p, lda: l, b: g, ldb: ldo, c: dv, ldc: ldp)
                    BLAS.sgemm(transposeA: false, transposeB: true, m: l, n: l, k: d,
                               a: g, lda: ldo, b: v, ldb: ldp, c: ds, ldc: l)
                    // dS = P ∘ (dP − rowsum(P ∘ dP)); the score scale goes into the products below.
                    Kernels.table.softmax_backward_rows(ds, p, ds, l, l, 0)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: l, n: d, k: l, alpha: scale,
                               a: ds, lda: l, b: k, ldb: ldp, c: dq, ldc: ldp)
                    BLAS.sgemm(transposeA: true, transposeB: false, m: l, n: d, k: l, alpha: scale,
                               a: ds, lda: l, b: q, ldb: ldp, c: dk, ldc: ldp)
                }
            }
        }
    }
}

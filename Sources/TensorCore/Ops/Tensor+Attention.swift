import Foundation

/// Fused scaled dot-product attention, softmax(scale · QKᵀ) V, as one primitive.
///
/// Shape rule: q `[..., L, d]`, k `[..., S, d]`, v `[..., S, dv]` with identical leading
/// dimensions give `[..., L, dv]`. Leading dimensions are flattened into independent sequences.
///
/// VJP, with P = softmax(scale · QKᵀ) saved from the forward pass and dO the output gradient:
/// dV = Pᵀ dO; dP = dO Vᵀ; dS = P ∘ (dP − rowsum(P ∘ dP)); dQ = scale · dS K; dK = scale · dSᵀ Q.
/// Nothing else is kept (no scores, no exponentials), so the memory held for backward is P plus
/// the inputs.
extension Tensor {
    /// Attention of every query row over the key/value rows of the same sequence:
    /// `softmax(scale · query · keyᵀ) · value` over the last two dimensions.
    ///
    /// - Parameters:
    ///   - query: `[..., L, d]`.
    ///   - key: `[..., S, d]`, the same leading dimensions as `query`.
    ///   - value: `[..., S, dv]`, the same leading dimensions and length as `key`.
    ///   - scale: multiplier of the scores; `1/√d` when `nil`, as in
    ///     `torch.nn.functional.scaled_dot_product_attention`.
    /// - Returns: `[..., L, dv]`.
    ///
    /// Each sequence's products are single-threaded BLAS calls and the sequences are spread over
    /// ``ComputeContext``'s threads, so thousands of short sequences (temporal attention over a few
    /// frames) cost little more than their arithmetic.
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil
    ) -> Tensor {
        let problem = attentionProblem(query, key, value, scale: scale)
        let outShape = Array(query.shape.dropLast()) + [problem.dv]
        let probabilityShape = [problem.batch, problem.l, problem.s]
        let recording = GradMode.isEnabled && (query.requiresGrad || key.requiresGrad || value.requiresGrad)
        if problem.batch * problem.l * problem.dv == 0 {
            let shapes = (query.shape, key.shape, value.shape)
            return record("scaledDotProductAttention", Tensor(zeros: outShape), inputs: [query, key, value]) { _ in
                { _ in [Tensor(zeros: shapes.0), Tensor(zeros: shapes.1), Tensor(zeros: shapes.2)] }
            }
        }

        var probabilities: Tensor? = nil
        let out = Tensor(shape: outShape) { out in
            query.storage.withUnsafeBufferPointer { pq in
                key.storage.withUnsafeBufferPointer { pk in
                    value.storage.withUnsafeBufferPointer { pv in
                        let run = { (pp: UnsafeMutablePointer<Float>?) in
                            problem.forward(AttentionForwardBuffers(
                                q: pq.baseAddress!, k: pk.baseAddress!, v: pv.baseAddress!,
                                out: out.baseAddress!, probabilities: pp))
                        }
                        if recording {
                            probabilities = Tensor(shape: probabilityShape) { pp in run(pp.baseAddress!) }
                        } else {
                            run(nil)
                        }
                    }
                }
            }
        }
        guard recording else { return out }

        let (q, k, v, p) = (query.detached(), key.detached(), value.detached(), probabilities!)
        return record("scaledDotProductAttention", out, inputs: [query, key, value]) { needs in
            { g in
                let grads = attentionBackward(problem, q: q, k: k, v: v, probabilities: p, gradOut: g)
                return [needs[0] ? grads.q : nil, needs[1] ? grads.k : nil, needs[2] ? grads.v : nil]
            }
        }
    }

    /// Checks the shape rule and flattens the leading dimensions.
    private static func attentionProblem(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float?
    ) -> AttentionProblem {
        let op = "scaledDotProductAttention"
        precondition(q.rank >= 2 && k.rank >= 2 && v.rank >= 2,
                     "\(op): query, key and value need rank ≥ 2, got shapes \(q.shape), \(k.shape) and \(v.shape)")
        precondition(q.shape.dropLast(2) == k.shape.dropLast(2) && k.shape.dropLast(2) == v.shape.dropLast(2),
                     "\(op): leading dimensions differ for query \(q.shape), key \(k.shape) and value \(v.shape)")
        let d = q.shape[q.rank - 1], s = k.shape[k.rank - 2]
        precondition(k.shape[k.rank - 1] == d,
                     "\(op): query \(q.shape) and key \(k.shape) differ in their last dimension")
        precondition(v.shape[v.rank - 2] == s,
                     "\(op): key \(k.shape) and value \(v.shape) differ in sequence length")
        precondition(s > 0, "\(op): key \(k.shape) has no positions to attend to")
        precondition(d > 0, "\(op): query \(q.shape) and key \(k.shape) have width 0")
        return AttentionProblem(
            batch: Tensor.elementCount(Array(q.shape.dropLast(2))),
            l: q.shape[q.rank - 2], s: s, d: d, dv: v.shape[v.rank - 1],
            scale: scale ?? 1 / Foundation.sqrt(Float(d)))
    }

    /// The three input gradients, computed together since they share dS.
    private static func attentionBackward(
        _ problem: AttentionProblem, q: Tensor, k: Tensor, v: Tensor, probabilities: Tensor, gradOut: Tensor
    ) -> (q: Tensor, k: Tensor, v: Tensor) {
        var gradK = Tensor(zeros: [0]), gradV = Tensor(zeros: [0])
        let gradQ = Tensor(shape: q.shape) { gq in
            gradK = Tensor(shape: k.shape) { gk in
                gradV = Tensor(shape: v.shape) { gv in
                    q.storage.withUnsafeBufferPointer { pq in
                        k.storage.withUnsafeBufferPointer { pk in
                            v.storage.withUnsafeBufferPointer { pv in
                                probabilities.storage.withUnsafeBufferPointer { pp in
                                    gradOut.storage.withUnsafeBufferPointer { pg in
                                        problem.backward(AttentionBackwardBuffers(
                                            q: pq.baseAddress!, k: pk.baseAddress!, v: pv.baseAddress!,
                                            probabilities: pp.baseAddress!, gradOut: pg.baseAddress!,
                                            gradQ: gq.baseAddress!, gradK: gk.baseAddress!,
                                            gradV: gv.baseAddress!))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gradQ, gradK, gradV)
    }
}

/// A residual connection around a branch with per-sample factors (stochastic depth), as one
/// primitive: `x[s] + f_s·branch[s]`.
///
/// One pass over the activations instead of a scaling pass and an add, and the residual's
/// gradient passed on without a copy. The branch may hold only some samples (those stochastic depth
/// keeps), so that the dropped ones are never computed. VJP: `dx = g`, `dbranch[j] = f_j·g[s_j]`.
extension Tensor {
    /// `self` with `factors[j]·branch[j]` added to sample `samples[j]` (index along axis 0); the
    /// samples not listed pass through unchanged.
    ///
    /// - Precondition: `samples` is strictly increasing within `0..<shape[0]`, `branch` is
    ///   `[samples.count] + shape.dropFirst()`, and `factors.count == samples.count`.
    public func addingScaledSamples(_ branch: Tensor, samples: [Int], factors: [Float]) -> Tensor {
        precondition(
            rank >= 1 && branch.rank == rank && Array(branch.shape.dropFirst()) == Array(shape.dropFirst())
                && branch.shape[0] == samples.count && factors.count == samples.count
                && zip(samples, samples.dropFirst()).allSatisfy { $0 < $1 }
                && (samples.first ?? 0) >= 0 && (samples.last ?? 0) < shape[0],
            "addingScaledSamples: branch \(branch.shape) for samples \(samples) of residual \(shape)")
        let per = count / Swift.max(1, shape[0])
        var slot = [Int](repeating: -1, count: shape[0])
        for (j, s) in samples.enumerated() { slot[s] = j }
        let value = Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { px in
                branch.storage.withUnsafeBufferPointer { py in
                    guard per > 0, let x = px.baseAddress, let y = py.baseAddress, let o = out.baseAddress else { return }
                    Kernels.forChunks(out.count) { start, n in
                        // A chunk may span several samples: each piece gets its own factor.
                        var i = start
                        while i < start + n {
                            let s = i / per, end = Swift.min(start + n, (s + 1) * per), j = slot[s]
                            if j < 0 {
                                (o + i).update(from: x + i, count: end - i)
                            } else {
                                Kernels.table.add_scaled(x + i, y + (j - s) * per + i, factors[j], o + i, end - i)
                            }
                            i = end
                        }
                    }
                }
            }
        }
        let branchShape = branch.shape
        return Tensor.record("addingScaledSamples", value, inputs: [self, branch]) { needs in
            { g in
                guard needs[1] else { return [g, nil] }
                let gb = Tensor(shape: branchShape) { out in
                    g.storage.withUnsafeBufferPointer { pg in
                        guard per > 0, let gp = pg.baseAddress, let d = out.baseAddress else { return }
                        Kernels.forChunks(out.count) { start, n in
                            var i = start
                            while i < start + n {
                                let j = i / per, end = Swift.min(start + n, (j + 1) * per)
                                Kernels.table.scale(gp + (samples[j] - j) * per + i, factors[j], d + i, end - i)
                                i = end
                            }
                        }
                    }
                }
                return [needs[0] ? g : nil, gb]
            }
        }
    }
}

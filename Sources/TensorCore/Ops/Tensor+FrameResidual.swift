/// The residual of divided space-time attention's spatial branch, as one primitive: per-frame
/// outputs `[G, S, 1 + L, C]` (each frame's view of the class token, then its `L` patches) added to
/// tokens `[G, 1 + S·L, C]` (one class token, then the frames' patches), with stochastic depth per
/// frame.
///
/// Forward, with `f` the drop-path factor of frame `(g, s)` (1 outside training):
/// `y[g, 0] = x[g, 0] + mean_s f·F[g, s, 0]` (TimeSformer averages the frames' class outputs) and
/// `y[g, 1 + s·L + l] = x[g, 1 + s·L + l] + f·F[g, s, 1 + l]`. It replaces slicing the class rows
/// and the patches out of `F`, a mean, two adds and a concatenation (and their gradients).
/// VJP: `dx = g`; `dF[g, s, 0] = f/S·g[g, 0]`, `dF[g, s, 1 + l] = f·g[g, 1 + s·L + l]`.
extension Tensor {
    /// `self` plus the per-frame outputs `frames`, as described above.
    ///
    /// The factors are drawn as ``Tensor/dropPath(probability:training:using:)`` draws them for
    /// `frames` viewed as `[G·S, 1 + L, C]`: one value per frame, none outside training or with
    /// `p == 0`.
    ///
    /// - Precondition: `self` is `[G, 1 + S·L, C]`, `frames` is `[G, S, 1 + L, C]`, `p` in `[0, 1]`.
    public func addingFrameResidual(
        _ frames: Tensor, dropPathProbability p: Float, training: Bool = true,
        using generator: inout RandomGenerator
    ) -> Tensor {
        precondition(
            rank == 3 && frames.rank == 4 && frames.shape[0] == shape[0] && frames.shape[3] == shape[2]
                && frames.shape[2] >= 1 && shape[1] == 1 + frames.shape[1] * (frames.shape[2] - 1),
            "addingFrameResidual: frames \(frames.shape) for tokens \(shape)")
        precondition(p >= 0 && p <= 1, "addingFrameResidual: probability \(p) outside [0, 1] for frames \(frames.shape)")
        let (groups, s, l, c) = (shape[0], frames.shape[1], frames.shape[2] - 1, shape[2])
        let factors = training && p > 0
            ? Tensor.dropPathFactors(samples: groups * s, probability: p, using: &generator)
            : [Float](repeating: 1, count: groups * s)
        let value = Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { px in
                frames.storage.withUnsafeBufferPointer { pf in
                    guard let x = px.baseAddress, let f = pf.baseAddress, let o = out.baseAddress else { return }
                    ComputeContext.parallelFor(groups * s, minimumChunk: Swift.max(1, Kernels.elementwiseGrain / (l * c + 1))) { range in
                        for frame in range {
                            let (g, t) = (frame / s, frame % s)
                            let token = (g * (1 + s * l) + 1 + t * l) * c
                            Kernels.table.add_scaled(x + token, f + (frame * (1 + l) + 1) * c, factors[frame],
                                                     o + token, l * c)
                        }
                    }
                    for g in 0..<groups {
                        let cls = o + g * (1 + s * l) * c
                        cls.update(from: x + g * (1 + s * l) * c, count: c)
                        for t in 0..<s {
                            let frame = g * s + t
                            Kernels.table.add_scaled(cls, f + frame * (1 + l) * c, factors[frame] / Float(s), cls, c)
                        }
                    }
                }
            }
        }
        let frameShape = frames.shape
        return Tensor.record("addingFrameResidual", value, inputs: [self, frames]) { needs in
            { g in
                guard needs[1] else { return [g, nil] }
                let df = Tensor(shape: frameShape) { out in
                    g.storage.withUnsafeBufferPointer { pg in
                        guard let gp = pg.baseAddress, let d = out.baseAddress else { return }
                        ComputeContext.parallelFor(groups * s, minimumChunk: Swift.max(1, Kernels.elementwiseGrain / (l * c + 1))) { range in
                            for frame in range {
                                let (gi, t) = (frame / s, frame % s)
                                let row = gi * (1 + s * l) * c, base = d + frame * (1 + l) * c
                                Kernels.table.scale(gp + row, factors[frame] / Float(s), base, c)
                                Kernels.table.scale(gp + row + (1 + t * l) * c, factors[frame], base + c, l * c)
                            }
                        }
                    }
                }
                return [needs[0] ? g : nil, df]
            }
        }
    }
}

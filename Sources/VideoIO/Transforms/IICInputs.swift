import TensorCore

/// How a residual clip is scaled (`reference/SVT-VideoMS-IIC.md` §3.3).
public enum ResidualScaling: String, Sendable, Hashable, CaseIterable {
    /// `((x − shift) + 1)/2`, in `[0, 1]` for inputs in `[0, 1]`: IIC's pre-training and retrieval form.
    case scaled
    /// `x − shift`, in `[−1, 1]`: IIC's fine-tuning form (`ft_classify.py`; the author's issue #2).
    case unscaled
}

/// The intra-negative of a clip: the same frames with their temporal structure destroyed
/// (`reference/SVT-VideoMS-IIC.md` §3.4, `gen_neg.py`).
public enum IntraNegative: String, Sendable, Hashable, CaseIterable {
    /// One frame, drawn uniformly, tiled over the whole clip (a static clip).
    case `repeat`
    /// IIC's `adjacent_shuffle`: four chunks of `T/4` frames; chunk `i` (uniform in 0..<4) swaps
    /// with chunk `j = (i + r + 1) mod 4`, `r` uniform in 0..<3 (any other chunk, never the identity).
    case shuffle
}

/// What a clip is turned into before the network sees it: RGB, or a residual clip.
public enum ClipInput: String, Sendable, Hashable, CaseIterable {
    /// The frames themselves.
    case rgb
    /// ``ResidualScaling/scaled`` residual frames (pre-training, retrieval).
    case residual
    /// ``ResidualScaling/unscaled`` residual frames (IIC's fine-tuning input).
    case residualUnscaled = "residual_unscaled"

    /// The clip `[T, 3, H, W]` or clips `[B, T, 3, H, W]` in this form.
    ///
    /// - Throws: ``TransformError`` for a clip of another rank.
    public func apply(_ clip: Tensor) throws(TransformError) -> Tensor {
        switch self {
        case .rgb: clip
        case .residual: try ClipTransforms.residual(clip, scaling: .scaled)
        case .residualUnscaled: try ClipTransforms.residual(clip, scaling: .unscaled)
        }
    }
}

extension ClipTransforms {
    /// The residual clip of `[T, C, H, W]` or `[B, T, C, H, W]`: frame `t` minus frame `t − 1`, with
    /// frame 0 taking frame `T − 1` as its predecessor (`torch.roll(x, 1, time)`, circular), then
    /// scaled as `scaling` says.
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` for a rank other than 4 or 5.
    public static func residual(_ clip: Tensor, scaling: ResidualScaling = .scaled) throws(TransformError) -> Tensor {
        let (batch, frames, block) = try frameBlocks(clip, op: "residual")
        let scaled = scaling == .scaled
        return Tensor(shape: clip.shape) { out in
            clip.withUnsafeBufferPointer { x in
                for b in 0..<batch {
                    for t in 0..<frames {
                        let here = (b * frames + t) * block, before = (b * frames + (t + frames - 1) % frames) * block
                        if scaled {
                            for k in 0..<block { out[here + k] = ((x[here + k] - x[before + k]) + 1) / 2 }
                        } else {
                            for k in 0..<block { out[here + k] = x[here + k] - x[before + k] }
                        }
                    }
                }
            }
        }
    }

    /// The frame order of one intra-negative of a `frameCount`-frame clip: output frame `i` is input
    /// frame `result[i]`. ``IntraNegative/repeat`` draws `nextInt(below: T)`;
    /// ``IntraNegative/shuffle`` draws `i = nextInt(below: 4)` then `r = nextInt(below: 3)`.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when `frameCount`
    ///   is not positive, or for `shuffle` not a multiple of 4 of at least 4.
    public static func intraNegativeFrames(
        _ kind: IntraNegative, frameCount: Int, using generator: inout RandomGenerator
    ) throws(TransformError) -> [Int] {
        guard frameCount > 0 else {
            throw .invalidParameter(op: "intraNegative", name: "frameCount", value: "\(frameCount)", requirement: "must be positive")
        }
        switch kind {
        case .repeat:
            return [Int](repeating: generator.nextInt(below: frameCount), count: frameCount)
        case .shuffle:
            guard frameCount % 4 == 0 else {
                throw .invalidParameter(op: "intraNegative", name: "frameCount", value: "\(frameCount)",
                                        requirement: "shuffle swaps 4 equal chunks, so it needs a multiple of 4 frames")
            }
            let chunk = frameCount / 4
            let i = generator.nextInt(below: 4)
            let j = (i + generator.nextInt(below: 3) + 1) % 4
            var order = Array(0..<frameCount)
            for k in 0..<chunk { order.swapAt(i * chunk + k, j * chunk + k) }
            return order
        }
    }

    /// Intra-negatives of `[T, C, H, W]` or, one per sample in batch order, `[B, T, C, H, W]`.
    ///
    /// - Throws: ``TransformError`` for a rank other than 4 or 5, or a frame count `kind` cannot use.
    public static func intraNegative(
        _ clip: Tensor, kind: IntraNegative, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        let (batch, frames, block) = try frameBlocks(clip, op: "intraNegative")
        var orders: [[Int]] = []
        for _ in 0..<batch { orders.append(try intraNegativeFrames(kind, frameCount: frames, using: &generator)) }
        return Tensor(shape: clip.shape) { out in
            clip.withUnsafeBufferPointer { x in
                for (b, order) in orders.enumerated() {
                    for (t, source) in order.enumerated() {
                        let to = (b * frames + t) * block, from = (b * frames + source) * block
                        for k in 0..<block { out[to + k] = x[from + k] }
                    }
                }
            }
        }
    }

    /// Samples, frames per sample and values per frame of a `[T, …]` or `[B, T, …]` clip.
    private static func frameBlocks(_ clip: Tensor, op: String) throws(TransformError) -> (Int, Int, Int) {
        switch clip.rank {
        case 4: return (1, clip.shape[0], clip.shape[1] * clip.shape[2] * clip.shape[3])
        case 5: return (clip.shape[0], clip.shape[1], clip.shape[2] * clip.shape[3] * clip.shape[4])
        default: throw .invalidClip(op: op, shape: clip.shape, reason: "expected [T, C, H, W] or [B, T, C, H, W]")
        }
    }
}

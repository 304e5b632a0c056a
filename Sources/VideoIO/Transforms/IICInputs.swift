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

extension ClipTransforms {
    /// Optical-flow views of clips `[T, 3, H, W]` or `[B, T, 3, H, W]` (values in `[0, 1]`), IIC's
    /// `u` and `v` inputs made on the fly: the horizontal and vertical components, each as a
    /// three-channel clip in `[0, 1]`.
    ///
    /// IIC reads TV-L1 flow pre-extracted as 8-bit JPEGs (§3.2); here the flow is this package's
    /// Farneback (``OpticalFlow/farneback(previous:next:parameters:initialFlow:)``) between
    /// consecutive frames of the clip itself, on gray frames `(0.299 R + 0.587 G + 0.114 B)·255`.
    /// Frame `t` holds the flow from `t` to `t + 1`; the last frame repeats the one before it. Each
    /// component is clamped to `±bound` pixels and mapped to `(c + bound) / (2·bound)`, the usual
    /// encoding of flow JPEGs (bound 20), and copied to the three channels. Unlike the reference,
    /// whose flow views get crops of their own, these views share the RGB clip's crop.
    ///
    /// - Throws: ``TransformError`` for a clip of another shape or fewer than two frames;
    ///   ``OpticalFlowError`` from the flow.
    public static func flowViews(
        _ clip: Tensor, bound: Float = 20, parameters: FarnebackParameters = .time
    ) throws -> (u: Tensor, v: Tensor) {
        guard (clip.rank == 4 || clip.rank == 5), clip.shape[clip.rank - 3] == 3 else {
            throw TransformError.invalidClip(op: "flowViews", shape: clip.shape, reason: "expected [T, 3, H, W] or [B, T, 3, H, W]")
        }
        guard bound > 0 else {
            throw TransformError.invalidParameter(op: "flowViews", name: "bound", value: "\(bound)", requirement: "must be positive")
        }
        let (batch, frames) = clip.rank == 5 ? (clip.shape[0], clip.shape[1]) : (1, clip.shape[0])
        let (h, w) = (clip.shape[clip.rank - 2], clip.shape[clip.rank - 1])
        guard frames >= 2 else {
            throw TransformError.invalidClip(op: "flowViews", shape: clip.shape, reason: "flow needs at least two frames")
        }
        let plane = h * w
        var u = [Float](repeating: 0, count: clip.count), v = u
        let values = clip.scalars
        func gray(_ b: Int, _ t: Int) throws -> GrayImage {
            let base = (b * frames + t) * 3 * plane
            return try GrayImage(width: w, height: h, pixels: (0..<plane).map { i in
                (0.299 * values[base + i] + 0.587 * values[base + plane + i] + 0.114 * values[base + 2 * plane + i]) * 255
            })
        }
        for b in 0..<batch {
            var previous = try gray(b, 0)
            for t in 0..<(frames - 1) {
                let next = try gray(b, t + 1)
                let flow = try OpticalFlow.farneback(previous: previous, next: next, parameters: parameters)
                for target in t == frames - 2 ? [t, t + 1] : [t] {
                    let base = (b * frames + target) * 3 * plane
                    for i in 0..<plane {
                        let du = (Swift.min(Swift.max(flow.vectors[2 * i], -bound), bound) + bound) / (2 * bound)
                        let dv = (Swift.min(Swift.max(flow.vectors[2 * i + 1], -bound), bound) + bound) / (2 * bound)
                        for c in 0..<3 {
                            u[base + c * plane + i] = du
                            v[base + c * plane + i] = dv
                        }
                    }
                }
                previous = next
            }
        }
        return (Tensor(shape: clip.shape, scalars: u), Tensor(shape: clip.shape, scalars: v))
    }
}

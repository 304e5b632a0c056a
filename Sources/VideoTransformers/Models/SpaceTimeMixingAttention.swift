import TensorCore

/// X-ViT's space-time mixing attention as TIME runs it (`reference/TIME.md` §2.3): per-frame
/// self-attention whose keys and values are partly taken from the neighbouring frames.
///
/// Input: per-frame sequences `[B·T, K + N, C]`, the `T = layout.frames` frames of one clip
/// contiguous along the batch axis and each sequence one frame's `K` class tokens and `N` patches
/// (`layout.length` does not apply here). After the `qkv` projection, key and value channels are
/// split in folds of `C / shiftDivisor`: channels `[0, fold)` come from frame `t + 1`, channels
/// `[fold, 2·fold)` from frame `t − 1`, the rest from frame `t`; a missing neighbour (past either
/// end of the clip) gives zeros. Every token slot shifts, class tokens included; queries never do.
///
/// Channel `head·d + j` belongs to head `head`. With ViT-B (C 768, 12 heads, d 64, fold 192)
/// the folds are whole heads: heads 0–2 read frame `t + 1` and heads 3–5 frame `t − 1`. When
/// `d` does not divide the fold (the tiny variant: C 192, 3 heads, d 64, fold 48) a head mixes
/// shifted and unshifted channels: head 0 has channels 0–47 from `t + 1` and 48–63 from `t − 1`,
/// head 1 channels 0–31 from `t − 1`, as the reference's channel-wise shift does.
///
/// State-dict keys: `qkv` (C → 3C) and `proj`, as timm's `Attention`; there are no extra parameters.
public final class SpaceTimeMixingAttention: Module, TokenMixer {
    /// The fused query/key/value projection, C → 3C.
    public let qkv: Linear
    /// The output projection, C → C.
    public let proj: Linear
    /// The number of heads.
    public let heads: Int
    /// The multiplier of the query–key scores, `d^-1/2`.
    public let scale: Float
    /// `C / shiftDivisor` channels shift forward and as many backward (4 in X-ViT).
    public let shiftDivisor: Int

    /// Creates the layer for `dim` channels split into `heads` heads (PyTorch default initialisation).
    public init(dim: Int, heads: Int, shiftDivisor: Int = 4, qkvBias: Bool = true,
                using generator: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0,
                     "SpaceTimeMixingAttention: dimension \(dim) is not divisible by \(heads) heads")
        precondition(shiftDivisor >= 2, "SpaceTimeMixingAttention: shift divisor \(shiftDivisor) must be at least 2")
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, bias: qkvBias, using: &generator)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        self.heads = heads
        self.shiftDivisor = shiftDivisor
        scale = 1 / Float(dim / heads).squareRoot()
        super.init()
    }

    /// Mixes per-frame sequences `x` `[B·T, K + N, C]` (see the type's description for the layout).
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor {
        let c = proj.outFeatures
        let (t, l) = (layout.frames, layout.classTokens + layout.patchesPerFrame)
        precondition(x.rank == 3 && x.shape[0] % t == 0 && x.shape[1] == l && x.shape[2] == c,
                     "SpaceTimeMixingAttention: tokens \(x.shape) are not [B·\(t), \(l), \(c)]")
        let (bt, h, d) = (x.shape[0], heads, c / heads)
        let parts = qkv(x).reshaped([bt, l, 3, c])
        func component(_ i: Int) -> Tensor { parts.slice(axis: 2, range: i..<(i + 1)).reshaped([bt, l, c]) }
        func headsFirst(_ z: Tensor) -> Tensor { z.reshaped([bt, l, h, d]).permuted([0, 2, 1, 3]) }
        let key = shifted(component(1), frames: t)
        let value = shifted(component(2), frames: t)
        let out = Tensor.scaledDotProductAttention(query: headsFirst(component(0)), key: headsFirst(key),
                                                   value: headsFirst(value), scale: scale)
        return proj(out.permuted([0, 2, 1, 3]).reshaped([bt, l, c]))
    }

    /// `z` `[B·T, L, C]` with its first fold of channels read from the next frame and its second
    /// fold from the previous one, zeros where there is no such frame.
    func shifted(_ z: Tensor, frames t: Int) -> Tensor {
        let (bt, l, c) = (z.shape[0], z.shape[1], z.shape[2])
        let fold = c / shiftDivisor
        guard fold > 0 else { return z }
        let clip = z.reshaped([bt / t, t, l, c])
        func channels(_ range: Range<Int>) -> Tensor { clip.slice(axis: 3, range: range) }
        let forward: Tensor, backward: Tensor
        if t == 1 {
            forward = Tensor(zeros: [bt, 1, l, fold])
            backward = forward
        } else {
            forward = channels(0..<fold).slice(axis: 1, range: 1..<t).padded([(0, 1), (0, 0), (0, 0)])
            backward = channels(fold..<(2 * fold)).slice(axis: 1, range: 0..<(t - 1)).padded([(1, 0), (0, 0), (0, 0)])
        }
        return Tensor.concat([forward, backward, channels((2 * fold)..<c)], axis: 3).reshaped([bt, l, c])
    }
}

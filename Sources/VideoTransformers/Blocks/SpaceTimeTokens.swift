import TensorCore

/// The input sequence shared by TimeSformer and Motionformer: per-frame patch tokens in "t n" order
/// with the (resampled) spatial position embedding and a per-frame time embedding, after one class
/// token carrying `cls_token + pos_embed[0]` (TIME §2.1 step 1–5, §2.2 embedding).
enum SpaceTimeTokens {
    /// `[B, 1 + T·N, C]` tokens and their layout for a clip `[B, T, 3, H, W]`.
    ///
    /// Every frame's class copy would be `cls_token + pos_embed[0]` without time embedding, so one
    /// copy per video stands for all of them.
    static func embed(
        _ clip: Tensor, op: String, patchEmbed: PatchEmbed, clsToken: Tensor, posEmbed: Tensor,
        timeEmbed: Tensor, gridSize g: Int, patchSize: Int,
        positionInterpolation: TransformerConfig.PositionInterpolation = .bicubic
    ) -> (tokens: Tensor, layout: TokenLayout) {
        let (b, t, h, w) = ClipShape.check(clip, op: op, patchSize: patchSize)
        let c = clsToken.shape[clsToken.rank - 1]
        let (patches, gh, gw) = patchEmbed(clip.reshaped([b * t, 3, h, w]))
        let n = gh * gw
        let pos = positionInterpolation == .nearest
            ? EmbeddingResampling.nearest(posEmbed, from: (g, g), to: (gh, gw))
            : EmbeddingResampling.bicubic(posEmbed, from: (g, g), to: (gh, gw))
        // Other frame counts resample the time embedding by nearest frame.
        let time = EmbeddingResampling.nearest(timeEmbed, frames: t).reshaped([1, t, 1, c])
        let cls = (clsToken + pos.slice(axis: 1, range: 0..<1)).broadcast(to: [b, 1, c])
        let framed = (patches + pos.slice(axis: 1, range: 1..<(1 + n))).reshaped([b, t, n, c]) + time
        let tokens = Tensor.concat([cls, framed.reshaped([b, t * n, c])], axis: 1)
        return (tokens, TokenLayout(frames: t, gridHeight: gh, gridWidth: gw, classTokens: 1))
    }

    /// Splits final tokens `[B, 1 + T·N, C]` into the class embedding `[B, C]` and patch tokens
    /// `[B, T, N, C]`.
    static func split(_ x: Tensor, layout: TokenLayout) -> (cls: Tensor, tokens: Tensor) {
        let (b, c) = (x.shape[0], x.shape[2])
        let (t, n) = (layout.frames, layout.patchesPerFrame)
        return (x.slice(axis: 1, range: 0..<1).reshaped([b, c]),
                x.slice(axis: 1, range: 1..<(1 + t * n)).reshaped([b, t, n, c]))
    }
}

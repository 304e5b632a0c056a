/// The two attentions of divided space-time attention (TimeSformer), read straight from a fused
/// query/key/value projection of tokens laid out `[B, 1 + T·N, ·]`: one class token, then the
/// patches of frame 0, frame 1, … ("t n" order).
///
/// Temporal attention lets each patch position attend over its own position in the other frames;
/// the class token takes no part. Spatial attention lets each frame attend over the class token
/// followed by the frame's patches; the class token is shared by every frame of its clip, so it is
/// read once and its gradient is the sum over the frames. Neither regrouping the tokens nor
/// copying the class token per frame is ever materialised (the heads are addressed as in
/// ``Tensor/packedAttention(qkv:heads:scale:)``).
///
/// VJP: that of ``Tensor/scaledDotProductAttention(query:key:value:scale:)`` per sequence, written
/// into one gradient of `qkv`'s layout (zero for the class token's row in temporal attention).
extension Tensor {
    /// Temporal attention over `frames` frames: `qkv` `[B, 1 + T·N, 3·C]` gives the patch outputs
    /// `[B, T·N, C]` (the class token is skipped).
    ///
    /// - Parameters:
    ///   - heads: the number of heads `H`; `C` must be divisible by it.
    ///   - scale: multiplier of the scores; `1/√d` (d = C / H) when `nil`.
    public static func temporalAttention(qkv: Tensor, frames: Int, heads: Int, scale: Float? = nil) -> Tensor {
        let (b, n, c) = dividedAttentionShape(qkv, frames: frames, heads: heads, op: "temporalAttention")
        let problem = PackedAttentionProblem(
            groups: b, perGroup: n, length: frames, heads: heads, width: c, scale: scale,
            input: PackedAttentionRows(groupRows: 1 + frames * n, first: 1, sequenceStep: 1, tokenStep: n),
            prefixRow: nil,
            output: PackedAttentionRows(groupRows: frames * n, first: 0, sequenceStep: 1, tokenStep: n))
        return packedAttention(qkv: qkv, problem: problem, outShape: [b, frames * n, c], op: "temporalAttention")
    }

    /// Spatial attention within each of `frames` frames, with the class token first: `qkv`
    /// `[B, 1 + T·N, 3·C]` gives `[B, T, 1 + N, C]`, where row 0 of frame `t` is the class token's
    /// output as frame `t` sees it.
    ///
    /// - Parameters:
    ///   - heads: the number of heads `H`; `C` must be divisible by it.
    ///   - scale: multiplier of the scores; `1/√d` (d = C / H) when `nil`.
    public static func spatialAttention(qkv: Tensor, frames: Int, heads: Int, scale: Float? = nil) -> Tensor {
        let (b, n, c) = dividedAttentionShape(qkv, frames: frames, heads: heads, op: "spatialAttention")
        let problem = PackedAttentionProblem(
            groups: b, perGroup: frames, length: n, heads: heads, width: c, scale: scale,
            input: PackedAttentionRows(groupRows: 1 + frames * n, first: 1, sequenceStep: n, tokenStep: 1),
            prefixRow: 0,
            output: PackedAttentionRows(groupRows: frames * (1 + n), first: 1, sequenceStep: 1 + n, tokenStep: 1))
        return packedAttention(qkv: qkv, problem: problem, outShape: [b, frames, 1 + n, c], op: "spatialAttention")
    }

    /// The class token's rows of ``spatialAttention(qkv:frames:heads:scale:)`` alone: `qkv`
    /// `[B, 1 + T·N, 3·C]` gives `[B, T, C]`, the class token's output as each frame sees it.
    ///
    /// Only the class token's query attends; the patches serve as keys and values, and their queries
    /// get a zero gradient. This is all a model's last block needs when only the class embedding is
    /// read.
    public static func spatialAttentionOfClassToken(qkv: Tensor, frames: Int, heads: Int, scale: Float? = nil) -> Tensor {
        let (b, n, c) = dividedAttentionShape(qkv, frames: frames, heads: heads, op: "spatialAttentionOfClassToken")
        let problem = PackedAttentionProblem(
            groups: b, perGroup: frames, length: n, heads: heads, width: c, scale: scale,
            input: PackedAttentionRows(groupRows: 1 + frames * n, first: 1, sequenceStep: n, tokenStep: 1),
            prefixRow: 0,
            output: PackedAttentionRows(groupRows: frames, first: 0, sequenceStep: 1, tokenStep: 1),
            prefixQueriesOnly: true)
        return packedAttention(qkv: qkv, problem: problem, outShape: [b, frames, c], op: "spatialAttentionOfClassToken")
    }

    /// `(B, N, C)` of divided attention's `qkv`, stopping with a message naming `op` when it is not
    /// `[B, 1 + T·N, 3·C]` with N > 0 and C divisible by `heads`.
    private static func dividedAttentionShape(_ qkv: Tensor, frames: Int, heads: Int, op: String) -> (Int, Int, Int) {
        let shape = qkv.shape
        precondition(
            shape.count == 3 && frames > 0 && heads > 0 && shape[2] > 0 && shape[2] % (3 * heads) == 0
                && shape[1] > 1 && (shape[1] - 1) % frames == 0,
            "\(op): qkv \(shape) is not [B, 1 + \(frames)·N, 3·C] with C divisible by \(heads) heads")
        return (shape[0], (shape[1] - 1) / frames, shape[2] / 3)
    }
}

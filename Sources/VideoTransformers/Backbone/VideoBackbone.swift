import TensorCore

/// The contract every backbone offers to objectives and training code: a class embedding and a
/// classifier head.
///
/// Input clips are `[B, T, 3, H, W]` (RGB, normalised). Patch tokens are a further capability,
/// ``TokenBackbone``, that transformer backbones offer and token objectives (TIME's order and
/// flow heads, VideoMAE) require; a 3D CNN offers the class embedding (its pooled features) only.
public protocol VideoBackbone: Module {
    /// The width `C` of the class embedding.
    var embedDim: Int { get }
    /// The number of frames the model was configured for.
    var frameCount: Int { get }
    /// Parameter keys the reference marks as exempt from weight decay (timm's `no_weight_decay()`).
    /// TIME's own recipe ignores this and decays by rank (`reference/TIME.md` §1.5); the training
    /// code chooses which rule to apply.
    var noWeightDecayKeys: Set<String> { get }

    /// The class embedding `[B, C]` of a clip `[B, T, 3, H, W]`: what the head and evaluation read.
    func classEmbedding(_ clip: Tensor) -> Tensor

    /// Class logits `[B, K]` from the class embedding `[B, C]`; the identity when the model has no
    /// classifier (`numClasses == 0`).
    func head(_ cls: Tensor) -> Tensor
}

/// A backbone that also exposes its final patch tokens, one per patch per frame.
///
/// Clips may have any frame count `T` and any crop whose sides are multiples of ``patchSize``:
/// learned position and time embeddings are resampled when the input differs from the configured
/// size (``EmbeddingResampling``).
public protocol TokenBackbone: VideoBackbone {
    /// The side of a square patch in pixels.
    var patchSize: Int { get }

    /// The class embedding `cls` `[B, C]` and the patch tokens `[B, T, N, C]` (after the final norm
    /// or the model's own pre-logits transform; class tokens excluded), which TIME's order and
    /// flow heads read.
    func features(_ clip: Tensor) -> (cls: Tensor, tokens: Tensor)
}

extension TokenBackbone {
    /// `features(clip).cls`; a backbone may skip the work that only the patch tokens' outputs need.
    public func classEmbedding(_ clip: Tensor) -> Tensor { features(clip).cls }

    /// Class logits `[B, K]` and patch tokens `[B, T, N, C]` from one forward: the `forward` that
    /// TIME's step takes.
    public func logitsAndTokens(_ clip: Tensor) -> (logits: Tensor, tokens: Tensor) {
        let (cls, tokens) = features(clip)
        return (head(cls), tokens)
    }
}

extension VideoBackbone {
    /// Class logits `[B, K]` of a clip `[B, T, 3, H, W]`: `head(classEmbedding(clip))`.
    public func callAsFunction(_ clip: Tensor) -> Tensor { head(classEmbedding(clip)) }
}

/// Shape checks shared by the backbones.
enum ClipShape {
    /// `(B, T, H, W)` of a clip, stopping with a message naming `op` when the clip is malformed.
    static func check(_ clip: Tensor, op: String, patchSize: Int) -> (b: Int, t: Int, h: Int, w: Int) {
        precondition(clip.rank == 5 && clip.shape[2] == 3 && clip.shape[0] > 0 && clip.shape[1] > 0
                     && clip.shape[3] % patchSize == 0 && clip.shape[4] % patchSize == 0
                     && clip.shape[3] > 0 && clip.shape[4] > 0,
                     "\(op): clip \(clip.shape) must be [B, T, 3, H, W] with H and W positive multiples of \(patchSize)")
        return (clip.shape[0], clip.shape[1], clip.shape[3], clip.shape[4])
    }
}

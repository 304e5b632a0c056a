import TensorCore

/// Image TIME's patch-order head: predicts each patch token's spatial position in its image.
///
/// The frame-order task of `reference/TIME.md` §1.1 carried over to space (§1.7): a single linear
/// layer `patch_head` maps every final patch token `[C]` to `N` logits, one per grid position, and
/// the target of token `n` is `n` (row-major over the patch grid). Position embeddings are added
/// only at the input, so the task makes the network keep where each token came from through its
/// depth — in particular which tokens belong to the object and which to its surroundings.
public final class PatchOrderHead: Module {
    /// Linear(C → N), state-dict key `patch_head`.
    public let patchHead: Linear

    /// Creates the head for `embedDim`-wide tokens over `patchCount` positions, with PyTorch's
    /// default Linear initialisation.
    public init(embedDim: Int, patchCount: Int, using generator: inout RandomGenerator) {
        precondition(embedDim > 0 && patchCount > 1,
                     "PatchOrderHead: needs embedDim > 0 and patchCount > 1, got \(embedDim), \(patchCount)")
        patchHead = Linear(inFeatures: embedDim, outFeatures: patchCount, using: &generator)
    }

    /// The number of patch positions `N` (also the number of classes).
    public var patchCount: Int { patchHead.outFeatures }

    /// Position logits `[B, T, N, N]` from patch tokens `[B, T, N, C]` (an image is `T = 1`).
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        precondition(tokens.rank == 4 && tokens.shape[2] == patchCount,
                     "PatchOrderHead: tokens must be [B, T, \(patchCount), C], got \(tokens.shape)")
        return patchHead(tokens)
    }

    /// The label-smoothed cross-entropy of position logits `[B, T, N, N]` against the targets
    /// 0…N−1 of every image, averaged over the `B·T·N` rows: TIME's order loss (§1.1) with the
    /// `B·T` images in the place of clips and their tokens in the place of frames.
    public static func loss(_ logits: Tensor, labelSmoothing: Float) -> Tensor {
        precondition(logits.rank == 4 && logits.shape[2] == logits.shape[3],
                     "PatchOrderHead.loss: logits must be [B, T, N, N], got \(logits.shape)")
        let n = logits.shape[2]
        return FrameOrderHead.loss(logits.reshaped([logits.shape[0] * logits.shape[1], n, n]),
                                   labelSmoothing: labelSmoothing)
    }
}

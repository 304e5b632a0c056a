import TensorCore

/// TIME's frame-order head: predicts each frame's absolute position in the unshuffled clip.
///
/// Each frame's patch tokens are averaged into one descriptor (the class token is not used), then a
/// single linear layer `temp_head` maps it to `T` logits (`reference/TIME.md` §1.1). Because time
/// embeddings are added only at the input, the task makes the network carry frame position
/// through its depth.
public final class FrameOrderHead: Module {
    /// Linear(C → T), state-dict key `temp_head`.
    public let tempHead: Linear

    /// The number of frames `T` (also the number of classes).
    public let frameCount: Int

    /// Creates the head for `embedDim`-wide tokens and clips of `frameCount` frames, with PyTorch's
    /// default Linear initialisation.
    public init(embedDim: Int, frameCount: Int, using generator: inout RandomGenerator) {
        precondition(embedDim > 0 && frameCount > 1,
                     "FrameOrderHead: needs embedDim > 0 and frameCount > 1, got \(embedDim), \(frameCount)")
        self.frameCount = frameCount
        self.tempHead = Linear(inFeatures: embedDim, outFeatures: frameCount, using: &generator)
    }

    /// Frame-order logits `[B, T, T]` from patch tokens `[B, T, N, C]`.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        TIMEShapes.checkTokens(tokens, op: "FrameOrderHead", frames: frameCount)
        return tempHead(tokens.mean(axis: 2))
    }

    /// The label-smoothed cross-entropy of order logits `[B, T, T]` against the targets 0…T−1 of
    /// every clip, averaged over the `B·T` rows.
    public static func loss(_ logits: Tensor, labelSmoothing: Float) -> Tensor {
        precondition(logits.rank == 3 && logits.shape[1] == logits.shape[2],
                     "FrameOrderHead.loss: logits must be [B, T, T], got \(logits.shape)")
        let (b, t) = (logits.shape[0], logits.shape[1])
        let targets = (0..<b).flatMap { _ in 0..<t }
        return crossEntropy(logits: logits.reshaped([b * t, t]), labels: targets, labelSmoothing: labelSmoothing)
    }
}

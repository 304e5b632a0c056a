import TensorCore

/// TIME's debiasing loss: the class logits of a frame-shuffled clip are pushed towards the uniform
/// distribution over classes (`reference/TIME.md` §1.2).
///
/// L = −(1/B) Σ_b (1/K) Σ_k log softmax(p̃_b)_k = KL(U ‖ softmax(p̃)) + ln K, with no label
/// smoothing. Its minimum, ln K, is reached exactly when every row of logits is constant.
public struct DebiasLoss: Sendable {
    /// Creates the loss.
    public init() {}

    /// The loss for class logits `[B, K]` of shuffled clips.
    public func callAsFunction(_ shuffledLogits: Tensor) -> Tensor {
        precondition(shuffledLogits.rank == 2 && shuffledLogits.shape[1] > 0,
                     "DebiasLoss: logits must be [B, K], got \(shuffledLogits.shape)")
        return -shuffledLogits.logSoftmax(axis: 1).mean()
    }

    /// Draws the one frame permutation shared by the whole batch (it may be the identity, with
    /// probability 1/T!, as in the reference).
    public static func framePermutation(frameCount: Int, using generator: inout RandomGenerator) -> [Int] {
        precondition(frameCount > 0, "DebiasLoss.framePermutation: frameCount \(frameCount) must be positive")
        return generator.permutation(frameCount)
    }

    /// Reorders the frames (axis 1) of a clip batch `[B, T, …]`: frame `i` of the result is frame
    /// `permutation[i]` of the input.
    public static func shuffleFrames(_ clips: Tensor, permutation: [Int]) -> Tensor {
        precondition(clips.rank >= 2 && clips.shape[1] == permutation.count
                     && Set(permutation) == Set(0..<permutation.count),
                     "DebiasLoss.shuffleFrames: permutation \(permutation) does not fit clips \(clips.shape)")
        return clips.indexSelect(axis: 1, indices: permutation)
    }
}

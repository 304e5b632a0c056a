import TensorCore

/// Image TIME's debiasing loss: the class logits of *background-only* images (the foreground
/// removed) are pushed towards the uniform distribution over classes (`reference/TIME.md` §1.7).
///
/// It is TIME's ``DebiasLoss`` (§1.2: plain uniform-target cross-entropy, no label smoothing,
/// minimum ln K) applied to a different input: where video TIME removes the temporal evidence by
/// shuffling frames, image TIME removes the object and keeps the scene, so a model that still
/// names the class from the background alone is penalised.
public struct BackgroundDebiasLoss: Sendable {
    /// The uniform-target cross-entropy both variants share.
    public let uniform = DebiasLoss()

    /// Creates the loss.
    public init() {}

    /// The loss for class logits `[B, K]` of background-only images.
    public func callAsFunction(_ backgroundLogits: Tensor) -> Tensor {
        uniform(backgroundLogits)
    }
}

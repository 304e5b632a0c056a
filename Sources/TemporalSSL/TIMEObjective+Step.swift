import TensorCore

extension TIMEObjective {
    /// TIME's whole training step for any model, given as two closures: the clips' forward and the
    /// forward of the same clips with their frames permuted (`reference/TIME.md` §1.0–1.4).
    ///
    /// 1. `forward(clips)` gives the class logits `[B, K]` and patch tokens `[B, T, N, C]`;
    /// 2. one frame permutation for the whole batch is drawn from `generator`;
    /// 3. `classify(shuffled clips)` gives the shuffled clips' class logits (the debias term);
    /// 4. ``lossTerms(_:)`` turns both into the weighted terms `cls`, `order`, `debias`, `flow`.
    ///
    /// Both forwards must run in training mode with the same weights, as in the reference. The
    /// trainer, the step benchmark, the DocC article and the example package all call this one
    /// function, so they compute the same thing.
    ///
    /// ```swift
    /// let (terms, logits) = time.step(clips: clips, labels: labels, flowLabels: flow, using: &generator,
    ///                                 forward: { myModel.logitsAndTokens($0) }, classify: { myModel($0) })
    /// terms.total.backward()
    /// ```
    ///
    /// - Parameters:
    ///   - clips: `[B, T, 3, H, W]` clips.
    ///   - labels: one class label per clip.
    ///   - flowLabels: flow-direction labels `[B, T−1, N]` (values 0…8).
    /// - Returns: the terms (recorded for backward) and the original clips' class logits.
    public func step(
        clips: Tensor, labels: [Int], flowLabels: IntTensor, using generator: inout RandomGenerator,
        forward: (Tensor) -> (logits: Tensor, tokens: Tensor), classify: (Tensor) -> Tensor
    ) -> (terms: LossTerms, logits: Tensor) {
        precondition(clips.rank == 5, "TIMEObjective.step: clips \(clips.shape) must be [B, T, 3, H, W]")
        let (logits, tokens) = forward(clips)
        let permutation = DebiasLoss.framePermutation(frameCount: clips.shape[1], using: &generator)
        let shuffled = classify(DebiasLoss.shuffleFrames(clips, permutation: permutation))
        let terms = lossTerms(Inputs(
            classLogits: logits, labels: labels, tokens: tokens, shuffledClassLogits: shuffled,
            flowLabels: flowLabels))
        return (terms, logits)
    }
}

import TemporalSSL
import TensorCore
import VideoTransformers

extension TIMEObjective {
    /// TIME's loss terms for `clips` through `model` and the clips' class logits, both recorded for
    /// backward: the clips' forward (class logits and patch tokens) and the forward of the same clips
    /// with their frames permuted by a permutation drawn from `generator` (debias loss).
    ///
    /// The trainer's step and ``StepBenchmark``'s TIME step both run this, so the benchmark measures
    /// what training does.
    func lossTerms(
        model: any VideoBackbone, clips: Tensor, labels: [Int], flowLabels: IntTensor,
        using generator: inout RandomGenerator
    ) -> (terms: LossTerms, logits: Tensor) {
        let (cls, tokens) = model.features(clips)
        let logits = model.head(cls)
        let permutation = DebiasLoss.framePermutation(frameCount: clips.shape[1], using: &generator)
        let shuffled = model(DebiasLoss.shuffleFrames(clips, permutation: permutation))
        let terms = lossTerms(Inputs(
            classLogits: logits, labels: labels, tokens: tokens, shuffledClassLogits: shuffled,
            flowLabels: flowLabels))
        return (terms, logits)
    }
}

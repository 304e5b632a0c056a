import TensorCore

/// `numFrames` frames spread evenly over the whole video, first and last included.
///
/// Reproduces PyTorchVideo's `UniformTemporalSubsample`:
/// `torch.linspace(0, L - 1, numFrames).clamp(0, L - 1).long()`, including `linspace`'s float32
/// arithmetic (steps from the start for the first half, from the end for the second) and the
/// truncation of `.long()`. For `L = 30` and 8 frames: 0, 4, 8, 12, 16, 20, 24, 29.
public struct UniformSampler: ClipSampler {
    /// Frames per clip.
    public var numFrames: Int

    /// Creates a uniform sampler (`numFrames` must be positive).
    public init(numFrames: Int) {
        precondition(numFrames > 0, "UniformSampler: numFrames \(numFrames) must be positive")
        self.numFrames = numFrames
    }

    /// One clip; the generator is not used.
    public func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        precondition(frameCount > 0, "UniformSampler: frameCount \(frameCount) must be positive")
        let end = Float(frameCount - 1)
        guard numFrames > 1 else { return [ClipInfo(frameIndices: [0])] }
        let step = end / Float(numFrames - 1)
        let halfway = numFrames / 2
        let indices = (0..<numFrames).map { i -> Int in
            let value = i < halfway ? Float(i) * step : end - Float(numFrames - 1 - i) * step
            return Int(Swift.min(Swift.max(value, 0), end))
        }
        return [ClipInfo(frameIndices: indices)]
    }
}

import Foundation
internal import _CKernels

/// The scalar coefficients of one AdamW update, in PyTorch's single-tensor arithmetic.
public struct AdamWCoefficients: Sendable, Equatable {
    /// `p ← p·decay` first, when ``appliesDecay``.
    public var decay: Float
    /// Whether decoupled weight decay is applied.
    public var appliesDecay: Bool
    /// `m ← m + w1·(g − m)`.
    public var w1: Float
    /// `v ← v·b2 + w2·g²`.
    public var b2: Float, w2: Float
    /// `p ← p − stepSize·m / (√v̂ / correction2Sqrt + epsilon)`.
    public var stepSize: Float, correction2Sqrt: Float, epsilon: Float

    /// Coefficients of update number `step` (from 1) with PyTorch's bias corrections.
    public init(learningRate lr: Double, betas: (Double, Double), epsilon: Double, weightDecay: Double, step: Int) {
        let t = Double(step)
        decay = Float(1 - lr * weightDecay)
        appliesDecay = weightDecay != 0
        w1 = Float(1 - betas.0)
        b2 = Float(betas.1)
        w2 = Float(1 - betas.1)
        stepSize = Float(lr / (1 - pow(betas.0, t)))
        correction2Sqrt = Float(pow(1 - pow(betas.1, t), 0.5))
        self.epsilon = Float(epsilon)
    }
}

/// AdamW's element update through TensorCore's C kernels (AVX2/AVX-512 where the CPU has them),
/// split over the compute threads. Optimizers in other libraries call this instead of reaching
/// the C target.
public enum AdamWKernel {
    /// Updates `n` parameters `p` from gradients `g` and moments `m`, `v` in place; `vMax` is the
    /// AMSGrad running maximum, nil without AMSGrad.
    public static func update(
        _ c: AdamWCoefficients, parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
        firstMoments m: UnsafeMutablePointer<Float>, secondMoments v: UnsafeMutablePointer<Float>,
        maxSecondMoments vMax: UnsafeMutablePointer<Float>?, count n: Int
    ) {
        var coefficients = vssl_adamw_coefficients(
            decay: c.decay, apply_decay: c.appliesDecay ? 1 : 0, w1: c.w1, b2: c.b2, w2: c.w2,
            step_size: c.stepSize, correction2_sqrt: c.correction2Sqrt, epsilon: c.epsilon)
        let kernel = Kernels.table.adamw
        withUnsafePointer(to: &coefficients) { cp in
            ComputeContext.parallelFor(n, minimumChunk: 1 << 15) { range in
                let i = range.lowerBound
                kernel(cp, p + i, g + i, m + i, v + i, vMax.map { $0 + i }, range.count)
            }
        }
    }
}

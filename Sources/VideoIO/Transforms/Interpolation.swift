/// The kernel a clip resize uses, both with PyTorch's `F.interpolate(..., align_corners=False,
/// antialias=False)` conventions.
public enum ClipInterpolation: Sendable, Hashable {
    /// Two-tap linear interpolation per axis (`mode="bilinear"`).
    case bilinear
    /// Four-tap cubic convolution with a = -0.75 per axis (`mode="bicubic"`); values may overshoot
    /// the input range, as in PyTorch.
    case bicubic
}

/// For each output position along one axis: the input indices it reads and their weights.
///
/// Computed in Float with the exact expressions of PyTorch's CPU upsampling kernels
/// (`area_pixel_compute_source_index`, `compute_indices_weights_linear/cubic`) so results agree to
/// rounding.
struct ResampleTaps {
    let taps: Int
    var indices: [Int]
    var weights: [Float]

    init(input: Int, output: Int, filter: ClipInterpolation) {
        let scale = Float(input) / Float(output)
        switch filter {
        case .bilinear:
            taps = 2
            indices = []
            weights = []
            indices.reserveCapacity(2 * output)
            weights.reserveCapacity(2 * output)
            for o in 0..<output {
                // Linear mode clamps negative source positions to 0; cubic does not.
                let real = Swift.max(scale * (Float(o) + 0.5) - 0.5, 0)
                let i0 = Swift.min(Int(real.rounded(.down)), input - 1)
                let lambda = Swift.min(Swift.max(real - Float(i0), 0), 1)
                let i1 = i0 < input - 1 ? i0 + 1 : i0
                indices += [i0, i1]
                weights += [1 - lambda, lambda]
            }
        case .bicubic:
            taps = 4
            indices = []
            weights = []
            indices.reserveCapacity(4 * output)
            weights.reserveCapacity(4 * output)
            let a: Float = -0.75
            func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
            func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            for o in 0..<output {
                let real = scale * (Float(o) + 0.5) - 0.5
                let i = Int(real.rounded(.down))
                let t = real - Float(i)
                for k in 0..<4 { indices.append(Swift.min(Swift.max(i - 1 + k, 0), input - 1)) }
                weights += [far(t + 1), near(t), near(1 - t), far(2 - t)]
            }
        }
    }
}

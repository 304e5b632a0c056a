/// The Gaussian error linear unit in its exact erf form, PyTorch's default
/// (`F.gelu(x, approximate='none')`), which timm and the video transformers use.
///
/// Forward: `y = x·Φ(x) = 0.5·x·(1 + erf(x/√2))`. VJP: `dx = g·(Φ(x) + x·φ(x))` with
/// `φ(x) = exp(−x²/2)/√(2π)`, computed from the saved input. `erf` is the polynomial PyTorch's
/// vectorised CPU kernel uses (see ``FastMath``), so values agree with PyTorch on CPU to ~1e-7.
extension Tensor {
    /// GELU of each element, exact (erf) form.
    public func gelu() -> Tensor {
        let y = Tensor.geluApply(self, nil)
        let xd = detached()
        return Tensor.record("gelu", y, inputs: [self]) { _ in
            { g in [Tensor.geluApply(xd, g)] }
        }
    }

    private static var inverseSqrt2: Float { 0.70710678118654752 }
    private static var inverseSqrt2Pi: Float { 0.39894228040143268 }

    /// GELU of `x`, or, given an output gradient `g`, the input gradient `g·(Φ(x) + x·φ(x))`.
    private static func geluApply(_ x: Tensor, _ g: Tensor?) -> Tensor {
        Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalGradient(g) { pg in
                    guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                    ComputeContext.parallelFor(out.count, minimumChunk: 16_384) { range in
                        let (xs, ys, n) = (src + range.lowerBound, dst + range.lowerBound, range.count)
                        if let pg {
                            geluBackwardKernel(xs, pg + range.lowerBound, ys, n)
                        } else {
                            geluForwardKernel(xs, ys, n)
                        }
                    }
                }
            }
        }
    }

    private static func withOptionalGradient<R>(_ g: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let g else { return body(nil) }
        return g.storage.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    // Concrete loops (no closure per element) so the compiler can vectorise them.
    private static func geluForwardKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let v = x[i]
            y[i] = 0.5 * v * (1 + FastMath.erf(v * inverseSqrt2))
        }
    }

    private static func geluBackwardKernel(
        _ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        for i in 0..<n {
            let v = x[i]
            let cdf = 0.5 * (1 + FastMath.erf(v * inverseSqrt2))
            let pdf = FastMath.exp(-0.5 * v * v) * inverseSqrt2Pi
            dx[i] = g[i] * (cdf + v * pdf)
        }
    }
}

/// GELU (exact erf form) of each element of `x`.
public func gelu(_ x: Tensor) -> Tensor { x.gelu() }

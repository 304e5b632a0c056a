import Foundation

/// The Gaussian error linear unit in its exact erf form, PyTorch's default
/// (`F.gelu(x, approximate='none')`), which timm and the video transformers use.
///
/// Forward: `y = x·Φ(x) = 0.5·x·(1 + erf(x/√2))`. VJP: `dx = g·(Φ(x) + x·φ(x))` with
/// `φ(x) = exp(−x²/2)/√(2π)`, computed from the saved input.
extension Tensor {
    /// GELU of each element, exact (erf) form.
    public func gelu() -> Tensor {
        let y = Tensor.geluMap(self) { x in 0.5 * x * (1 + Foundation.erf(x * Tensor.inverseSqrt2)) }
        let xd = detached()
        return Tensor.record("gelu", y, inputs: [self]) { _ in
            { g in
                [Tensor.geluZip(g, xd) { g, x in
                    let cdf = 0.5 * (1 + Foundation.erf(x * Tensor.inverseSqrt2))
                    let pdf = Foundation.exp(-0.5 * x * x) * Tensor.inverseSqrt2Pi
                    return g * (cdf + x * pdf)
                }]
            }
        }
    }

    private static var inverseSqrt2: Float { 0.70710678118654752 }
    private static var inverseSqrt2Pi: Float { 0.39894228040143268 }
    private static var geluGrain: Int { 16_384 }

    @inline(__always)
    private static func geluMap(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                ComputeContext.parallelFor(out.count, minimumChunk: geluGrain) { range in
                    for i in range { dst[i] = f(src[i]) }
                }
            }
        }
    }

    @inline(__always)
    private static func geluZip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        Tensor(shape: a.shape) { out in
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    guard let sa = pa.baseAddress, let sb = pb.baseAddress, let dst = out.baseAddress else { return }
                    ComputeContext.parallelFor(out.count, minimumChunk: geluGrain) { range in
                        for i in range { dst[i] = f(sa[i], sb[i]) }
                    }
                }
            }
        }
    }
}

/// GELU (exact erf form) of each element of `x`.
public func gelu(_ x: Tensor) -> Tensor { x.gelu() }

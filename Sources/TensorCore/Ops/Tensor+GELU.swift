/// The Gaussian error linear unit in its exact erf form, PyTorch's default
/// (`F.gelu(x, approximate='none')`), which timm and the video transformers use.
///
/// Forward: `y = x·Φ(x) = 0.5·x·(1 + erf(x/√2))`. VJP: `dx = g·(Φ(x) + x·φ(x))` with
/// `φ(x) = exp(−x²/2)/√(2π)`, computed from the saved input. `erf` is a rational approximation
/// (absolute error below 4e-7, see ``Kernels``), so values agree with PyTorch's CPU kernel to
/// within 1e-6.
extension Tensor {
    /// GELU of each element, exact (erf) form.
    public func gelu() -> Tensor {
        let y = Tensor.geluApply(self, nil)
        let xd = detached()
        return Tensor.record("gelu", y, inputs: [self]) { _ in
            { g in [Tensor.geluApply(xd, g)] }
        }
    }

    /// GELU of `x`, or, given an output gradient `g`, the input gradient `g·(Φ(x) + x·φ(x))`.
    private static func geluApply(_ x: Tensor, _ g: Tensor?) -> Tensor {
        Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                withOptionalStorage(g) { pg in
                    guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                    // Transcendental work per element: worth splitting at a smaller size than a copy.
                    Kernels.forChunks(out.count, grain: 8_192) { start, length in
                        if let pg {
                            Kernels.table.gelu_backward(src + start, pg + start, dst + start, length)
                        } else {
                            Kernels.table.gelu_forward(src + start, dst + start, length)
                        }
                    }
                }
            }
        }
    }
}

/// GELU (exact erf form) of each element of `x`.
public func gelu(_ x: Tensor) -> Tensor { x.gelu() }

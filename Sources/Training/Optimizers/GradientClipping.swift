import Foundation
import TensorCore

/// Scales the gradients of `parameters` so that their joint norm is at most `maxNorm`, and returns
/// the norm before clipping — PyTorch's `torch.nn.utils.clip_grad_norm_`.
///
/// The joint norm is the `normType`-norm of the per-parameter gradient norms (`.infinity` for the
/// largest absolute value). Every gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`.
/// Parameters without a gradient are skipped; with none at all the result is 0.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float, normType: Float = 2) -> Float {
    precondition(normType > 0, "clipGradNorm: norm type \(normType) must be positive")
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    let norms = grads.map { vectorNorm($0.scalars, normType) }
    let total = vectorNorm(norms, normType)
    // As in PyTorch: Float arithmetic on the norm, and the (clamped) factor applied even when 1.
    let factor = Swift.min(maxNorm / (total + 1e-6), 1)
    for parameter in parameters {
        guard var grad = parameter.grad else { continue }
        grad.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] *= factor }
        }
        parameter.grad = grad
    }
    return total
}

/// Clips each gradient on its own to norm `maxNorm` — DINO's and SVT's `clip_gradients`: a tensor
/// whose norm `n` exceeds it is scaled by `maxNorm / (n + 1e-6)`; others are left as they are.
///
/// - Returns: each gradient's norm before clipping, in the order of `parameters` (skipping those
///   without a gradient).
@discardableResult
public func clipGradNormPerTensor(_ parameters: [Parameter], maxNorm: Float) -> [Float] {
    precondition(maxNorm > 0, "clipGradNormPerTensor: max norm \(maxNorm) must be positive")
    var norms: [Float] = []
    for parameter in parameters {
        guard var grad = parameter.grad else { continue }
        let norm = vectorNorm(grad.scalars, 2)
        norms.append(norm)
        let factor = maxNorm / (norm + 1e-6)
        guard factor < 1 else { continue }
        grad.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] *= factor }
        }
        parameter.grad = grad
    }
    return norms
}

/// Clamps every gradient element of `parameters` to `[-maxValue, maxValue]` — PyTorch's
/// `torch.nn.utils.clip_grad_value_`.
public func clipGradValue(_ parameters: [Parameter], maxValue: Float) {
    precondition(maxValue >= 0, "clipGradValue: max value \(maxValue) is negative")
    for parameter in parameters {
        guard var grad = parameter.grad else { continue }
        grad.withUnsafeMutableBufferPointer { g in
            for i in g.indices { g[i] = Swift.min(Swift.max(g[i], -maxValue), maxValue) }
        }
        parameter.grad = grad
    }
}

/// The `p`-norm of `values`, accumulated in Double (NaN and infinity propagate).
private func vectorNorm(_ values: [Float], _ p: Float) -> Float {
    if p == .infinity {
        return values.reduce(0) { Swift.max($0, Swift.abs($1)) }
    }
    if p == 2 {
        return Float(values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
    if p == 1 {
        return Float(values.reduce(0.0) { $0 + Double(Swift.abs($1)) })
    }
    let exponent = Double(p)
    let sum = values.reduce(0.0) { $0 + pow(Double(Swift.abs($1)), exponent) }
    return Float(pow(sum, 1 / exponent))
}

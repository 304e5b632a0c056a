import TensorCore

/// The outcome of comparing autograd gradients with central finite differences.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
    /// Largest |analytic − numeric| / (atol + rtol·|numeric|) over every checked element; ≤ 1 passes.
    public var worstRatio: Double
    /// Where the worst element was: (input index, flat element index, analytic, numeric).
    public var worst: (input: Int, element: Int, analytic: Double, numeric: Double)

    public var passed: Bool { worstRatio <= 1 }

    public var description: String {
        "worst ratio \(worstRatio) at input \(worst.input)[\(worst.element)]: analytic \(worst.analytic), numeric \(worst.numeric)"
    }
}

/// Checks the gradients of `function` with respect to every input against central differences.
///
/// The scalar being differentiated is `sum(function(inputs) * w)` for a fixed random `w`, so every
/// output element contributes with a distinct weight. Float32 tolerance: with step `epsilon` = 1e-2
/// (inputs of order one) the truncation error is O(ε²) ≈ 1e-4 and the rounding error of a
/// difference quotient is about 1e-7/ε ≈ 1e-5 per unit of output, so `atol` 2e-3 and `rtol` 2e-2
/// leave a wide margin while still catching any wrong rule (which is off by O(1)).
public func checkGradients(
    _ inputs: [Tensor],
    epsilon: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
    seed: UInt64 = 7,
    _ function: ([Tensor]) -> Tensor
) -> GradientCheckResult {
    var generator = RandomGenerator(seed: seed)
    let leaves = inputs.map { $0.requiringGrad() }
    let output = function(leaves)
    let weights = Tensor.uniform(output.shape, low: -1, high: 1, using: &generator)
    (output * weights).sum().backward()

    func objective(_ xs: [Tensor]) -> Double {
        let y = noGrad { function(xs) }
        var total = 0.0
        y.withUnsafeBufferPointer { py in
            weights.withUnsafeBufferPointer { pw in
                for i in 0..<py.count { total += Double(py[i]) * Double(pw[i]) }
            }
        }
        return total
    }

    var result = GradientCheckResult(worstRatio: 0, worst: (0, 0, 0, 0))
    for (index, leaf) in leaves.enumerated() {
        let analytic = leaf.grad ?? Tensor(zeros: leaf.shape)
        for element in 0..<leaf.count {
            var plus = inputs, minus = inputs
            plus[index].withUnsafeMutableBufferPointer { $0[element] += epsilon }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= epsilon }
            let numeric = (objective(plus) - objective(minus)) / (2 * Double(epsilon))
            let a = Double(analytic.scalars[element])
            let ratio = Swift.abs(a - numeric) / (atol + rtol * Swift.abs(numeric))
            if ratio > result.worstRatio || ratio.isNaN {
                result.worstRatio = ratio.isNaN ? .infinity : ratio
                result.worst = (index, element, a, numeric)
            }
        }
    }
    return result
}

/// Largest absolute difference between two tensors of the same shape.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxAbsDifference: shapes \(a.shape) and \(b.shape)")
    var worst: Float = 0
    for (x, y) in zip(a.scalars, b.scalars) { worst = Swift.max(worst, Swift.abs(x - y)) }
    return worst
}

/// Whether `a` and `b` agree elementwise within `atol + rtol·|b|`.
public func isClose(_ a: Tensor, _ b: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4) -> Bool {
    guard a.shape == b.shape else { return false }
    for (x, y) in zip(a.scalars, b.scalars) where !(Swift.abs(x - y) <= atol + rtol * Swift.abs(y)) {
        return false
    }
    return true
}

/// Checks the gradients a backward pass left on a module's parameters against central
/// differences of `loss`, on up to `elementsPerParameter` elements of each parameter.
///
/// `loss` must be deterministic (no dropout). Tolerances as in ``checkGradients(_:epsilon:atol:rtol:seed:_:)``.
public func checkParameterGradients(
    of parameters: [(String, Parameter)],
    elementsPerParameter: Int = 12,
    epsilon: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
    _ loss: () -> Tensor
) -> (passed: Bool, report: String) {
    for (_, p) in parameters { p.zeroGrad() }
    loss().backward()
    var worst = 0.0, report = "all within tolerance"
    for (name, p) in parameters {
        let analytic = p.grad?.scalars ?? [Float](repeating: 0, count: p.value.count)
        let n = p.value.count
        let step = Swift.max(1, n / elementsPerParameter)
        for element in stride(from: 0, to: n, by: step) {
            p.update { $0[element] += epsilon }
            let plus = Double(noGrad { loss() }.item)
            p.update { $0[element] -= 2 * epsilon }
            let minus = Double(noGrad { loss() }.item)
            p.update { $0[element] += epsilon }
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let a = Double(analytic[element])
            let ratio = Swift.abs(a - numeric) / (atol + rtol * Swift.abs(numeric))
            if ratio > worst || ratio.isNaN {
                worst = ratio.isNaN ? .infinity : ratio
                report = "\(name)[\(element)]: analytic \(a), numeric \(numeric), ratio \(worst)"
            }
        }
    }
    return (worst <= 1, report)
}

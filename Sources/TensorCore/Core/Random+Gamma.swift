import Foundation

extension RandomGenerator {
    /// A Gamma(`shape`, 1) value by Marsaglia and Tsang's method (ACM TOMS 26(3), 2000).
    ///
    /// For `shape` ≥ 1, with `d = shape − 1/3` and `c = 1/√(9d)`, each try draws
    /// `x = nextNormalDouble()` (again while `1 + c·x ≤ 0`), sets `v = (1 + c·x)³`, then draws
    /// `u = nextUniformDouble()`, and accepts `d·v` when `u < 1 − 0.0331·x⁴` or
    /// `log u < x²/2 + d·(1 − v + log v)`. For `shape` < 1 it returns
    /// `nextGamma(shape: shape + 1) · u^(1/shape)` with `u = nextUniformDouble()` drawn after.
    ///
    /// - Precondition: `shape` is positive and finite.
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "nextGamma: shape \(shape) must be positive and finite")
        if shape < 1 {
            let g = nextGamma(shape: shape + 1)
            return g * Foundation.pow(nextUniformDouble(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / Foundation.sqrt(9 * d)
        while true {
            var x: Double, v: Double
            repeat {
                x = nextNormalDouble()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUniformDouble()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if Foundation.log(u) < 0.5 * x2 + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    /// A Beta(`a`, `b`) value as `X / (X + Y)` with `X = nextGamma(shape: a)` drawn first and
    /// `Y = nextGamma(shape: b)` second; both are drawn again in the (practically impossible)
    /// case that both are 0.
    ///
    /// - Precondition: `a` and `b` are positive and finite.
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        precondition(a > 0 && b > 0 && a.isFinite && b.isFinite, "nextBeta: parameters (\(a), \(b)) must be positive and finite")
        while true {
            let x = nextGamma(shape: a)
            let y = nextGamma(shape: b)
            if x + y > 0 { return x / (x + y) }
        }
    }
}

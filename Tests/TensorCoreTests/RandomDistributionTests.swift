import Foundation
import Testing
import TensorCore

/// Gamma and Beta draws: sample moments against the distributions' (exact values against the
/// Python port are in TrainingTests' `MixupTests`).
@Suite struct RandomDistributionTests {
    @Test(arguments: [0.3, 0.8, 1.0, 2.5, 7.0])
    func gammaHasMeanAndVarianceShape(shape: Double) {
        var generator = RandomGenerator(seed: 1)
        let n = 40_000
        let xs = (0..<n).map { _ in generator.nextGamma(shape: shape) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        // Standard error of the mean is √(shape / n) ≈ 0.013 at shape 7; 5 of them.
        #expect(abs(mean - shape) < 5 * (shape / Double(n)).squareRoot(), "mean \(mean)")
        #expect(abs(variance - shape) < 0.08 * shape, "variance \(variance)")
        #expect(xs.allSatisfy { $0 >= 0 && $0.isFinite })
    }

    @Test(arguments: [(0.8, 0.8), (1.0, 1.0), (0.5, 3.0)])
    func betaHasItsMeanAndVariance(a: Double, b: Double) {
        var generator = RandomGenerator(seed: 2)
        let n = 40_000
        let xs = (0..<n).map { _ in generator.nextBeta(a, b) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
        let wantMean = a / (a + b), wantVariance = a * b / ((a + b) * (a + b) * (a + b + 1))
        #expect(abs(mean - wantMean) < 0.006, "mean \(mean)")
        #expect(abs(variance - wantVariance) < 0.06 * wantVariance, "variance \(variance)")
        #expect(xs.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func theFloatNormalIsTheDoubleNormalRounded() {
        var a = RandomGenerator(seed: 5), b = a
        for _ in 0..<100 { #expect(a.nextNormal() == Float(b.nextNormalDouble())) }
        #expect(a == b)
    }
}

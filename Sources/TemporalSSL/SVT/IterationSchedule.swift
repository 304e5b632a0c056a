import Foundation

/// Per-iteration schedules as DINO, SVT and VideoMAE compute them (`utils.cosine_scheduler`): one
/// value per optimizer step of the whole run.
public enum IterationSchedule {
    /// A linear warm-up from `warmupStart` to `base` over `warmupEpochs · iterationsPerEpoch`
    /// iterations (`np.linspace`, both ends included), then `final + ½(base − final)(1 + cos(π·i/n))`
    /// over the `n` remaining iterations.
    public static func cosine(
        base: Double, final: Double, epochs: Int, iterationsPerEpoch: Int, warmupEpochs: Int = 0, warmupStart: Double = 0
    ) -> [Double] {
        precondition(epochs >= 0 && iterationsPerEpoch >= 0 && warmupEpochs >= 0,
                     "IterationSchedule.cosine: counts must be non-negative")
        let total = epochs * iterationsPerEpoch
        let warmup = Swift.min(warmupEpochs * iterationsPerEpoch, total)
        let rest = total - warmup
        let decay = (0..<rest).map { i in
            final + 0.5 * (base - final) * (1 + Foundation.cos(Double.pi * Double(i) / Double(rest)))
        }
        return (warmup > 0 ? linspace(warmupStart, base, count: warmup) : []) + decay
    }

    /// `np.linspace(a, b, n)`: `a + i·(b − a)/(n − 1)` with the last value exactly `b`.
    public static func linspace(_ a: Double, _ b: Double, count n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [a] : [] }
        let step = (b - a) / Double(n - 1)
        return (0..<n).map { $0 == n - 1 ? b : a + Double($0) * step }
    }
}

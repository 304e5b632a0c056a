import TensorCore

/// Draws indices from a fixed discrete distribution in constant time per draw: Walker's alias
/// method with Vose's table construction, as CMC's and IIC's `lib/alias_multinomial.py`
/// (`reference/SVT-VideoMS-IIC.md` §3.5, step 1).
///
/// The table is built as the reference builds it, in Float32: the weights are divided by their sum
/// when that sum exceeds 1, each cell's acceptance is `K·p`, cells below 1 are filled from cells
/// above 1 (both taken from the end of their lists), and the cells left over accept with
/// probability 1. With the uniform weights IIC uses, `K·(1/K)` may round just below 1, so a few
/// cells get an alias; the draws stay uniform up to that rounding.
///
/// A draw takes a cell `k = nextInt(below: K)`, then `u = nextUniformDouble()`, and returns `k`
/// when `u < acceptance[k]`, else `alias[k]` (the reference draws the cells, then one Bernoulli
/// per cell; here both come from one ``RandomGenerator``, in that order per draw).
public struct AliasSampler: Sendable, Equatable {
    /// The probability of keeping each cell's own index.
    public let acceptance: [Float]
    /// The index a cell returns when it does not keep its own.
    public let alias: [Int]

    /// Builds the table of `weights` (non-negative, not all zero).
    ///
    /// - Precondition: at least one weight, none negative, a positive sum.
    public init(weights: [Float]) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 0 } && weights.reduce(0, +) > 0,
                     "AliasSampler: weights must be non-negative with a positive sum, got \(weights.count) weights")
        let k = weights.count
        let total = weights.reduce(0, +)
        let probabilities = total > 1 ? weights.map { $0 / total } : weights
        var acceptance = [Float](repeating: 0, count: k)
        var alias = [Int](repeating: 0, count: k)
        var smaller: [Int] = [], larger: [Int] = []
        for (cell, p) in probabilities.enumerated() {
            acceptance[cell] = Float(k) * p
            if acceptance[cell] < 1 { smaller.append(cell) } else { larger.append(cell) }
        }
        while let small = smaller.last, let large = larger.last {
            smaller.removeLast()
            larger.removeLast()
            alias[small] = large
            acceptance[large] = (acceptance[large] - 1) + acceptance[small]
            if acceptance[large] < 1 { smaller.append(large) } else { larger.append(large) }
        }
        for cell in smaller + larger { acceptance[cell] = 1 }
        self.acceptance = acceptance
        self.alias = alias
    }

    /// The uniform distribution over `0..<count` (IIC's `AliasMethod(torch.ones(n_data))`).
    public static func uniform(count: Int) -> AliasSampler {
        AliasSampler(weights: [Float](repeating: 1, count: count))
    }

    /// Categories, `K`.
    public var count: Int { acceptance.count }

    /// One index.
    public func draw(using generator: inout RandomGenerator) -> Int {
        let cell = generator.nextInt(below: acceptance.count)
        return generator.nextUniformDouble() < Double(acceptance[cell]) ? cell : alias[cell]
    }

    /// `n` indices, one ``draw(using:)`` after another.
    public func draw(_ n: Int, using generator: inout RandomGenerator) -> [Int] {
        (0..<Swift.max(n, 0)).map { _ in draw(using: &generator) }
    }
}

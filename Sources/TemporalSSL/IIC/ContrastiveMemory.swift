import Foundation
import TensorCore

/// IIC's contrastive objective: CMC-style noise-contrastive estimation against memory banks of
/// every training video (`reference/SVT-VideoMS-IIC.md` §3.5; the reference's `NCEAverage` and,
/// without intra-negatives, `NCEAverage_ori`).
///
/// Three banks `[N, D]` (buffers, so checkpoints hold them and a resumed run continues exactly):
/// `memory_l` (view 1, RGB), `memory_ab` (view 2) and, with intra-negatives, `memory_neg`. Each
/// starts uniform in `[−s, s]` with `s = 1/√(D/3)`. `params` holds `[K, τ, Z_l, Z_ab, m]` as the
/// reference's buffer does (the Z constants are set on the first non-softmax step).
///
/// For a batch with dataset indices `y` and sampled rows `idx` `[B, K+1]` (column 0 is `y`):
///
///     out_l  = [memory_ab[idx] ; memory_neg[idx]] · f1 / τ     anchor view 1, [B, 2K+2]
///     out_ab = [memory_l[idx]  ; memory_neg[idx]] · f2 / τ     anchor view 2
///
/// (`K+1` columns each without intra-negatives). The banks are read detached; gradients reach
/// `f1`, `f2` only. After the scores, ``update(indices:view1:view2:negatives:)`` moves each bank
/// row toward the new feature and renormalises it: `M[y] ← normalize(m·M[y] + (1−m)·f)`.
public final class ContrastiveMemory: Module {
    /// `[K, τ, Z_l, Z_ab, m]` (Z are −1 until the first non-softmax step sets them).
    public let params: Buffer
    /// View 1 (RGB) features of every training video, `[N, D]`.
    public let memoryL: Buffer
    /// View 2 features, `[N, D]`.
    public let memoryAb: Buffer
    /// Intra-negative features, `[N, D]`; nil for the baseline without intra-negatives.
    public let memoryNeg: Buffer?
    /// Draws the noise indices.
    public let sampler: AliasSampler
    /// Noise samples per anchor, `K`.
    public let noiseCount: Int
    /// The temperature τ.
    public let temperature: Float
    /// The bank momentum `m`.
    public let momentum: Float
    /// Whether scores are softmax logits (`x/τ`) or the reference's NCE probabilities
    /// (`exp(x/τ)/Z`).
    public let useSoftmax: Bool

    /// Creates the banks for `dataCount` videos of `dim`-wide features, initialised from `generator`
    /// (memory_l, memory_ab, then memory_neg, each row-major).
    ///
    /// - Precondition: positive sizes and temperature, momentum in `[0, 1]`.
    public init(dim: Int, dataCount: Int, noiseCount: Int = 1024, temperature: Float = 0.07, momentum: Float = 0.5,
                intraNegatives: Bool = true, useSoftmax: Bool = true, using generator: inout RandomGenerator) {
        precondition(dim > 0 && dataCount > 0 && noiseCount > 0 && temperature > 0 && momentum >= 0 && momentum <= 1,
                     "ContrastiveMemory: dim \(dim), dataCount \(dataCount), K \(noiseCount), τ \(temperature), m \(momentum) out of range")
        let s = Float(1 / (Double(dim) / 3).squareRoot())
        func bank(_ generator: inout RandomGenerator) -> Buffer {
            Buffer(Tensor.uniform([dataCount, dim], low: -s, high: s, using: &generator))
        }
        params = Buffer(Tensor(shape: [5], scalars: [Float(noiseCount), temperature, -1, -1, momentum]))
        memoryL = bank(&generator)
        memoryAb = bank(&generator)
        memoryNeg = intraNegatives ? bank(&generator) : nil
        sampler = AliasSampler.uniform(count: dataCount)
        self.noiseCount = noiseCount
        self.temperature = temperature
        self.momentum = momentum
        self.useSoftmax = useSoftmax
        super.init()
    }

    /// Training videos, `N`.
    public var dataCount: Int { memoryL.shape[0] }
    /// Feature width, `D`.
    public var dim: Int { memoryL.shape[1] }
    /// Columns of each score row: `K+1`, or `2K+2` with intra-negatives.
    public var columns: Int { (noiseCount + 1) * (memoryNeg == nil ? 1 : 2) }

    /// Bank rows `[B, K+1]` (flattened row-major): `B·(K+1)` draws, then column 0 set to `indices`
    /// (the reference draws the column it overwrites, so the stream matches it).
    public func sampleRows(for indices: [Int], using generator: inout RandomGenerator) -> [Int] {
        var rows = sampler.draw(indices.count * (noiseCount + 1), using: &generator)
        for (b, y) in indices.enumerated() { rows[b * (noiseCount + 1)] = y }
        return rows
    }

    /// The scores of both anchors for features `[B, D]` and bank rows from ``sampleRows(for:using:)``.
    ///
    /// - Precondition: the features are `[B, D]`, `negatives` is given exactly when the memory has
    ///   an intra-negative bank, and `rows` holds `B·(K+1)` indices below `N`.
    public func scores(view1 f1: Tensor, view2 f2: Tensor, rows: [Int]) -> (view1: Tensor, view2: Tensor) {
        let b = f1.shape[0], k1 = noiseCount + 1
        precondition(f1.shape == [b, dim] && f2.shape == [b, dim] && rows.count == b * k1,
                     "ContrastiveMemory.scores: features \(f1.shape), \(f2.shape) and \(rows.count) rows for D \(dim), K+1 \(k1)")
        precondition(rows.allSatisfy { $0 >= 0 && $0 < dataCount },
                     "ContrastiveMemory.scores: a row index is outside 0..<\(dataCount)")
        // memory_neg's rows serve both anchors: gathered once.
        let negatives = memoryNeg.map { $0.value.indexSelect(axis: 0, indices: rows).reshaped([b, k1, dim]) }
        func gathered(_ bank: Buffer) -> Tensor {
            let picked = bank.value.indexSelect(axis: 0, indices: rows).reshaped([b, k1, dim])
            guard let negatives else { return picked }
            return Tensor.concat([picked, negatives], axis: 1)
        }
        let weightsAb = gathered(memoryAb), weightsL = gathered(memoryL)
        let outL = Tensor.matmul(weightsAb, f1.reshaped([b, dim, 1])).reshaped([b, columns]) * (1 / temperature)
        let outAb = Tensor.matmul(weightsL, f2.reshaped([b, dim, 1])).reshaped([b, columns]) * (1 / temperature)
        guard !useSoftmax else { return (outL, outAb) }
        // NCE probabilities exp(x/τ)/Z with Z fixed on first use as mean·N (the reference's Z_l, Z_ab).
        let expL = outL.exp(), expAb = outAb.exp()
        var p = params.value.scalars
        if p[2] < 0 { p[2] = expL.detached().mean().scalars[0] * Float(dataCount) }
        if p[3] < 0 { p[3] = expAb.detached().mean().scalars[0] * Float(dataCount) }
        params.value = Tensor(shape: [5], scalars: p)
        return (expL * (1 / p[2]), expAb * (1 / p[3]))
    }

    /// Moves the bank rows of `indices` toward the features (no gradient), in the reference's
    /// order: memory_l, memory_ab, memory_neg. A repeated index keeps its last row's update.
    public func update(indices: [Int], view1 f1: Tensor, view2 f2: Tensor, negatives fn: Tensor?) {
        precondition((fn == nil) == (memoryNeg == nil),
                     "ContrastiveMemory.update: intra-negative features \(fn == nil ? "missing" : "given") for a memory \(memoryNeg == nil ? "without" : "with") a negative bank")
        ContrastiveMemory.moveRows(memoryL, indices: indices, toward: f1.detached(), momentum: momentum)
        ContrastiveMemory.moveRows(memoryAb, indices: indices, toward: f2.detached(), momentum: momentum)
        if let memoryNeg, let fn { ContrastiveMemory.moveRows(memoryNeg, indices: indices, toward: fn.detached(), momentum: momentum) }
    }

    /// `bank[y_b] ← normalize(m·bank[y_b] + (1 − m)·features[b])` in Float32, computed from the
    /// rows as they were before the update (`index_select`, then `index_copy_`).
    public static func moveRows(_ bank: Buffer, indices: [Int], toward features: Tensor, momentum m: Float) {
        let d = bank.shape[1]
        precondition(features.shape == [indices.count, d],
                     "ContrastiveMemory.moveRows: features \(features.shape) for \(indices.count) indices and width \(d)")
        let old = bank.value.indexSelect(axis: 0, indices: indices).scalars
        let keep = 1 - m
        // In place: the buffer holds the only reference to its storage, so no copy of the bank.
        features.withUnsafeBufferPointer { f in
            bank.value.withUnsafeMutableBufferPointer { out in
                for (b, y) in indices.enumerated() {
                    var row = [Float](repeating: 0, count: d)
                    var squares: Float = 0
                    for j in 0..<d {
                        row[j] = old[b * d + j] * m + f[b * d + j] * keep
                        squares += row[j] * row[j]
                    }
                    let norm = squares.squareRoot()
                    for j in 0..<d { out[y * d + j] = row[j] / norm }
                }
            }
        }
    }

    /// The loss of both anchors: with softmax scores, cross-entropy to column 0, batch mean, summed
    /// over the two anchors (`NCESoftmaxLoss`); otherwise the reference's `NCECriterion` with noise
    /// probability `1/N` per anchor.
    public func loss(view1: Tensor, view2: Tensor) -> (view1: Tensor, view2: Tensor) {
        if useSoftmax {
            let zeros = [Int](repeating: 0, count: view1.shape[0])
            return (crossEntropy(logits: view1, labels: zeros), crossEntropy(logits: view2, labels: zeros))
        }
        return (ContrastiveMemory.nceCriterion(view1, dataCount: dataCount),
                ContrastiveMemory.nceCriterion(view2, dataCount: dataCount))
    }

    /// `NCECriterion`: with `P` the probabilities `[B, 1+M]` (positive first), `Pn = 1/N`,
    /// `−(Σ_b log(P_b0/(P_b0 + M·Pn + ε)) + Σ_{b, j≥1} log(M·Pn/(P_bj + M·Pn + ε)))/B`, ε = 1e−7.
    public static func nceCriterion(_ probabilities: Tensor, dataCount: Int) -> Tensor {
        let b = probabilities.shape[0], m = probabilities.shape[1] - 1
        let noise = Float(m) / Float(dataCount), eps: Float = 1e-7
        let positive = probabilities.slice(axis: 1, range: 0..<1)
        let negatives = probabilities.slice(axis: 1, range: 1..<(m + 1))
        let logPositive = (positive / (positive + (noise + eps))).log()
        let logNegative = ((negatives + (noise + eps)).log() * -1) + Foundation.log(noise)
        return (logPositive.sum() + logNegative.sum()) * (-1 / Float(b))
    }
}

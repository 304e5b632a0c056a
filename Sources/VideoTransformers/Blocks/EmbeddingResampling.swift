import TensorCore

/// Resampling of learned position and time embeddings to a crop size or frame count other than
/// the configured one. Both are differentiable (linear maps applied with recorded ops), so a model
/// can train at the new size.
public enum EmbeddingResampling {
    /// Resizes the patch part of a position embedding `[1, 1 + h0·w0, C]` (index 0 is the class
    /// position, kept as is) to an `h × w` grid with bicubic interpolation, as
    /// `F.interpolate(mode="bicubic", align_corners=False)` on the `[1, C, h0, w0]` grid (TIME's
    /// TimeSformer; `reference/TIME.md` §2.1).
    public static func bicubic(
        _ positions: Tensor, from source: (height: Int, width: Int), to target: (height: Int, width: Int)
    ) -> Tensor {
        precondition(positions.rank == 3 && positions.shape[0] == 1
                     && positions.shape[1] == 1 + source.height * source.width,
                     "EmbeddingResampling.bicubic: embedding \(positions.shape) is not [1, 1 + \(source.height)·\(source.width), C]")
        if source == target { return positions }
        let c = positions.shape[2]
        let classPosition = positions.slice(axis: 1, range: 0..<1)
        let grid = positions.slice(axis: 1, range: 1..<positions.shape[1]).reshaped([source.height, source.width * c])
        // Bicubic interpolation is separable: rows then columns, each a constant matrix product.
        let rows = Tensor.matmul(cubicWeights(from: source.height, to: target.height), grid)
            .reshaped([target.height, source.width, c])
        let both = Tensor.matmul(cubicWeights(from: source.width, to: target.width), rows)
        return Tensor.concat([classPosition, both.reshaped([1, target.height * target.width, c])], axis: 1)
    }

    /// Resizes the patch part of a position embedding `[1, 1 + h0·w0, C]` to an `h × w` grid by
    /// nearest-neighbour selection, as `F.interpolate(mode="nearest")` on the `[1, C, h0, w0]` grid
    /// (SVT's dynamic positional encoding, `reference/SVT-VideoMS-IIC.md` §1.2): row `i` reads
    /// source row `⌊i·h0/h⌋`, likewise columns. The class position is kept.
    public static func nearest(
        _ positions: Tensor, from source: (height: Int, width: Int), to target: (height: Int, width: Int)
    ) -> Tensor {
        precondition(positions.rank == 3 && positions.shape[0] == 1
                     && positions.shape[1] == 1 + source.height * source.width,
                     "EmbeddingResampling.nearest: embedding \(positions.shape) is not [1, 1 + \(source.height)·\(source.width), C]")
        if source == target { return positions }
        let rows = nearestIndices(from: source.height, to: target.height)
        let columns = nearestIndices(from: source.width, to: target.width)
        let picks = [0] + rows.flatMap { r in columns.map { 1 + r * source.width + $0 } }
        return positions.indexSelect(axis: 1, indices: picks)
    }

    /// PyTorch's `nearest` source indices for `target` outputs over `source` inputs: the scale is
    /// the Float `source / target` and output `i` reads `min(⌊i·scale⌋, source − 1)`.
    public static func nearestIndices(from source: Int, to target: Int) -> [Int] {
        let scale = Float(source) / Float(target)
        return (0..<target).map { Swift.min(Int((Float($0) * scale).rounded(.down)), source - 1) }
    }

    /// Resizes a time embedding `[1, T0, C]` to `frames` entries by nearest-neighbour selection, as
    /// `F.interpolate(mode="nearest")` along time (TimeSformer's reference behaviour).
    public static func nearest(_ embedding: Tensor, frames: Int) -> Tensor {
        precondition(embedding.rank == 3 && embedding.shape[0] == 1 && frames > 0,
                     "EmbeddingResampling.nearest: embedding \(embedding.shape) is not [1, T, C] or frames \(frames) < 1")
        let source = embedding.shape[1]
        if source == frames { return embedding }
        return embedding.indexSelect(axis: 1, indices: nearestIndices(from: source, to: frames))
    }

    /// The `[target, source]` matrix of PyTorch's bicubic kernel (a = −0.75, half-pixel centres,
    /// border indices clamped; the weights of clamped taps add up on the edge sample).
    static func cubicWeights(from source: Int, to target: Int) -> Tensor {
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        let scale = Float(source) / Float(target)
        var weights = [Float](repeating: 0, count: target * source)
        for o in 0..<target {
            // No clamping of negative positions for cubic mode; PyTorch only guards the index.
            let real = scale * (Float(o) + 0.5) - 0.5
            let index = Swift.min(Int(real.rounded(.down)), source - 1)
            let t = Swift.min(Swift.max(real - Float(index), 0), 1)
            let taps = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            for (k, w) in taps.enumerated() {
                let i = Swift.min(Swift.max(index - 1 + k, 0), source - 1)
                weights[o * source + i] += w
            }
        }
        return Tensor(shape: [target, source], scalars: weights)
    }
}

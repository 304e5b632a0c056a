import TensorCore

/// The pre-norm transformer block of timm's ViT, built from the parts it is given (STYLE
/// principle 5): `x + DropPath(attn(norm1(x)))`, then `x + DropPath(mlp(norm2(x)))`.
///
/// State-dict keys: `norm1`, `attn`, `norm2`, `mlp` (the drop-path layer has no parameters). Each
/// residual branch draws its own drop-path mask.
public final class Block: Module {
    /// The norm before the token mixer.
    public let norm1: any UnaryLayer
    /// The token mixer (``Attention`` for ViT; other mixers for other backbones).
    public let attn: any TokenMixer
    /// Stochastic depth on both residual branches.
    public let dropPath: DropPath
    /// The norm before the MLP.
    public let norm2: any UnaryLayer
    /// The feed-forward block.
    public let mlp: any UnaryLayer

    /// Creates a block from its parts.
    public init(
        norm1: any UnaryLayer, attn: any TokenMixer, norm2: any UnaryLayer, mlp: any UnaryLayer,
        dropPath: Float
    ) {
        self.norm1 = norm1
        self.attn = attn
        self.dropPath = DropPath(probability: dropPath)
        self.norm2 = norm2
        self.mlp = mlp
        super.init()
    }

    /// The standard ViT block: LayerNorm(eps) + ``Attention`` + GELU ``Mlp`` of width `dim · mlpRatio`.
    public convenience init(
        dim: Int, heads: Int, mlpRatio: Double, dropPath: Float, layerNormEpsilon: Float = 1e-6,
        using generator: inout RandomGenerator
    ) {
        let attn = Attention(dim: dim, heads: heads, using: &generator)
        let mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), using: &generator)
        self.init(norm1: LayerNorm(dim, epsilon: layerNormEpsilon), attn: attn,
                  norm2: LayerNorm(dim, epsilon: layerNormEpsilon), mlp: mlp, dropPath: dropPath)
    }

    /// Applies the block to tokens `[B, L, C]` laid out as `layout`.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor {
        // Each sample attends within itself, so dropped samples' branches are skipped (DropPath.add).
        let x = dropPath.add(to: x) { attn(norm1($0), layout: layout) }
        return dropPath.add(to: x) { mlp(norm2($0)) }
    }
}

/// Stochastic-depth rates of a stack of blocks: `linspace(0, maxRate, depth)`, as timm and the
/// TimeSformer reference compute them (block `i` gets the `i`-th value).
public func stochasticDepthRates(maxRate: Float, depth: Int) -> [Float] {
    precondition(depth >= 0, "stochasticDepthRates: negative depth \(depth)")
    guard depth > 1 else { return [Float](repeating: 0, count: depth) }
    let step = maxRate / Float(depth - 1)
    return (0..<depth).map { i in i == depth - 1 ? maxRate : Float(i) * step }
}

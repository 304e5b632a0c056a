import TensorCore

/// TimeSformer's divided space-time block, as TIME's implementation runs it
/// (`reference/TIME.md` §2.1), on tokens `[B, 1 + T·N, C]` in "t n" order:
///
/// 1. temporal: each patch attends over its own position in the other frames (the class token
///    takes no part); the result goes through `temporal_fc` and is added to the patches;
/// 2. spatial: each frame, with its own copy of the class token prepended, attends over its
///    patches; the per-frame class outputs are averaged back into one class token;
/// 3. MLP, pre-norm, residual.
///
/// State-dict keys: `norm1`, `attn`, `temporal_norm1`, `temporal_attn`, `temporal_fc`, `norm2`,
/// `mlp`. The one drop-path layer serves the three residual branches, each drawing its own mask.
public final class DividedSpaceTimeBlock: Module {
    /// The norm before spatial attention.
    public let norm1: any UnaryLayer
    /// Spatial attention within a frame.
    public let attn: any TokenMixer
    /// The norm before temporal attention.
    public let temporalNorm1: any UnaryLayer
    /// Temporal attention across frames at one patch position.
    public let temporalAttn: any TokenMixer
    /// The projection after temporal attention; zero-initialised so that a fresh video model
    /// equals the frame-wise image model (TimeSformer issues #29, #66).
    public let temporalFc: Linear
    /// Stochastic depth on the three residual branches.
    public let dropPath: DropPath
    /// The norm before the MLP.
    public let norm2: any UnaryLayer
    /// The feed-forward block.
    public let mlp: any UnaryLayer

    /// Creates a block from its parts.
    public init(
        norm1: any UnaryLayer, attn: any TokenMixer, temporalNorm1: any UnaryLayer, temporalAttn: any TokenMixer,
        temporalFc: Linear, norm2: any UnaryLayer, mlp: any UnaryLayer, dropPath: Float
    ) {
        self.norm1 = norm1
        self.attn = attn
        self.temporalNorm1 = temporalNorm1
        self.temporalAttn = temporalAttn
        self.temporalFc = temporalFc
        self.dropPath = DropPath(probability: dropPath)
        self.norm2 = norm2
        self.mlp = mlp
        super.init()
    }

    /// The TimeSformer-B block: LayerNorms with `layerNormEpsilon`, two ``Attention`` layers, a
    /// C → C `temporal_fc` and a GELU ``Mlp`` of width `dim · mlpRatio`.
    public convenience init(
        dim: Int, heads: Int, mlpRatio: Double, dropPath: Float, layerNormEpsilon: Float = 1e-6,
        using generator: inout RandomGenerator
    ) {
        let attn = Attention(dim: dim, heads: heads, using: &generator)
        let temporalAttn = Attention(dim: dim, heads: heads, using: &generator)
        let temporalFc = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        let mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), using: &generator)
        self.init(norm1: LayerNorm(dim, epsilon: layerNormEpsilon), attn: attn,
                  temporalNorm1: LayerNorm(dim, epsilon: layerNormEpsilon), temporalAttn: temporalAttn,
                  temporalFc: temporalFc, norm2: LayerNorm(dim, epsilon: layerNormEpsilon), mlp: mlp,
                  dropPath: dropPath)
    }

    /// Applies the block to `x` `[B, 1 + T·N, C]` laid out as `layout` (one class token).
    ///
    /// With plain ``Attention`` in both places, the tokens stay in one `[B, 1 + T·N, C]` tensor
    /// throughout: the attentions read their sequences from it (``Tensor/temporalAttention(qkv:frames:heads:scale:)``,
    /// ``Tensor/spatialAttention(qkv:frames:heads:scale:)``) and the residuals are added in place of
    /// the slices and concatenations of the reference, which other token mixers still take.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor {
        let t = layout.frames
        checkLayout(x, layout)
        guard let spatialAttention = attn as? Attention, let temporalAttention = temporalAttn as? Attention else {
            return sliced(x, layout: layout)
        }
        let x1 = temporalResidual(x, layout: layout, temporalAttention)

        // Spatial: every frame attends with the one class token; its outputs are averaged back.
        let spatial = spatialAttention.proj(Tensor.spatialAttention(
            qkv: spatialAttention.qkv(norm1(x1)), frames: t, heads: spatialAttention.heads,
            scale: spatialAttention.scale))
        let x2 = x1.addingFrameResidual(spatial, dropPathProbability: dropPath.probability,
                                        training: dropPath.isTraining, using: &dropPath.generator)
        return dropPath.add(to: x2) { mlp(norm2($0)) }
    }

    /// The class token's row `[B, 1, C]` of ``callAsFunction(_:layout:)``, without the work only the
    /// patches' outputs need: their spatial queries and projections, and their MLP.
    ///
    /// A model whose output is its class embedding calls this for its last block. The temporal
    /// branch and the spatial keys and values still see every token; the drop-path generator makes
    /// the same draws. Values and gradients are those of the full block's class row (up to rounding).
    public func classToken(_ x: Tensor, layout: TokenLayout) -> Tensor {
        let t = layout.frames
        checkLayout(x, layout)
        guard let spatialAttention = attn as? Attention, let temporalAttention = temporalAttn as? Attention else {
            return callAsFunction(x, layout: layout).slice(axis: 1, range: 0..<1)
        }
        let (b, c) = (x.shape[0], x.shape[2])
        let x1 = temporalResidual(x, layout: layout, temporalAttention)
        // Each frame's view of the class token, under the per-frame drop-path, averaged over the frames.
        let perFrame = spatialAttention.proj(Tensor.spatialAttentionOfClassToken(
            qkv: spatialAttention.qkv(norm1(x1)), frames: t, heads: spatialAttention.heads,
            scale: spatialAttention.scale))
        let dropped = perFrame.reshaped([b * t, 1, c]).dropPath(
            probability: dropPath.probability, training: dropPath.isTraining, using: &dropPath.generator)
        let cls = x1.slice(axis: 1, range: 0..<1) + dropped.reshaped([b, t, c]).mean(axis: 1, keepDims: true)
        return dropPath.add(to: cls) { mlp(norm2($0)) }
    }

    private func checkLayout(_ x: Tensor, _ layout: TokenLayout) {
        precondition(x.rank == 3 && layout.classTokens == 1 && x.shape[1] == layout.length,
                     "DividedSpaceTimeBlock: tokens \(x.shape) do not match 1 class token + \(layout.frames) frames × \(layout.patchesPerFrame) patches")
    }

    /// `x` plus the temporal branch, read straight from `x`'s rows: the class token's row of the
    /// projections is computed and left unused.
    private func temporalResidual(_ x: Tensor, layout: TokenLayout, _ temporalAttention: Attention) -> Tensor {
        let (t, n) = (layout.frames, layout.patchesPerFrame)
        let heads = Tensor.temporalAttention(
            qkv: temporalAttention.qkv(temporalNorm1(x)), frames: t, heads: temporalAttention.heads,
            scale: temporalAttention.scale)
        return x.addingTokens(projectTemporal(heads, through: temporalAttention.proj, b: x.shape[0], t: t, n: n),
                              afterLeading: 1)
    }

    /// The block as the reference spells it, for token mixers other than ``Attention``: the class
    /// token is copied in front of every frame and the tokens are sliced and concatenated back.
    private func sliced(_ x: Tensor, layout: TokenLayout) -> Tensor {
        let (t, n) = (layout.frames, layout.patchesPerFrame)
        let (b, c) = (x.shape[0], x.shape[2])
        let cls = x.slice(axis: 1, range: 0..<1)
        let patches = x.slice(axis: 1, range: 1..<(1 + t * n))

        let p1 = patches + temporalResidual(patches, b: b, t: t, n: n)

        let frameLayout = TokenLayout(frames: 1, gridHeight: layout.gridHeight, gridWidth: layout.gridWidth,
                                      classTokens: 1)
        let perFrame = Tensor.concat([cls.reshaped([b, 1, 1, c]).broadcast(to: [b, t, 1, c]),
                                      p1.reshaped([b, t, n, c])], axis: 2).reshaped([b * t, 1 + n, c])
        let spatial = dropPath(attn(norm1(perFrame), layout: frameLayout)).reshaped([b, t, 1 + n, c])
        let clsResidual = spatial.slice(axis: 2, range: 0..<1).mean(axis: 1).reshaped([b, 1, c])
        let patchResidual = spatial.slice(axis: 2, range: 1..<(1 + n)).reshaped([b, t * n, c])
        let x1 = Tensor.concat([cls + clsResidual, p1 + patchResidual], axis: 1)

        return dropPath.add(to: x1) { mlp(norm2($0)) }
    }

    /// `temporal_fc(DropPath(proj(heads)))` on `heads` `[B, T·N, C]`, with the two projections applied
    /// as one.
    ///
    /// Nothing nonlinear sits between `proj` and `temporal_fc`: the drop-path mask `m` scales whole
    /// rows, so `temporal_fc(m ⊙ proj(a)) = m ⊙ (a·(W_fc·W_proj)ᵀ + W_fc·b_proj) + b_fc`. The C × C
    /// weight product costs C³ multiply-adds per call, against the T·N·B·C² of the product it saves
    /// (forward and both gradients). Gradients reach all four parameters through that product; values
    /// differ from the two-step form only by rounding.
    private func projectTemporal(_ heads: Tensor, through proj: Linear, b: Int, t: Int, n: Int) -> Tensor {
        let weight = Tensor.matmul(temporalFc.weight.value, proj.weight.value)
        let shift = proj.bias.map { Tensor.linear($0.value.reshaped([1, -1]), weight: temporalFc.weight.value).reshaped([-1]) }
        guard dropPath.isTraining && dropPath.probability > 0 else {
            let bias: Tensor? = switch (shift, temporalFc.bias?.value) {
            case let (s?, f?): s + f
            case let (s, f): s ?? f
            }
            return Tensor.linear(heads, weight: weight, bias: bias)
        }
        let masked = maskTemporal(Tensor.linear(heads, weight: weight, bias: shift), b: b, t: t, n: n)
        return temporalFc.bias.map { masked + $0.value } ?? masked
    }

    /// The temporal branch's drop-path on `mixed` `[B, T·N, C]`: one sample per (clip, patch
    /// position), drawn exactly as on the reference's `[(B N), T, C]`, applied by broadcasting.
    private func maskTemporal(_ mixed: Tensor, b: Int, t: Int, n: Int) -> Tensor {
        guard dropPath.isTraining && dropPath.probability > 0 else { return mixed }
        let c = mixed.shape[2]
        let mask = Tensor(ones: [b * n, 1]).dropPath(probability: dropPath.probability, training: true,
                                                     using: &dropPath.generator)
        // Spread over the channels first, so the product runs over contiguous rows of N·C.
        let rows = mask.reshaped([b, 1, n, 1]).broadcast(to: [b, 1, n, c]).reshaped([b, 1, n * c])
        return (mixed.reshaped([b, t, n * c]) * rows).reshaped([b, t * n, c])
    }

    /// `temporal_fc(DropPath(temporal_attn(temporal_norm1(·))))` on patches `[B, T·N, C]`, where the
    /// reference regroups them as `[(B N), T, C]`: one sequence and one drop-path sample per
    /// (clip, patch position).
    ///
    /// With plain ``Attention`` the frames are attended across in place (sequence axis 1 of
    /// `[B, T, N, C]`) and the per-position drop-path mask, drawn exactly as on `[(B N), T, C]`,
    /// is applied by broadcasting, so neither permute of the reference is made.
    private func temporalResidual(_ patches: Tensor, b: Int, t: Int, n: Int) -> Tensor {
        let c = patches.shape[2]
        guard let attention = temporalAttn as? Attention else {
            let timeLayout = TokenLayout(frames: t, gridHeight: 1, gridWidth: 1, classTokens: 0)
            let byPosition = patches.reshaped([b, t, n, c]).permuted([0, 2, 1, 3]).reshaped([b * n, t, c])
            let temporal = temporalFc(dropPath(temporalAttn(temporalNorm1(byPosition), layout: timeLayout)))
            return temporal.reshaped([b, n, t, c]).permuted([0, 2, 1, 3]).reshaped([b, t * n, c])
        }
        let mixed = attention(temporalNorm1(patches).reshaped([b, t, n, c]), sequenceAxis: 1)
        return temporalFc(maskTemporal(mixed.reshaped([b, t * n, c]), b: b, t: t, n: n))
    }
}

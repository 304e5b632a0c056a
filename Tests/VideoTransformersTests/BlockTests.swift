import Testing
import TensorCore
import VideoTransformers
import _TestSupport

@Suite("Shared transformer blocks")
struct BlockTests {
    @Test func attentionMatchesHandWrittenHeads() {
        // Two heads of width 2: the fused projection's channel s·C + head·d + j must feed head
        // `head`'s component s (TIME.md §0). Checked against per-head attention built by hand.
        var g = RandomGenerator(seed: 1)
        let attn = Attention(dim: 4, heads: 2, using: &g)
        let x = Tensor.normal([1, 3, 4], using: &g)
        let y = attn(x)
        let qkv = attn.qkv(x)
        var heads: [Tensor] = []
        for h in 0..<2 {
            func part(_ s: Int) -> Tensor { qkv.slice(axis: 2, range: (s * 4 + h * 2)..<(s * 4 + h * 2 + 2)) }
            let scores = Tensor.matmul(part(0), part(1), transposeB: true) * (1 / Float(2).squareRoot())
            heads.append(Tensor.matmul(scores.softmax(axis: -1), part(2)))
        }
        let expected = attn.proj(Tensor.concat(heads, axis: 2))
        #expect(isClose(y, expected, atol: 1e-5), "max diff \(maxAbsDifference(y, expected))")
    }

    @Test func attentionGradientsMatchFiniteDifferences() {
        var g = RandomGenerator(seed: 2)
        let attn = Attention(dim: 4, heads: 2, using: &g)
        let r = checkGradients([Tensor.normal([2, 3, 4], using: &g)]) { xs in attn(xs[0]).squared().sum() }
        #expect(r.passed, "\(r)")
    }

    @Test func patchEmbedOrdersPatchesRowMajor() {
        var g = RandomGenerator(seed: 3)
        let embed = PatchEmbed(patchSize: 2, embedDim: 5, using: &g)
        let images = Tensor.normal([1, 3, 4, 6], using: &g)
        let (tokens, gh, gw) = embed(images)
        #expect(tokens.shape == [1, 6, 5] && gh == 2 && gw == 3)
        // Patch (row 1, col 2) is token 5: the convolution of pixels rows 2..<4, cols 4..<6.
        let patch = images.slice(axis: 2, range: 2..<4).slice(axis: 3, range: 4..<6)
        let direct = Tensor.conv2d(patch, weight: embed.proj.weight.value, bias: embed.proj.bias?.value,
                                   stride: (2, 2), padding: (0, 0)).reshaped([5])
        #expect(isClose(tokens.slice(axis: 1, range: 5..<6).reshaped([5]), direct, atol: 1e-5))
    }

    @Test func stochasticDepthRatesAreLinspace() {
        #expect(stochasticDepthRates(maxRate: 0.1, depth: 3) == [0, 0.05, 0.1])
        #expect(stochasticDepthRates(maxRate: 0.3, depth: 1) == [0])
        var g = RandomGenerator(seed: 4)
        let vit = VisionTransformer(TransformerConfig(embedDim: 8, depth: 4, numHeads: 2, patchSize: 4,
                                                      numFrames: 1, imgSize: 8, numClasses: 3, dropPathRate: 0.3),
                                    using: &g)
        let rates = vit.blocks.map(\.dropPath.probability)
        #expect(zip(rates, [0, 0.1, 0.2, 0.3] as [Float]).allSatisfy { Swift.abs($0 - $1) < 1e-6 }, "\(rates)")
    }

    @Test func blockInEvalModeIsDeterministicAndResidual() {
        var g = RandomGenerator(seed: 5)
        let block = Block(dim: 8, heads: 2, mlpRatio: 2, dropPath: 0.5, using: &g)
        let x = Tensor.normal([2, 5, 8], using: &g)
        let layout = TokenLayout(frames: 1, gridHeight: 2, gridWidth: 2, classTokens: 1)
        block.eval()
        let a = block(x, layout: layout), b = block(x, layout: layout)
        #expect(a == b)
        let attnOut = x + block.attn(block.norm1(x), layout: layout)
        let expected = attnOut + block.mlp(block.norm2(attnOut))
        #expect(isClose(a, expected, atol: 1e-5))
        #expect(block.namedParameters().map(\.0) == [
            "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
            "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
        ])
    }

    /// A token mixer that is plain attention but not ``Attention``, so a block takes the path
    /// spelled with slices and concatenations.
    final class OpaqueMixer: Module, TokenMixer {
        let inner: Attention
        init(_ inner: Attention) {
            self.inner = inner
            super.init()
        }
        func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor { inner(x) }
    }

    @Test func dividedBlockReadsTokensInPlaceExactlyAsTheSlicedReference() {
        var g = RandomGenerator(seed: 6)
        let (dim, heads) = (12, 3)
        let spatial = Attention(dim: dim, heads: heads, using: &g), temporal = Attention(dim: dim, heads: heads, using: &g)
        let fc = Linear(inFeatures: dim, outFeatures: dim, using: &g)
        let mlp = Mlp(inFeatures: dim, hiddenFeatures: 2 * dim, using: &g)
        let (n1, tn1, n2) = (LayerNorm(dim), LayerNorm(dim), LayerNorm(dim))
        func block(_ s: any TokenMixer, _ t: any TokenMixer) -> DividedSpaceTimeBlock {
            DividedSpaceTimeBlock(norm1: n1, attn: s, temporalNorm1: tn1, temporalAttn: t, temporalFc: fc, norm2: n2,
                                  mlp: mlp, dropPath: 0.4)
        }
        let inPlace = block(spatial, temporal), sliced = block(OpaqueMixer(spatial), OpaqueMixer(temporal))
        let layout = TokenLayout(frames: 3, gridHeight: 2, gridWidth: 2, classTokens: 1)
        let x = Tensor.normal([5, layout.length, dim], using: &g)
        let weights = Tensor.normal([5, layout.length, dim], using: &g)
        func run(_ b: DividedSpaceTimeBlock) -> (Tensor, [Tensor]) {
            b.dropPath.generator = RandomGenerator(seed: 9)
            b.train()
            b.zeroGrad()
            let y = b(x, layout: layout)
            (y * weights).sum().backward()
            return (y.detached(), b.namedParameters().map { $0.1.grad! })
        }
        let (y, grads) = run(inPlace)
        let (expected, expectedGrads) = run(sliced)
        #expect(isClose(y, expected, atol: 1e-5), "max diff \(maxAbsDifference(y, expected))")
        for (a, e) in zip(grads, expectedGrads) { #expect(isClose(a, e, atol: 1e-4), "max diff \(maxAbsDifference(a, e))") }
    }

    /// The last block's class-token-only path and TimeSformer's class embedding against the full
    /// computation, in training mode with drop-path: values, parameter gradients and generator state.
    @Test func classTokenPathsEqualTheFullComputation() {
        func model() -> TimeSformer {
            var g = RandomGenerator(seed: 30)
            let m = TimeSformer(TransformerConfig(embedDim: 12, depth: 2, numHeads: 3, patchSize: 4, numFrames: 3,
                                                  imgSize: 8, numClasses: 5, dropPathRate: 0.5), using: &g)
            m.train()
            return m
        }
        var g = RandomGenerator(seed: 31)
        let clip = Tensor.normal([6, 3, 3, 8, 8], using: &g)
        let labels = [0, 1, 2, 3, 4, 0]
        let (fast, full) = (model(), model())
        // Non-zero temporal_fc so every branch reaches the class token.
        for m in [fast, full] {
            var h = RandomGenerator(seed: 32)
            for block in m.blocks { block.temporalFc.weight.update { p in for i in p.indices { p[i] = h.nextUniform() - 0.5 } } }
        }
        let lossFast = crossEntropy(logits: fast(clip), labels: labels)
        let lossFull = crossEntropy(logits: full.head(full.features(clip).cls), labels: labels)
        #expect(Swift.abs(lossFast.item - lossFull.item) < 1e-5)
        lossFast.backward()
        lossFull.backward()
        for ((key, a), (_, e)) in zip(fast.namedParameters(), full.namedParameters()) {
            #expect(isClose(a.grad!, e.grad!, atol: 1e-5, rtol: 1e-4), "\(key): max diff \(maxAbsDifference(a.grad!, e.grad!))")
        }
        #expect(fast.randomLayerStates() == full.randomLayerStates())
    }
}

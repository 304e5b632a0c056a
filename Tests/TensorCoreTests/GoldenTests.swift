import Foundation
import Testing
import TensorCore
import _TestSupport

/// Forward and backward values against PyTorch (`Scripts/reference/make_tensorcore_golden.py`).
@Suite("TensorCore vs PyTorch golden values")
struct GoldenTests {
    let file: SafeTensorsFile

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "golden_tensorcore", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        file = try SafeTensors.read(contentsOf: url)
    }

    private func t(_ name: String) throws -> Tensor { try file.tensor(named: name) }

    @Test(arguments: ["attention.short", "attention.long"])
    func attention(_ name: String) throws {
        let (q, k, v) = (try t("\(name).q").requiringGrad(), try t("\(name).k").requiringGrad(), try t("\(name).v").requiringGrad())
        let y = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        #expect(isClose(y, try t("\(name).out"), atol: 1e-5))
        (y * (try t("\(name).g"))).sum().backward()
        #expect(isClose(q.grad!, try t("\(name).dq"), atol: 1e-5, rtol: 1e-3))
        #expect(isClose(k.grad!, try t("\(name).dk"), atol: 1e-5, rtol: 1e-3))
        #expect(isClose(v.grad!, try t("\(name).dv"), atol: 1e-5, rtol: 1e-3))
    }

    @Test func layerNorm() throws {
        let x = try t("layer_norm.x").requiringGrad()
        let w = try t("layer_norm.weight").requiringGrad(), b = try t("layer_norm.bias").requiringGrad()
        let y = Tensor.layerNorm(x, weight: w, bias: b, epsilon: 1e-6)
        #expect(isClose(y, try t("layer_norm.out"), atol: 1e-5))
        (y * (try t("layer_norm.g"))).sum().backward()
        #expect(isClose(x.grad!, try t("layer_norm.dx"), atol: 1e-5, rtol: 1e-3))
        #expect(isClose(w.grad!, try t("layer_norm.dweight"), atol: 1e-4, rtol: 1e-3))
        #expect(isClose(b.grad!, try t("layer_norm.dbias"), atol: 1e-4, rtol: 1e-3))
    }

    @Test func gelu() throws {
        let x = try t("gelu.x").requiringGrad()
        let y = x.gelu()
        #expect(isClose(y, try t("gelu.out"), atol: 1e-6))
        (y * (try t("gelu.g"))).sum().backward()
        #expect(isClose(x.grad!, try t("gelu.dx"), atol: 1e-6, rtol: 1e-4))
    }

    @Test(arguments: ["lsce", "lsce174"])
    func labelSmoothedCrossEntropy(_ name: String) throws {
        let logits = try t("\(name).logits").requiringGrad()
        let labels = try file.integers(named: "\(name).labels").values
        let loss = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.2)
        #expect(Swift.abs(loss.item - (try t("\(name).loss")).item) < 1e-5)
        loss.backward()
        #expect(isClose(logits.grad!, try t("\(name).dlogits"), atol: 1e-7, rtol: 1e-4))
    }

    @Test func twoBlockTransformer() throws {
        var g = RandomGenerator(seed: 0)
        let model = GoldenTransformer(using: &g)
        let params = try file.floatTensors().filter { $0.0.hasPrefix("transformer.param.") }
            .map { (String($0.0.dropFirst("transformer.param.".count)), $0.1) }
        let report = try model.loadStateDict(params)
        #expect(report.isExact)
        let tokens = try t("transformer.tokens").requiringGrad()
        let labels = try file.integers(named: "transformer.labels").values
        let logits = model(tokens)
        #expect(isClose(logits, try t("transformer.logits"), atol: 1e-5))
        let loss = crossEntropy(logits: logits, labels: labels, labelSmoothing: 0.1)
        #expect(Swift.abs(loss.item - (try t("transformer.loss")).item) < 1e-5)
        loss.backward()
        #expect(isClose(tokens.grad!, try t("transformer.dtokens"), atol: 1e-6, rtol: 1e-3))
        for (key, p) in model.namedParameters() {
            let expected = try t("transformer.grad.\(key)")
            #expect(isClose(p.grad!, expected, atol: 1e-6, rtol: 2e-3), "\(key): max diff \(maxAbsDifference(p.grad!, expected))")
        }
    }
}

/// The script's TinyTransformer: two timm-style pre-norm blocks, final norm, token mean, head.
private final class GoldenAttention: Module {
    let qkv: Linear, proj: Linear
    let heads: Int
    init(dim: Int, heads: Int, using g: inout RandomGenerator) {
        self.heads = heads
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, using: &g)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &g)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        let parts = qkv(x).reshaped([b, n, 3, heads, c / heads]).permuted([2, 0, 3, 1, 4])
        let q = parts.slice(axis: 0, range: 0..<1).squeezed(axis: 0)
        let k = parts.slice(axis: 0, range: 1..<2).squeezed(axis: 0)
        let v = parts.slice(axis: 0, range: 2..<3).squeezed(axis: 0)
        let y = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        return proj(y.permuted([0, 2, 1, 3]).reshaped([b, n, c]))
    }
}

private final class GoldenBlock: Module {
    let norm1: LayerNorm, attn: GoldenAttention, norm2: LayerNorm, mlp: Mlp
    init(dim: Int, heads: Int, using g: inout RandomGenerator) {
        norm1 = LayerNorm(dim, epsilon: 1e-6)
        attn = GoldenAttention(dim: dim, heads: heads, using: &g)
        norm2 = LayerNorm(dim, epsilon: 1e-6)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: 4 * dim, using: &g)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + attn(norm1(x))
        return h + mlp(norm2(h))
    }
}

private final class GoldenTransformer: Module {
    let blocks: [GoldenBlock], norm: LayerNorm, head: Linear
    init(using g: inout RandomGenerator) {
        blocks = (0..<2).map { _ in GoldenBlock(dim: 32, heads: 4, using: &g) }
        norm = LayerNorm(32, epsilon: 1e-6)
        head = Linear(inFeatures: 32, outFeatures: 5, using: &g)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for block in blocks { h = block(h) }
        return head(norm(h).mean(axis: 1))
    }
}

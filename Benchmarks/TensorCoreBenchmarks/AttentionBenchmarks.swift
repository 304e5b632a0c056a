import TensorCore

/// One attention figure: the fused primitive against the same attention built from primitives.
struct AttentionEntry: Codable {
    var sequences: Int
    var length: Int
    var width: Int
    var fusedMs: Double
    var composedMs: Double
    var speedup: Double
    var target: Double
}

/// softmax(scale · QKᵀ) V from matmul, max, exp, sum and div, differentiated by the tape: what a
/// model would run without the fused primitive.
func composedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float) -> Tensor {
    let scores = Tensor.matmul(q, k, transposeB: true) * scale
    let shifted = scores - scores.max(axis: -1, keepDims: true).detached()
    let e = shifted.exp()
    return Tensor.matmul(e / e.sum(axis: -1, keepDims: true), v)
}

/// Forward plus backward (gradients for q, k and v) of divided space-time attention's two shapes:
/// temporal (B·heads·patches sequences of 8 frames) and spatial (B·heads·frames sequences of
/// 197 tokens), head width 64.
func attentionBenchmarks(repeats: Int) -> [AttentionEntry] {
    let cases = [(b: 1176, l: 8, d: 64), (b: 96, l: 197, d: 64)]
    var generator = RandomGenerator(seed: 2)
    var entries: [AttentionEntry] = []
    for (b, l, d) in cases {
        let q = Tensor.normal([b, l, d], using: &generator)
        let k = Tensor.normal([b, l, d], using: &generator)
        let v = Tensor.normal([b, l, d], using: &generator)
        let seed = Tensor.normal([b, l, d], using: &generator)
        let scale = 1 / Float(d).squareRoot()

        func run(_ attention: (Tensor, Tensor, Tensor) -> Tensor) {
            let (ql, kl, vl) = (q.requiringGrad(), k.requiringGrad(), v.requiringGrad())
            attention(ql, kl, vl).backward(seed)
            blackHole += ql.grad!.scalars[0] + kl.grad!.scalars[0] + vl.grad!.scalars[0]
        }
        let fused = { run { Tensor.scaledDotProductAttention(query: $0, key: $1, value: $2) } }
        let composed = { run { composedAttention($0, $1, $2, scale: scale) } }
        let t = measurePair(repeats: repeats, inner: innerCount(composed), candidate: fused, baseline: composed)
        entries.append(AttentionEntry(
            sequences: b, length: l, width: d,
            fusedMs: rounded(t.candidate * 1e3), composedMs: rounded(t.baseline * 1e3),
            speedup: rounded(t.baseline / t.candidate, 2), target: 2))
    }
    return entries
}

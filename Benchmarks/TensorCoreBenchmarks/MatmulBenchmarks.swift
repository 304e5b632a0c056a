import _CBLAS
import TensorCore

/// One matrix-product figure: TensorCore's entry point against a bare `cblas_sgemm` call.
struct MatmulEntry: Codable {
    var op: String
    var shape: String
    var gflops: Double
    var baselineGflops: Double
    var baseline: String
    var ratio: Double
    var target: Double
}

/// `Tensor.matmul` (x·W) and `Tensor.linear` (x·Wᵀ + b) against sgemm on pre-allocated buffers,
/// for the shapes of a ViT-S/16 block over 8 frames of 14×14 patches (qkv and MLP fc1).
func matmulBenchmarks(repeats: Int) -> [MatmulEntry] {
    let shapes = [(m: 1568, k: 192, n: 576), (m: 1568, k: 768, n: 3072)]
    var generator = RandomGenerator(seed: 1)
    var entries: [MatmulEntry] = []
    for (m, k, n) in shapes {
        let x = Tensor.normal([m, k], using: &generator)
        let w = Tensor.normal([k, n], using: &generator)
        let wt = Tensor.normal([n, k], using: &generator)
        let bias = Tensor.normal([n], using: &generator)
        let a = x.scalars, bNN = w.scalars, bNT = wt.scalars
        var c = [Float](repeating: 0, count: m * n)
        let flops = 2.0 * Double(m * k * n)
        let shape = "\(m)x\(k)x\(n)"

        func rawSgemm(transposeB: Bool) {
            let b = transposeB ? bNT : bNN
            c.withUnsafeMutableBufferPointer { pc in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(transposeB ? k : n),
                            0, pc.baseAddress, Int32(n))
            }
            blackHole += c[0]
        }

        let matmul = { blackHole += Tensor.matmul(x, w).scalars[0] }
        let baselineNN = { rawSgemm(transposeB: false) }
        let t1 = measurePair(repeats: repeats, inner: innerCount(matmul), candidate: matmul, baseline: baselineNN)
        entries.append(MatmulEntry(
            op: "Tensor.matmul", shape: shape, gflops: rounded(flops / t1.candidate * 1e-9, 1),
            baselineGflops: rounded(flops / t1.baseline * 1e-9, 1), baseline: "cblas_sgemm NN, pre-allocated C",
            ratio: rounded(t1.baseline / t1.candidate), target: 0.9))

        let linear = { blackHole += Tensor.linear(x, weight: wt, bias: bias).scalars[0] }
        let baselineNT = { rawSgemm(transposeB: true) }
        let t2 = measurePair(repeats: repeats, inner: innerCount(linear), candidate: linear, baseline: baselineNT)
        entries.append(MatmulEntry(
            op: "Tensor.linear (with bias)", shape: shape, gflops: rounded(flops / t2.candidate * 1e-9, 1),
            baselineGflops: rounded(flops / t2.baseline * 1e-9, 1), baseline: "cblas_sgemm NT, pre-allocated C, no bias",
            ratio: rounded(t2.baseline / t2.candidate), target: 0.9))
    }
    entries += fusedLinearGELUBenchmarks(repeats: repeats)
    return entries
}

/// `Tensor.linearGELU` against `Tensor.linear` followed by `gelu()`, forward and forward plus
/// backward, on the MLP's first layer of a dimension-192 model over four clips of 8×14×14 tokens.
func fusedLinearGELUBenchmarks(repeats: Int) -> [MatmulEntry] {
    let (m, k, n) = (6272, 192, 768)
    var generator = RandomGenerator(seed: 2)
    let x = Tensor.normal([m, k], using: &generator).requiringGrad()
    let w = Tensor.normal([n, k], std: 0.05, using: &generator).requiringGrad()
    let bias = Tensor.normal([n], using: &generator).requiringGrad()
    let g = Tensor.normal([m, n], using: &generator)
    let flops = 2.0 * Double(m * k * n)
    var entries: [MatmulEntry] = []
    for backward in [false, true] {
        func run(_ f: @escaping (Tensor, Tensor, Tensor) -> Tensor) -> () -> Void {
            backward
                ? { f(x, w, bias).backward(g); blackHole += x.grad!.scalars[0]; x.zeroGrad(); w.zeroGrad(); bias.zeroGrad() }
                : { blackHole += noGrad { f(x, w, bias) }.scalars[0] }
        }
        let fused = run { Tensor.linearGELU($0, weight: $1, bias: $2) }
        let composed = run { Tensor.linear($0, weight: $1, bias: $2).gelu() }
        let t = measurePair(repeats: repeats, inner: innerCount(fused), candidate: fused, baseline: composed)
        let total = backward ? 3 * flops : flops
        entries.append(MatmulEntry(
            op: backward ? "Tensor.linearGELU forward + backward" : "Tensor.linearGELU", shape: "\(m)x\(k)x\(n)",
            gflops: rounded(total / t.candidate * 1e-9, 1), baselineGflops: rounded(total / t.baseline * 1e-9, 1),
            baseline: "Tensor.linear then gelu()", ratio: rounded(t.baseline / t.candidate), target: 1))
    }
    return entries
}

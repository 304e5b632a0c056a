import Testing
import TensorCore
import _TestSupport

private func randn(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.normal(shape, using: &g)
}

/// Batched matrix product by the definition, broadcasting batch dimensions, for reference.
private func naiveMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
    let batch = Tensor.broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "naive")
    let count = Tensor.elementCount(batch)
    let aa = a.broadcast(to: batch + [m, k]).scalars, bb = b.broadcast(to: batch + [k, n]).scalars
    var out = [Float](repeating: 0, count: count * m * n)
    for p in 0..<count {
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for l in 0..<k { s += aa[(p * m + i) * k + l] * bb[(p * k + l) * n + j] }
                out[(p * m + i) * n + j] = s
            }
        }
    }
    return Tensor(shape: batch + [m, n], scalars: out)
}

/// (shape of A, shape of B) for plain, batched, broadcast-batch and mixed-rank products.
let matmulShapes: [([Int], [Int])] = [
    ([2, 3], [3, 4]), ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]), ([3, 4], [2, 4, 5]),
    ([2, 1, 3, 4], [3, 4, 2]), ([1, 2, 3], [2, 1, 3, 2]),
]

@Suite struct MatmulTests {
    @Test func handComputedProduct() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        #expect(Tensor.matmul(a, b).scalars == [19, 22, 43, 50])
        #expect(a.matmul(b) == Tensor.matmul(a, b))
        #expect(Tensor.matmul(a, b, transposeA: true).scalars == [26, 30, 38, 44])
        #expect(Tensor.matmul(a, b, transposeB: true).scalars == [17, 23, 39, 53])
        #expect(Tensor.matmul(a, b, transposeA: true, transposeB: true).scalars == [23, 31, 34, 46])
    }

    @Test(arguments: matmulShapes)
    func valuesMatchDefinition(shapeA: [Int], shapeB: [Int]) {
        let a = randn(shapeA, seed: 1), b = randn(shapeB, seed: 2)
        let y = Tensor.matmul(a, b)
        #expect(isClose(y, naiveMatmul(a, b)), "\(shapeA) x \(shapeB)")
    }

    @Test(arguments: matmulShapes)
    func gradient(shapeA: [Int], shapeB: [Int]) {
        let r = checkGradients([randn(shapeA, seed: 3), randn(shapeB, seed: 4)]) { Tensor.matmul($0[0], $0[1]) }
        #expect(r.passed, "\(shapeA) x \(shapeB): \(r)")
    }

    /// Every transpose combination, with operands stored transposed, against the product of
    /// explicitly transposed copies; 2-D, batched, and the flattened-rows path (B of rank 2).
    @Test(arguments: [false, true], [false, true])
    func transposeFlags(transposeA: Bool, transposeB: Bool) {
        for (batchA, batchB) in [([Int](), [Int]()), ([2], [2]), ([2, 1], [3]), ([2], [])] {
            let a = randn(batchA + (transposeA ? [4, 3] : [3, 4]), seed: 5)
            let b = randn(batchB + (transposeB ? [5, 4] : [4, 5]), seed: 6)
            let y = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
            let reference = naiveMatmul(transposeA ? a.transposed() : a, transposeB ? b.transposed() : b)
            #expect(isClose(y, reference), "batches \(batchA) \(batchB)")
            let r = checkGradients([a, b]) {
                Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB)
            }
            #expect(r.passed, "batches \(batchA) \(batchB): \(r)")
        }
    }

    @Test func linearHandValues() {
        let x = Tensor(shape: [1, 2], scalars: [1, 2])
        let w = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        #expect(Tensor.linear(x, weight: w).scalars == [1, 2, 3])
        #expect(Tensor.linear(x, weight: w, bias: Tensor([1, 2, 3])).scalars == [2, 4, 6])
        let x3 = randn([2, 3, 4], seed: 7), w3 = randn([5, 4], seed: 8), b3 = randn([5], seed: 9)
        let reference = Tensor.matmul(x3, w3, transposeB: true) + b3
        #expect(isClose(Tensor.linear(x3, weight: w3, bias: b3), reference))
    }

    @Test func linearGradients() {
        let x = randn([2, 3, 4], seed: 10), w = randn([5, 4], seed: 11), b = randn([5], seed: 12)
        let withBias = checkGradients([x, w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        #expect(withBias.passed, "\(withBias)")
        let without = checkGradients([x, w]) { Tensor.linear($0[0], weight: $0[1]) }
        #expect(without.passed, "\(without)")
        let flat = checkGradients([randn([3, 4], seed: 13), w]) { Tensor.linear($0[0], weight: $0[1]) }
        #expect(flat.passed, "\(flat)")
    }

    @Test func linearGradientForBiasOnlyIsTheRowSum() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let w = Tensor(shape: [1, 2], scalars: [1, 1])
        let b = Tensor([0]).requiringGrad()
        Tensor.linear(x, weight: w, bias: b).sum().backward()
        #expect(b.grad?.scalars == [2])
    }
}

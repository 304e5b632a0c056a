import Testing
import TensorCore
import _TestSupport

@Test func addBroadcast() {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor([10, 20, 30])
    #expect((a + b).scalars == [11, 22, 33, 14, 25, 36])
}

@Test func matmulGradient() {
    var g = RandomGenerator(seed: 1)
    let a = Tensor.normal([2, 3, 4], using: &g), b = Tensor.normal([4, 5], using: &g)
    let r = checkGradients([a, b]) { Tensor.matmul($0[0], $0[1]) }
    #expect(r.passed, "\(r)")
}

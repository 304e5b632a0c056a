import Foundation
import Testing
import TensorCore
import _TestSupport

private func randn(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.normal(shape, using: &g)
}

private func uniform(_ shape: [Int], _ low: Float, _ high: Float, seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &g)
}

/// Values of magnitude in [0.2, 1] with random signs: far enough from 0 that the finite
/// differences of relu and abs never straddle the kink.
private func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = RandomGenerator(seed: seed)
    let magnitude = Tensor.uniform(shape, low: 0.2, high: 1, using: &g)
    return Tensor(shape: shape, scalars: magnitude.scalars.map { g.nextUniform() < 0.5 ? -$0 : $0 })
}

enum BinaryOp: String, CaseIterable, Sendable {
    case add, sub, mul, div

    func callAsFunction(_ a: Tensor, _ b: Tensor) -> Tensor {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }

    func callAsFunction(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        }
    }
}

/// Shape pairs covering every broadcasting case: equal shapes, a rank-0 scalar on either side, a
/// bias `[C]` against `[N, C]`, a size-one axis, and shapes that both broadcast (`[2, 1, 3]` with `[4, 1]`).
let broadcastPairs: [([Int], [Int])] = [
    ([2, 3], [2, 3]), ([2, 3], []), ([], [2, 3]), ([4, 3], [3]), ([3], [4, 3]),
    ([2, 3], [2, 1]), ([1], [2, 3]), ([2, 1, 3], [4, 1]), ([4, 1], [2, 1, 3]),
    // Blocks of at least 16 repeated along one run of axes take the vector kernels.
    ([3, 20], [20]), ([1, 20], [3, 20]), ([2, 3, 17], [2, 1, 17]), ([2, 1, 17], [2, 3, 17]),
    ([2, 3, 2, 17], [1, 3, 1, 17]),
]

/// Row-major coordinates of every element of `shape`.
private func coordinates(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for extent in shape {
        result = result.flatMap { prefix in (0..<extent).map { prefix + [$0] } }
    }
    return result
}

/// The element of `x` that position `index` of a broadcast result reads (NumPy rules).
private func broadcastRead(_ x: Tensor, at index: [Int]) -> Float {
    let offset = index.count - x.rank
    var flat = 0
    for axis in 0..<x.rank {
        flat = flat * x.shape[axis] + (x.shape[axis] == 1 ? 0 : index[axis + offset])
    }
    return x.scalars[flat]
}

@Suite struct ArithmeticTests {
    @Test func handComputedValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor([10, 20, 30])
        #expect((a + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a - b).scalars == [-9, -18, -27, -6, -15, -24])
        #expect((a * b).scalars == [10, 40, 90, 40, 100, 180])
        #expect((b / a).scalars == [10, 10, 10, 2.5, 4, 5])
        #expect((-a).scalars == [-1, -2, -3, -4, -5, -6])
        let column = Tensor(shape: [2, 1], scalars: [1, 2])
        #expect((column * Tensor([1, 10, 100])).scalars == [1, 10, 100, 2, 20, 200])
    }

    @Test(arguments: BinaryOp.allCases, broadcastPairs)
    func broadcastValuesMatchIndexRule(op: BinaryOp, shapes: ([Int], [Int])) {
        let a = randn(shapes.0, seed: 1)
        let b = op == .div ? uniform(shapes.1, 0.5, 2, seed: 2) : randn(shapes.1, seed: 2)
        let y = op(a, b)
        let outShape = Tensor.broadcastShape(shapes.0, shapes.1, op: "test")
        #expect(y.shape == outShape)
        for (flat, index) in coordinates(outShape).enumerated() {
            let expected = op(broadcastRead(a, at: index), broadcastRead(b, at: index))
            #expect(y.scalars[flat] == expected, "\(op) at \(index)")
        }
    }

    @Test(arguments: BinaryOp.allCases, broadcastPairs)
    func broadcastGradients(op: BinaryOp, shapes: ([Int], [Int])) {
        let a = randn(shapes.0, seed: 3)
        let b = op == .div ? uniform(shapes.1, 0.5, 2, seed: 4) : randn(shapes.1, seed: 4)
        let r = checkGradients([a, b]) { op($0[0], $0[1]) }
        #expect(r.passed, "\(op) \(shapes): \(r)")
    }

    @Test func negateGradient() {
        let r = checkGradients([randn([2, 3], seed: 5)]) { -$0[0] }
        #expect(r.passed, "\(r)")
    }

    @Test func scalarOperandValues() {
        let x = Tensor([1, 2, 4])
        #expect((x + 1).scalars == [2, 3, 5])
        #expect((1 + x).scalars == [2, 3, 5])
        #expect((x - 1).scalars == [0, 1, 3])
        #expect((1 - x).scalars == [0, -1, -3])
        #expect((x * 3).scalars == [3, 6, 12])
        #expect((3 * x).scalars == [3, 6, 12])
        #expect((x / 2).scalars == [0.5, 1, 2])
        #expect((4 / x).scalars == [4, 2, 1])
    }

    @Test func scalarOperandGradients() {
        let x = uniform([2, 3], 0.5, 2, seed: 6)
        let functions: [(String, (Tensor) -> Tensor)] = [
            ("x + s", { $0 + 1.5 }), ("s + x", { 1.5 + $0 }), ("x - s", { $0 - 1.5 }), ("s - x", { 1.5 - $0 }),
            ("x * s", { $0 * -2.5 }), ("s * x", { -2.5 * $0 }), ("x / s", { $0 / 4 }), ("s / x", { 3 / $0 }),
        ]
        for (name, f) in functions {
            let r = checkGradients([x]) { f($0[0]) }
            #expect(r.passed, "\(name): \(r)")
        }
    }

    @Test func compoundAssignment() {
        var x = Tensor([1, 2])
        x += Tensor([3, 4]); #expect(x.scalars == [4, 6])
        x -= Tensor([1, 1]); #expect(x.scalars == [3, 5])
        x *= Tensor([2, 2]); #expect(x.scalars == [6, 10])
        x /= Tensor([3, 5]); #expect(x.scalars == [2, 2])
    }
}

enum UnaryOp: String, CaseIterable, Sendable {
    case exp, log, sqrt, rsqrt, square, pow15, tanh, sigmoid, relu, abs

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .exp: x.exp()
        case .log: x.log()
        case .sqrt: x.sqrt()
        case .rsqrt: x.rsqrt()
        case .square: x.pow(2)
        case .pow15: x.pow(1.5)
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        case .relu: x.relu()
        case .abs: x.abs()
        }
    }

    /// Inputs in the function's domain, away from points where it is not differentiable.
    func input(seed: UInt64) -> Tensor {
        switch self {
        case .log, .sqrt, .rsqrt, .pow15: uniform([2, 3], 0.5, 2, seed: seed)
        case .relu, .abs: awayFromZero([2, 3], seed: seed)
        case .exp, .square, .tanh, .sigmoid: randn([2, 3], seed: seed)
        }
    }

    /// (input, expected output) worked out by hand.
    var handCase: ([Float], [Float]) {
        switch self {
        case .exp: ([0, 1, -1], [1, Float(M_E), Float(1 / M_E)])
        case .log: ([1, Float(M_E), 0.25], [0, 1, -Float(2 * M_LN2)])
        case .sqrt: ([4, 9, 0.25], [2, 3, 0.5])
        case .rsqrt: ([4, 0.25, 1], [0.5, 2, 1])
        case .square: ([-3, 2, 0.5], [9, 4, 0.25])
        case .pow15: ([4, 9, 1], [8, 27, 1])
        case .tanh: ([0, 20, -20], [0, 1, -1])
        case .sigmoid: ([0, 40, -40], [0.5, 1, 0])
        case .relu: ([-1, 0, 2], [0, 0, 2])
        case .abs: ([-2, 0, 3], [2, 0, 3])
        }
    }
}

@Suite struct UnaryTests {
    @Test(arguments: UnaryOp.allCases)
    func handComputedValues(op: UnaryOp) {
        let (input, expected) = op.handCase
        let y = op(Tensor(input))
        #expect(isClose(y, Tensor(expected), atol: 1e-6, rtol: 1e-6), "\(op): \(y)")
    }

    @Test(arguments: UnaryOp.allCases)
    func gradient(op: UnaryOp) {
        let r = checkGradients([op.input(seed: 8)]) { op($0[0]) }
        #expect(r.passed, "\(op): \(r)")
    }

    @Test func derivativeAtZeroIsZeroForReluAndAbs() {
        let x = Tensor([0, 0]).requiringGrad()
        (x.relu() + x.abs()).sum().backward()
        #expect(x.grad?.scalars == [0, 0])
    }

    @Test func freeFunctionsMatchMethods() {
        let x = uniform([4], 0.5, 2, seed: 9)
        #expect(exp(x) == x.exp() && log(x) == x.log() && sqrt(x) == x.sqrt())
        #expect(tanh(x) == x.tanh() && sigmoid(x) == x.sigmoid() && relu(x) == x.relu())
        #expect(x.squared() == x * x)
    }
}

@Suite struct AutogradTests {
    @Test func reusedNodeAccumulates() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let y = x * x + x
        y.sum().backward()
        #expect(x.grad?.scalars == [3, 5, 7])
    }

    @Test func explicitSeedScalesTheGradient() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * 2).backward(Tensor([1, 10, 100]))
        #expect(x.grad?.scalars == [2, 20, 200])
    }

    @Test func noGradRecordsNothing() {
        let x = Tensor([1, 2]).requiringGrad()
        let inside = noGrad { (x * x + 1).exp().sum() }
        #expect(!inside.requiresGrad)
        #expect(GradMode.isEnabled)
        #expect(noGrad { GradMode.isEnabled } == false)
        #expect((x * x).requiresGrad)
        #expect(Swift.abs(inside.item - Float(Foundation.exp(2.0) + Foundation.exp(5.0))) < 1e-4)
    }

    @Test func detachedCutsTheGraph() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let d = x.detached()
        #expect(!d.requiresGrad && d == x)
        (d * x).sum().backward()
        #expect(x.grad?.scalars == [1, 2, 3])  // x, not 2x: the detached factor is a constant
    }

    @Test func inputsWithoutGradGetNone() {
        let x = Tensor([1, 2]).requiringGrad(), c = Tensor([3, 4])
        (x * c).sum().backward()
        #expect(x.grad?.scalars == [3, 4])
        #expect(c.grad == nil && !c.requiresGrad)
    }

    @Test func gradientsAccumulateUntilZeroed() {
        let x = Tensor([1, 2]).requiringGrad()
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad?.scalars == [6, 6])
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * x).sum().backward()
        #expect(x.grad?.scalars == [2, 4])
    }

    @Test func veryDeepChainBackpropagates() {
        let x = Tensor([1, -2]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y + x }
        #expect(y.scalars == [20_001, -40_002])
        y.sum().backward()
        #expect(x.grad?.scalars == [20_001, 20_001])
    }
}

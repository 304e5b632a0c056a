import Testing
import TensorCore

/// `Linalg`: Float64 products and solves through CBLAS and LAPACKE, on systems with known answers.
@Suite struct LinalgTests {
    @Test func productHonoursBothTransposeFlags() {
        // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[1, 0], [0, 1], [1, 1]] (3×2): AB = [[4, 5], [10, 11]].
        let a: [Double] = [1, 2, 3, 4, 5, 6], b: [Double] = [1, 0, 0, 1, 1, 1]
        #expect(Linalg.product(a, b, rows: 2, inner: 3, columns: 2) == [4, 5, 10, 11])
        // AᵀA (3×3) with A stored as given: the Gram matrix of A's columns.
        #expect(Linalg.product(a, a, rows: 3, inner: 2, columns: 3, transposeA: true) == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        // A·Aᵀ (2×2).
        #expect(Linalg.product(a, a, rows: 2, inner: 3, columns: 2, transposeB: true) == [14, 32, 32, 77])
        #expect(Linalg.product([], [], rows: 0, inner: 0, columns: 0) == [])
    }

    @Test func choleskySolvesAKnownSystem() throws {
        // [[4, 2], [2, 3]] x = [2, 1]  →  x = [0.5, 0].
        let x = try Linalg.solveSymmetricPositiveDefinite([4, 2, 2, 3], [2, 1], order: 2)
        #expect(Swift.abs(x[0] - 0.5) < 1e-15 && Swift.abs(x[1]) < 1e-15)
    }

    @Test func choleskySolvesSeveralRightHandSides() throws {
        // A = MᵀM + I is positive definite; B = A·X for a chosen X [3, 2].
        let m: [Double] = [2, -1, 0, 1, 3, 1, 0, 1, 4, 1, 0, -2]  // 4×3
        var a = Linalg.product(m, m, rows: 3, inner: 4, columns: 3, transposeA: true)
        for i in 0..<3 { a[i * 3 + i] += 1 }
        let expected: [Double] = [1, -2, 0.5, 3, -1, 0.25]
        let b = Linalg.product(a, expected, rows: 3, inner: 3, columns: 2)
        let x = try Linalg.solveSymmetricPositiveDefinite(a, b, order: 3, rightHandSides: 2)
        for (got, want) in zip(x, expected) { #expect(Swift.abs(got - want) < 1e-12) }
    }

    @Test func choleskyRejectsIndefiniteAndNonFiniteMatrices() {
        #expect(throws: LinalgError.notPositiveDefinite(order: 2, minor: 2)) {
            try Linalg.solveSymmetricPositiveDefinite([1, 2, 2, 1], [1, 1], order: 2)
        }
        #expect(throws: LinalgError.notPositiveDefinite(order: 2, minor: 2)) {
            try Linalg.solveSymmetricPositiveDefinite([1, 1, 1, 1], [1, 1], order: 2)  // singular
        }
        #expect(throws: LinalgError.nonFinite(operation: "solveSymmetricPositiveDefinite")) {
            try Linalg.solveSymmetricPositiveDefinite([1, 0, 0, .nan], [1, 1], order: 2)
        }
        let message = LinalgError.notPositiveDefinite(order: 2, minor: 2).description
        #expect(message.contains("not positive definite") && message.contains("least squares"))
    }

    @Test func leastSquaresGivesTheMinimumNormSolutionOfASingularSystem() throws {
        // [[1, 1], [1, 1]] x = [2, 2]: every x with x0 + x1 = 2 solves it; the shortest is [1, 1].
        let (x, rank) = try Linalg.leastSquares([1, 1, 1, 1], [2, 2], rows: 2, columns: 2)
        #expect(rank == 1)
        #expect(Swift.abs(x[0] - 1) < 1e-12 && Swift.abs(x[1] - 1) < 1e-12)
    }

    @Test func leastSquaresFitsAnOverdeterminedSystem() throws {
        // y = 1 + 2t at t = 0, 1, 2 plus residuals (+1, −2, +1) that are orthogonal to [1, t]:
        // the fit recovers intercept 1 and slope 2 exactly.
        let a: [Double] = [1, 0, 1, 1, 1, 2], y: [Double] = [2, 1, 6]
        let (x, rank) = try Linalg.leastSquares(a, y, rows: 3, columns: 2)
        #expect(rank == 2)
        #expect(Swift.abs(x[0] - 1) < 1e-12 && Swift.abs(x[1] - 2) < 1e-12)
        #expect(throws: LinalgError.nonFinite(operation: "leastSquares")) {
            try Linalg.leastSquares([1, .infinity], [1], rows: 1, columns: 2)
        }
    }
}

extension LinalgTests {
    @Test func choleskyRefusesAMatrixSingularToWorkingPrecision() {
        // vvᵀ + wwᵀ in 3 dimensions has rank 2; rounding may leave a tiny positive last pivot,
        // which the condition estimate catches.
        let v: [Double] = [0.3, 1.7, -2.2], w: [Double] = [1.1, -0.4, 0.9]
        let a: [Double] = (0..<9).map { (i: Int) -> Double in
            let (r, c) = (i / 3, i % 3)
            return v[r] * v[c] + w[r] * w[c]
        }
        #expect(throws: LinalgError.self) { try Linalg.solveSymmetricPositiveDefinite(a, [1, 2, 3], order: 3) }
        let message = LinalgError.illConditioned(order: 3, reciprocalCondition: 1e-18).description
        #expect(message.contains("singular to working precision"))
    }
}

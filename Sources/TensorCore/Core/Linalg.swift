internal import _CBLAS

/// Dense Float64 linear algebra on row-major `[Double]` matrices, through CBLAS and LAPACKE.
///
/// These are the few pieces closed-form fits need (normal equations of least squares and ridge
/// regression). They work in `Double` because a Gram matrix `XᵀX` squares the condition number of
/// `X`, which Float32 cannot carry. Matrices are row-major; a matrix with `r` rows and `c` columns
/// is an array of `r·c` values. Shapes that do not fit are programmer errors (preconditions);
/// what depends on the values — a matrix that is not positive definite, NaN, a solver that does
/// not converge — is a thrown ``LinalgError``.
///
/// ```swift
/// // [[4, 2], [2, 3]] · x = [2, 1]  →  x = [0.5, 0]
/// let x = try Linalg.solveSymmetricPositiveDefinite([4, 2, 2, 3], [2, 1], order: 2)
/// ```
public enum Linalg {
    /// The product `op(A)·op(B)` (`cblas_dgemm`): `rows × columns`, summed over `inner`.
    ///
    /// `a` holds `rows × inner` values, or `inner × rows` with `transposeA`; `b` holds
    /// `inner × columns`, or `columns × inner` with `transposeB`. The Gram matrix of `X` (`n × c`)
    /// is `product(x, x, rows: c, inner: n, columns: c, transposeA: true)`.
    public static func product(
        _ a: [Double], _ b: [Double], rows: Int, inner: Int, columns: Int, transposeA: Bool = false, transposeB: Bool = false
    ) -> [Double] {
        precondition(rows >= 0 && inner >= 0 && columns >= 0 && a.count == rows * inner && b.count == inner * columns,
                     "Linalg.product: a has \(a.count) values and b \(b.count) for \(rows)×\(inner) · \(inner)×\(columns)")
        var c = [Double](repeating: 0, count: rows * columns)
        guard rows > 0, inner > 0, columns > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                                Int32(rows), Int32(columns), Int32(inner),
                                1, pa.baseAddress, Int32(transposeA ? rows : inner), pb.baseAddress,
                                Int32(transposeB ? inner : columns), 0, pc.baseAddress, Int32(columns))
                }
            }
        }
        return c
    }

    /// Solves `A·X = B` for a symmetric positive definite `A` (`order × order`) and `B`
    /// (`order × rightHandSides`) by Cholesky factorisation, returning `X`.
    ///
    /// This is `LAPACKE_dposv` split into its steps (`dpotrf`, then `dpotrs`) with LAPACK's
    /// condition estimate (`dpocon`) in between: a matrix that is singular to working precision can
    /// still factor with a tiny positive pivot and give a meaningless solution, so one whose
    /// reciprocal condition number is below machine epsilon is refused (SciPy's `solve` warns at
    /// the same point). Only the upper triangle of `a` is read.
    /// - Throws: ``LinalgError/notPositiveDefinite(order:minor:)`` when the factorisation meets a
    ///   non-positive pivot and ``LinalgError/illConditioned(order:reciprocalCondition:)`` for a
    ///   matrix singular to working precision (solve those with
    ///   ``leastSquares(_:_:rows:columns:rightHandSides:reciprocalCondition:)``), and
    ///   ``LinalgError/nonFinite(operation:)`` when an input holds NaN or an infinity.
    public static func solveSymmetricPositiveDefinite(
        _ a: [Double], _ b: [Double], order: Int, rightHandSides: Int = 1
    ) throws(LinalgError) -> [Double] {
        let op = "solveSymmetricPositiveDefinite"
        precondition(order >= 0 && rightHandSides >= 0 && a.count == order * order && b.count == order * rightHandSides,
                     "Linalg.\(op): a has \(a.count) values for \(order)×\(order), b \(b.count) for \(order)×\(rightHandSides)")
        guard order > 0, rightHandSides > 0 else { return b }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw .nonFinite(operation: op) }
        let upper = CChar(UInt8(ascii: "U"))
        var factor = a, x = b, reciprocalCondition = 0.0
        let n: LapackInt = numericCast(order)
        let norm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "1")), upper, n, a, n)
        let factored = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, upper, n, &factor, n)
        if factored > 0 { throw .notPositiveDefinite(order: order, minor: Int(factored)) }
        try check(Int(factored), op: op)
        try check(Int(LAPACKE_dpocon(LAPACK_ROW_MAJOR, upper, n, factor, n, norm, &reciprocalCondition)), op: op)
        guard reciprocalCondition >= Double.ulpOfOne else {
            throw .illConditioned(order: order, reciprocalCondition: reciprocalCondition)
        }
        let nrhs: LapackInt = numericCast(rightHandSides)
        try check(Int(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, upper, n, nrhs, factor, n, &x, nrhs)), op: op)
        return x
    }

    /// The minimum-norm least-squares solution `X` of `A·X ≈ B` for `A` (`rows × columns`) and `B`
    /// (`rows × rightHandSides`), through the singular value decomposition (`LAPACKE_dgelsd`), with
    /// the effective rank of `A`.
    ///
    /// Singular values below `reciprocalCondition` times the largest are treated as zero; a
    /// negative value means machine precision. This is the pseudo-inverse solution, defined for
    /// any `A`, including singular and rank-deficient ones.
    /// - Throws: ``LinalgError/didNotConverge(operation:info:)`` when the SVD does not converge and
    ///   ``LinalgError/nonFinite(operation:)`` when an input holds NaN or an infinity.
    public static func leastSquares(
        _ a: [Double], _ b: [Double], rows: Int, columns: Int, rightHandSides: Int = 1, reciprocalCondition: Double = -1
    ) throws(LinalgError) -> (solution: [Double], rank: Int) {
        let op = "leastSquares"
        precondition(rows >= 0 && columns >= 0 && rightHandSides >= 0 && a.count == rows * columns && b.count == rows * rightHandSides,
                     "Linalg.\(op): a has \(a.count) values for \(rows)×\(columns), b \(b.count) for \(rows)×\(rightHandSides)")
        guard rows > 0, columns > 0, rightHandSides > 0 else {
            return ([Double](repeating: 0, count: columns * rightHandSides), 0)
        }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { throw .nonFinite(operation: op) }
        // dgelsd overwrites B with X, so B needs max(rows, columns) rows.
        var work = a
        var x = [Double](repeating: 0, count: Swift.max(rows, columns) * rightHandSides)
        x.replaceSubrange(0..<b.count, with: b)
        var singularValues = [Double](repeating: 0, count: Swift.min(rows, columns))
        var rank: Int32 = 0
        let info = work.withUnsafeMutableBufferPointer { pa in
            x.withUnsafeMutableBufferPointer { px in
                singularValues.withUnsafeMutableBufferPointer { ps in
                    withUnsafeMutablePointer(to: &rank) { pr in
                        LAPACKE_dgelsd(LAPACK_ROW_MAJOR, numericCast(rows), numericCast(columns), numericCast(rightHandSides),
                                       pa.baseAddress, numericCast(columns), px.baseAddress, numericCast(rightHandSides),
                                       ps.baseAddress, reciprocalCondition, pr)
                    }
                }
            }
        }
        if info > 0 { throw .didNotConverge(operation: op, info: Int(info)) }
        try check(Int(info), op: op)
        return (Array(x[0..<(columns * rightHandSides)]), Int(rank))
    }

    /// LAPACK's integer type (`lapack_int`, 32 bits unless LAPACKE is built for ILP64).
    private typealias LapackInt = Int32

    /// Converts a negative LAPACK `info` code (an argument LAPACK rejected) into an error.
    private static func check(_ info: Int, op: String) throws(LinalgError) {
        if info < 0 { throw .invalidArgument(operation: op, argument: -info) }
    }
}

/// Why a ``Linalg`` routine could not give a solution.
public enum LinalgError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The leading minor of size `minor` of an `order × order` matrix is not positive: the matrix
    /// is singular or indefinite, so Cholesky cannot factor it.
    case notPositiveDefinite(order: Int, minor: Int)
    /// The matrix is singular to working precision: its estimated reciprocal condition number
    /// (1-norm) is below machine epsilon.
    case illConditioned(order: Int, reciprocalCondition: Double)
    /// An input matrix holds NaN or an infinity.
    case nonFinite(operation: String)
    /// The singular value decomposition did not converge (`info` off-diagonal values stayed non-zero).
    case didNotConverge(operation: String, info: Int)
    /// LAPACK rejected argument number `argument` (a bug in the call, reported rather than trapped).
    case invalidArgument(operation: String, argument: Int)

    /// A one-line explanation with a hint.
    public var description: String {
        switch self {
        case let .notPositiveDefinite(order, minor):
            return "Linalg: the \(order)×\(order) matrix is not positive definite (leading minor \(minor) is not positive); "
                + "it is singular or indefinite: add a ridge term or solve by least squares"
        case let .illConditioned(order, reciprocalCondition):
            return "Linalg: the \(order)×\(order) matrix is singular to working precision (reciprocal condition "
                + "\(reciprocalCondition)); add a ridge term or solve by least squares"
        case let .nonFinite(operation):
            return "Linalg.\(operation): the input holds NaN or infinite values"
        case let .didNotConverge(operation, info):
            return "Linalg.\(operation): the singular value decomposition did not converge (\(info) values left)"
        case let .invalidArgument(operation, argument):
            return "Linalg.\(operation): LAPACK rejected argument \(argument)"
        }
    }
}

/// Large matrix products split over ``ComputeContext``'s threads, each block one single-threaded
/// `cblas_sgemm`.
///
/// OpenBLAS runs on one thread (see ``ComputeContext``), so products on the hot path come here: the
/// output is cut into as many row blocks as there are threads (column blocks when it has few rows),
/// block edges on multiples of 16 so every block keeps whole micro-tiles of the sgemm kernel. Inside a
/// parallel region, or for products under about a megaflop, it is one plain call.
///
/// With `bias`, each thread first writes the bias into its own block of C and accumulates onto it
/// (beta 1): the fill runs on every thread, right before the product reads the block back.
///
/// With `packed`, each block is the kernel table's own packed GEMM (`vssl_kernels.sgemm`) where
/// the active table has one (AVX-512), `cblas_sgemm` otherwise. The convolutions ask for it: on
/// their shapes it runs at about 1.6× OpenBLAS's AVX2 kernels, which are what OpenBLAS uses when
/// `OPENBLAS_CORETYPE=Haswell` (see Benchmarks/README.md, CNNBenchmarks). `VIDEOSSL_KERNELS=avx2`
/// selects a table without one, and with it every product goes back to OpenBLAS.
extension BLAS {
    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices, on every compute thread.
    static func parallelSgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil,
        packed: Bool = false
    ) {
        let threads = ComputeContext.threadCount
        let splitRows = m >= n || n < 32
        let extent = splitRows ? m : n
        let blocks = min(threads, extent / 16)
        let beta = bias == nil ? beta : 1
        guard blocks > 1, m * n * k >= 1 << 19, !ComputeContext.isInsideParallelRegion else {
            if let bias { fill(c, ldc: ldc, rows: 0..<m, columns: 0..<n, with: bias) }
            sgemm(packed: packed, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let tiles = (extent + 15) / 16
        ComputeContext.parallelFor(blocks) { range in
            for block in range {
                let lo = Swift.min(extent, tiles * block / blocks * 16)
                let hi = Swift.min(extent, tiles * (block + 1) / blocks * 16)
                guard lo < hi else { continue }
                if let bias {
                    fill(c, ldc: ldc, rows: splitRows ? lo..<hi : 0..<m, columns: splitRows ? 0..<n : lo..<hi,
                         with: bias)
                }
                if splitRows {
                    // Row i of op(A) is row i of A, or column i when A is transposed.
                    sgemm(packed: packed, transposeA: transposeA, transposeB: transposeB, m: hi - lo, n: n, k: k,
                          alpha: alpha,
                          a: a + (transposeA ? lo : lo * lda), lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c + lo * ldc, ldc: ldc)
                } else {
                    // Column j of op(B) is column j of B, or row j when B is transposed.
                    sgemm(packed: packed, transposeA: transposeA, transposeB: transposeB, m: m, n: hi - lo, k: k,
                          alpha: alpha,
                          a: a, lda: lda, b: b + (transposeB ? lo * ldb : lo), ldb: ldb,
                          beta: beta, c: c + lo, ldc: ldc)
                }
            }
        }
    }

    /// One single-threaded product: the kernel table's packed GEMM when `packed` and the table has
    /// one, `cblas_sgemm` otherwise.
    @inline(__always)
    private static func sgemm(
        packed: Bool, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if packed, let kernel = Kernels.table.sgemm {
            kernel(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else {
            sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// Writes `bias[j]` into `c[i, j]` for the given rows and columns.
    private static func fill(
        _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>, with bias: UnsafePointer<Float>
    ) {
        for i in rows {
            (c + i * ldc + columns.lowerBound).update(from: bias + columns.lowerBound, count: columns.count)
        }
    }
}

import Foundation
import Testing
import TensorCore
import _CKernels

/// The packed single-precision GEMM of the AVX-512 kernel table (`vssl_kernels.sgemm`, which the
/// convolutions use in place of `cblas_sgemm` when that table is active) against a triple loop in
/// double precision, on shapes that leave every kind of edge: sizes below, at and just past the
/// 8-row and 48-column micro-tile, the 320-deep and 480-wide cache blocks, all four transposes,
/// alpha and beta, and leading dimensions larger than the matrices. It is tested whatever table
/// the process chose (also under `VIDEOSSL_KERNELS=avx2`), so only on a CPU without AVX-512 does
/// it skip.
///
/// Tolerance: each entry may differ from the exact sum by `4·ε·√k` relative to `Σ|alpha·aᵢbᵢ| +
/// |beta·c|` (ε = 2⁻²³), the usual bound for a sum of k rounded products split into blocks, with
/// slack for the fused multiply-adds; the worst error observed on these shapes is about 0.6·ε·√k.
@Suite struct GEMMTests {
    static var packed: (@convention(c) (Int32, Int32, Int, Int, Int, Float, UnsafePointer<Float>, Int,
                                        UnsafePointer<Float>, Int, Float, UnsafeMutablePointer<Float>, Int) -> Void)? {
        vssl_kernels_for_isa(Int32(VSSL_ISA_AVX512))?.pointee.sgemm
    }

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return Tensor.normal([Swift.max(count, 1)], std: 1, using: &g).scalars
    }

    /// Runs one product with the packed GEMM and checks it (and that C's padding is untouched).
    static func check(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
                      pad: Int = 0, seed: UInt64 = 1) -> Bool {
        guard let sgemm = packed else { return true }
        let lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad
        let a = random((transposeA ? k : m) * lda, seed: seed)
        let b = random((transposeB ? n : k) * ldb, seed: seed + 1)
        var c = random(m * ldc, seed: seed + 2)
        if beta == 0 { for i in c.indices { c[i] = .nan } }   // beta 0 must not read C
        let before = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, pa.baseAddress!, lda,
                          pb.baseAddress!, ldb, beta, pc.baseAddress!, ldc)
                }
            }
        }
        let bound = 4 * Double(Float.ulpOfOne) * (Double(k) + 1).squareRoot()
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j]
                guard j < n else {
                    if !(got == before[i * ldc + j] || (got.isNaN && before[i * ldc + j].isNaN)) { return false }
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    magnitude += Swift.abs(x * y)
                }
                let old = beta == 0 ? 0 : Double(before[i * ldc + j])
                let expected = Double(alpha) * sum + Double(beta) * old
                let scale = Swift.abs(Double(alpha)) * magnitude + Swift.abs(Double(beta) * old)
                if !(Swift.abs(Double(got) - expected) <= bound * scale + 1e-30) { return false }
            }
        }
        return true
    }

    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    @Test func smallAndAwkwardShapesInEveryTransposition() {
        let sizes = [1, 7, 8, 9, 13, 31, 33, 47, 49, 65]
        for (ta, tb) in Self.transposes {
            for m in sizes {
                for n in sizes {
                    for k in [1, 7, 16, 17, 33] {
                        #expect(Self.check(transposeA: ta, transposeB: tb, m: m, n: n, k: k, seed: UInt64(m * 97 + n)),
                                "ta \(ta) tb \(tb) m \(m) n \(n) k \(k)")
                    }
                }
            }
        }
    }

    @Test func shapesAcrossTheCacheBlocks() {
        // k past the 320-deep block (beta applies to the first block only), n past the 480-wide one.
        let shapes = [(257, 65, 330), (64, 529, 321), (13, 1000, 641), (72, 96, 1100), (129, 481, 31)]
        for (ta, tb) in Self.transposes {
            for (m, n, k) in shapes {
                #expect(Self.check(transposeA: ta, transposeB: tb, m: m, n: n, k: k, beta: 1),
                        "ta \(ta) tb \(tb) m \(m) n \(n) k \(k)")
            }
        }
    }

    @Test func alphaBetaAndLeadingDimensions() {
        for (ta, tb) in Self.transposes {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2), (-1, 1), (2, 0.25), (1, -0.5)] {
                for pad in [0, 1, 5, 16] {
                    #expect(Self.check(transposeA: ta, transposeB: tb, m: 31, n: 53, k: 270, alpha: alpha,
                                       beta: beta, pad: pad),
                            "ta \(ta) tb \(tb) alpha \(alpha) beta \(beta) pad \(pad)")
                }
            }
        }
    }

    @Test func anEmptyInnerDimensionScalesC() {
        guard let sgemm = Self.packed else { return }
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        let a: [Float] = [0], b: [Float] = [0]
        sgemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, 0.5, &c, 3)
        #expect(c == [0.5, 1, 1.5, 2, 2.5, 3])
        c = [.nan, 2, 3, 4, 5, 6]
        sgemm(0, 0, 2, 3, 0, 1, a, 1, b, 3, 0, &c, 3)
        #expect(c == [0, 0, 0, 0, 0, 0])
    }
}

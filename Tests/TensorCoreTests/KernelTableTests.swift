import Foundation
import Testing
import TensorCore
import _CKernels

/// The C kernel tables against each other: every vector table this CPU supports (AVX2, AVX-512)
/// must give what the portable table gives on the same inputs, at lengths that exercise full
/// vectors and every tail. The ops' own tests run on the table the process chose; these pin the
/// other ones, so a CPU without AVX2 (which uses the portable table) gets the same results.
@Suite struct KernelTableTests {
    /// Lengths around the vector widths (8 and 16 lanes) and the model's row widths.
    static let lengths = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 50, 197, 389]

    static var portable: vssl_kernels { vssl_kernels_for_isa(Int32(VSSL_ISA_PORTABLE))!.pointee }

    /// The vector tables available here (none on a CPU without AVX2).
    static var vectorTables: [vssl_kernels] {
        [VSSL_ISA_AVX2, VSSL_ISA_AVX512].compactMap { vssl_kernels_for_isa(Int32($0))?.pointee }
    }

    static func random(_ count: Int, std: Float = 2, seed: UInt64) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return Tensor.normal([count], std: std, using: &g).scalars
    }

    /// Runs `body` for the portable table and `table`, each writing into a fresh buffer of `count`.
    static func outputs(
        _ table: vssl_kernels, count: Int, _ body: (vssl_kernels, UnsafeMutablePointer<Float>) -> Void
    ) -> (expected: [Float], actual: [Float]) {
        var expected = [Float](repeating: .nan, count: count), actual = expected
        expected.withUnsafeMutableBufferPointer { body(portable, $0.baseAddress!) }
        actual.withUnsafeMutableBufferPointer { body(table, $0.baseAddress!) }
        return (expected, actual)
    }

    static func close(_ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x == y || Swift.abs(x - y) <= atol + rtol * Swift.abs(y) || (x.isNaN && y.isNaN)
        }
    }

    @Test func theActiveTableIsOneTheCPUSupports() {
        let active = vssl_active_kernels().pointee
        #expect(vssl_kernels_for_isa(active.isa) != nil)
        #expect(ComputeContext.kernelInstructionSet == String(cString: active.name))
        #expect(vssl_kernels_for_isa(-1) == nil && vssl_kernels_for_isa(Int32(VSSL_ISA_COUNT)) == nil)
    }

    @Test func geluForwardAndBackward() {
        for table in Self.vectorTables {
            for n in Self.lengths {
                var x = Self.random(n, std: 3, seed: UInt64(n))
                if n > 4 { x[0] = 30; x[1] = -30; x[2] = 0; x[3] = -.infinity }
                let g = Self.random(n, seed: UInt64(n + 1))
                let forward = Self.outputs(table, count: n) { k, out in k.gelu_forward(x, out, n) }
                #expect(Self.close(forward.actual, forward.expected, atol: 2e-6, rtol: 2e-6), "\(String(cString: table.name)) n \(n)")
                let backward = Self.outputs(table, count: n) { k, out in k.gelu_backward(x, g, out, n) }
                #expect(Self.close(backward.actual, backward.expected, atol: 1e-6, rtol: 2e-6), "\(String(cString: table.name)) n \(n)")
            }
        }
    }

    @Test func softmaxRowsAndColumns() {
        for table in Self.vectorTables {
            for n in Self.lengths {
                let rows = 3
                var x = Self.random(rows * n, std: 4, seed: UInt64(n))
                x[0] = -.infinity
                let g = Self.random(rows * n, seed: UInt64(n + 7))
                for log: Int32 in [0, 1] {
                    let y = Self.outputs(table, count: rows * n) { k, out in k.softmax_rows(x, out, rows, n, log) }
                    #expect(Self.close(y.actual, y.expected, atol: 1e-6, rtol: 1e-5), "rows n \(n) log \(log)")
                    let dx = Self.outputs(table, count: rows * n) { k, out in
                        k.softmax_backward_rows(g, y.expected, out, rows, n, log)
                    }
                    #expect(Self.close(dx.actual, dx.expected, atol: 1e-5, rtol: 1e-5), "rows backward n \(n) log \(log)")
                    // The same block read as [rows, n] columns: softmax down each of the n columns.
                    var scratch = [Float](repeating: 0, count: 2 * n)
                    let c = Self.outputs(table, count: rows * n) { k, out in
                        k.softmax_columns(x, out, rows, n, log, &scratch)
                    }
                    #expect(Self.close(c.actual, c.expected, atol: 1e-6, rtol: 1e-5), "columns n \(n) log \(log)")
                    let dc = Self.outputs(table, count: rows * n) { k, out in
                        k.softmax_backward_columns(g, c.expected, out, rows, n, log, &scratch)
                    }
                    #expect(Self.close(dc.actual, dc.expected, atol: 1e-5, rtol: 1e-5), "columns backward n \(n) log \(log)")
                }
            }
        }
    }

    @Test func inPlaceSoftmaxEqualsOutOfPlace() {
        let table = vssl_active_kernels().pointee
        let x = Self.random(4 * 50, seed: 3), g = Self.random(4 * 50, seed: 4)
        var y = [Float](repeating: 0, count: x.count), inPlace = x
        table.softmax_rows(x, &y, 4, 50, 0)
        table.softmax_rows(inPlace, &inPlace, 4, 50, 0)
        #expect(inPlace == y)
        var dx = [Float](repeating: 0, count: x.count), dInPlace = g
        table.softmax_backward_rows(g, y, &dx, 4, 50, 0)
        table.softmax_backward_rows(dInPlace, y, &dInPlace, 4, 50, 0)
        #expect(dInPlace == dx)
    }

    @Test func layerNormForwardAndBackward() {
        for table in Self.vectorTables {
            for d in Self.lengths {
                let rows = 3
                // A large common offset checks that the variance is taken about the mean.
                let x = Self.random(rows * d, seed: UInt64(d)).map { $0 + 100 }
                let w = Self.random(d, seed: UInt64(d + 1)), b = Self.random(d, seed: UInt64(d + 2))
                let g = Self.random(rows * d, seed: UInt64(d + 3))
                var stats = [[Float]](repeating: [Float](repeating: 0, count: 2 * rows), count: 2)
                var which = 0
                let y = Self.outputs(table, count: rows * d) { k, out in
                    stats[which].withUnsafeMutableBufferPointer { s in
                        k.layer_norm_rows(x, w, b, out, s.baseAddress!, s.baseAddress! + rows, rows, d, 1e-6)
                    }
                    which += 1
                }
                // Sums of 389 values near 100 in a different order: the mean moves by about 1e-5.
                #expect(Self.close(y.actual, y.expected, atol: 1e-4, rtol: 1e-5), "forward d \(d)")
                #expect(Self.close(stats[1], stats[0], atol: 0, rtol: 1e-5), "mean and rstd d \(d)")
                let (mean, rstd) = (Array(stats[0][..<rows]), Array(stats[0][rows...]))
                // dx, then dw and db accumulated onto ones.
                let grads = Self.outputs(table, count: rows * d + 2 * d) { k, out in
                    for j in 0..<(2 * d) { out[rows * d + j] = 1 }
                    k.layer_norm_backward_rows(g, x, w, mean, rstd, out, out + rows * d, out + rows * d + d, rows, d)
                }
                #expect(Self.close(grads.actual, grads.expected, atol: 1e-4, rtol: 1e-4), "backward d \(d)")
            }
        }
    }

    @Test func elementwiseAndReductions() {
        for table in Self.vectorTables {
            for n in Self.lengths {
                let a = Self.random(2 * n, seed: UInt64(n)), b = Self.random(2 * n, seed: UInt64(n + 1))
                // Single roundings without fused multiply-adds: every table gives the same bits.
                for kernel in [\vssl_kernels.add, \.sub, \.mul] {
                    let r = Self.outputs(table, count: 2 * n) { k, out in k[keyPath: kernel](a, b, out, 2 * n) }
                    #expect(r.actual == r.expected, "binary n \(n)")
                }
                for kernel in [\vssl_kernels.add_row, \.mul_row] {
                    let r = Self.outputs(table, count: 2 * n) { k, out in k[keyPath: kernel](a, b, out, 2, n) }
                    #expect(r.actual == r.expected, "row n \(n)")
                }
                let scaled = Self.outputs(table, count: 2 * n) { k, out in k.scale(a, 0.3, out, 2 * n) }
                #expect(scaled.actual == scaled.expected)
                let axpy = Self.outputs(table, count: 2 * n) { k, out in k.add_scaled(a, b, 0.3, out, 2 * n) }
                #expect(Self.close(axpy.actual, axpy.expected, atol: 1e-6, rtol: 1e-6))
                let accumulated = Self.outputs(table, count: 2 * n) { k, out in
                    for i in 0..<(2 * n) { out[i] = a[i] }
                    k.accumulate(out, b, 2 * n)
                }
                #expect(accumulated.actual == accumulated.expected)
                #expect(Self.close([table.sum(a, 2 * n)], [Self.portable.sum(a, 2 * n)], atol: 1e-4, rtol: 1e-5))
                // Columns are summed down the rows in order in every table.
                let columns = Self.outputs(table, count: n) { k, out in k.sum_rows(a, 2, n, n, out) }
                #expect(columns.actual == columns.expected)
            }
        }
    }

    @Test func adamWGivesTheSameBitsInEveryTable() {
        for table in Self.vectorTables {
            for n in Self.lengths {
                let g = Self.random(n, seed: UInt64(n))
                for amsgrad in [false, true] {
                    var c = vssl_adamw_coefficients(decay: 0.999, apply_decay: 1, w1: 0.1, b2: 0.999, w2: 0.001,
                                                    step_size: 1e-3, correction2_sqrt: 0.03, epsilon: 1e-8)
                    // p, m, v, v̂ side by side, from a state that is not all zeros.
                    let state = Self.random(n, seed: 9).map { $0 } + Self.random(n, std: 0.1, seed: 10)
                        + Self.random(n, seed: 11).map { $0 * $0 } + [Float](repeating: 0.5, count: n)
                    let r = Self.outputs(table, count: 4 * n) { k, out in
                        for i in 0..<(4 * n) { out[i] = state[i] }
                        k.adamw(&c, out, g, out + n, out + 2 * n, amsgrad ? out + 3 * n : nil, n)
                    }
                    #expect(r.actual == r.expected, "n \(n) amsgrad \(amsgrad)")
                }
            }
        }
    }
}

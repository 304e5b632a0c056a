#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// Farneback's polynomial expansion: at every pixel, the coefficients of the quadratic
/// `x^T A x + b^T x + c` that best fits a Gaussian-weighted `(2n+1)²` neighbourhood.
///
/// Reproduces OpenCV's `FarnebackPolyExp`: a separable pass with replicated borders whose
/// vertical part accumulates in Float32 and horizontal part in Float64, and the same per-element
/// output layout `[b_y, b_x, a_xx, a_yy, a_xy]` (5 interleaved values per pixel).
struct PolynomialExpansion {
    let n: Int
    /// Gaussian applicability `g`, and its first and second moments `x·g`, `x²·g`, for `0...n`.
    let g: [Float], xg: [Float], xxg: [Float]
    /// The entries of the inverse normal-equation matrix the coefficients need.
    let ig11: Double, ig03: Double, ig33: Double, ig55: Double

    init(n: Int, sigma: Double) {
        let sigma = sigma < Double(Float.ulpOfOne) ? Double(n) * 0.3 : sigma
        var raw = [Float](repeating: 0, count: 2 * n + 1)
        var total = 0.0
        for x in -n...n {
            raw[x + n] = Float(exp(Double(-x * x) / (2 * sigma * sigma)))
            total += Double(raw[x + n])
        }
        let inverse = 1 / total
        var g = [Float](repeating: 0, count: 2 * n + 1)
        for i in 0..<(2 * n + 1) { g[i] = Float(Double(raw[i]) * inverse) }
        // The normal matrix G of the weighted least-squares fit, summed as OpenCV does (Float32
        // products accumulated in Float64), then its inverse on the coupled {1, x², y²} block.
        var g00 = 0.0, g11 = 0.0, g33 = 0.0, g55 = 0.0
        for y in -n...n {
            for x in -n...n {
                let w = g[y + n] * g[x + n]
                let fx = Float(x), fy = Float(y)
                g00 += Double(w)
                g11 += Double(w * fx * fx)
                g33 += Double(w * fx * fx * fx * fx)
                g55 += Double(w * fx * fx * fy * fy)
            }
        }
        // [[g00, g11, g11], [g11, g33, g55], [g11, g55, g33]]^-1, entries (0,1) and (1,1).
        let a = g00, b = g11, c = g33, d = g55
        let det = a * (c * c - d * d) - b * (b * c - b * d) + b * (b * d - c * b)
        ig03 = -(b * c - d * b) / det
        ig33 = (a * c - b * b) / det
        ig11 = 1 / g11
        ig55 = 1 / g55
        self.n = n
        self.g = Array(g[n...])
        self.xg = (0...n).map { Float($0) * g[$0 + n] }
        self.xxg = (0...n).map { Float($0 * $0) * g[$0 + n] }
    }

    /// Expands a `width`×`height` image into `5 * width * height` interleaved coefficients.
    func callAsFunction(_ image: [Float], width: Int, height: Int) -> [Float] {
        var result = [Float](repeating: 0, count: 5 * width * height)
        let n = self.n
        image.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                    // Three planar column-moment rows padded by n on each side, and six Float64
                    // accumulators; planar layout lets the loops over x vectorise.
                    let padded = width + 2 * n
                    let floats = UnsafeMutablePointer<Float>.allocate(capacity: 3 * padded)
                    let doubles = UnsafeMutablePointer<Double>.allocate(capacity: 6 * width)
                    defer { floats.deallocate(); doubles.deallocate() }
                    g.withUnsafeBufferPointer { g in
                        xg.withUnsafeBufferPointer { xg in
                            xxg.withUnsafeBufferPointer { xxg in
                                let moments = (floats + n, floats + padded + n, floats + 2 * padded + n)
                                for y in rows {
                                    expandRow(y, src, width, height, moments, doubles,
                                              g.baseAddress!, xg.baseAddress!, xxg.baseAddress!, dst + 5 * y * width)
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    @inline(__always)
    private func expandRow(
        _ y: Int, _ src: UnsafePointer<Float>, _ width: Int, _ height: Int,
        _ moments: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
        _ acc: UnsafeMutablePointer<Double>,
        _ g: UnsafePointer<Float>, _ xg: UnsafePointer<Float>, _ xxg: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let (m0, m1, m2) = moments
        // Vertical pass in Float32: per column, the 1, y and y² moments of the column window.
        let centre = src + y * width
        let g0 = g[0]
        for x in 0..<width {
            m0[x] = centre[x] * g0
            m1[x] = 0
            m2[x] = 0
        }
        if n > 0 {
            for k in 1...n {
                let gk = g[k], g1 = xg[k], g2 = xxg[k]
                let above = src + Swift.max(y - k, 0) * width
                let below = src + Swift.min(y + k, height - 1) * width
                for x in 0..<width {
                    let p = above[x] + below[x]
                    m0[x] = m0[x] + gk * p
                    m1[x] = m1[x] + g1 * (below[x] - above[x])
                    m2[x] = m2[x] + g2 * p
                }
            }
            // Replicated left and right borders for the horizontal pass.
            for k in 1...n {
                m0[-k] = m0[0]; m1[-k] = m1[0]; m2[-k] = m2[0]
                m0[width - 1 + k] = m0[width - 1]; m1[width - 1 + k] = m1[width - 1]; m2[width - 1 + k] = m2[width - 1]
            }
        }
        // Horizontal pass in Float64: the six moments 1, x, y, x², y², xy, accumulated over k in
        // the same order (and with the same Float32 partial products) as OpenCV.
        let b1 = acc, b2 = acc + width, b3 = acc + 2 * width, b4 = acc + 3 * width, b5 = acc + 4 * width
        let b6 = acc + 5 * width
        for x in 0..<width {
            b1[x] = Double(m0[x] * g0); b2[x] = 0; b3[x] = Double(m1[x] * g0)
            b4[x] = 0; b5[x] = Double(m2[x] * g0); b6[x] = 0
        }
        if n > 0 {
            for k in 1...n {
                let gk = g[k], xk = xg[k], xxk = xxg[k]
                let dgk = Double(gk), dxxk = Double(xxk)
                let r0 = m0 + k, l0 = m0 - k, r1 = m1 + k, l1 = m1 - k, r2 = m2 + k, l2 = m2 - k
                for x in 0..<width {
                    let tg = Double(r0[x] + l0[x])
                    b1[x] += tg * dgk
                    b4[x] += tg * dxxk
                    b2[x] += Double((r0[x] - l0[x]) * xk)
                    b3[x] += Double((r1[x] + l1[x]) * gk)
                    b6[x] += Double((r1[x] - l1[x]) * xk)
                    b5[x] += Double((r2[x] + l2[x]) * gk)
                }
            }
        }
        for x in 0..<width {
            let o = out + 5 * x
            o[1] = Float(b2[x] * ig11)
            o[0] = Float(b3[x] * ig11)
            o[3] = Float(b1[x] * ig03 + b4[x] * ig33)
            o[2] = Float(b1[x] * ig03 + b5[x] * ig33)
            o[4] = Float(b6[x] * ig55)
        }
    }
}

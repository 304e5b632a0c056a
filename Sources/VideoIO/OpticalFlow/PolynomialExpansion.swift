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
                ComputeContext.parallelFor(height, minimumChunk: 8) { rows in
                    var buffer = [Float](repeating: 0, count: (width + 2 * n) * 3)
                    g.withUnsafeBufferPointer { g in
                        xg.withUnsafeBufferPointer { xg in
                            xxg.withUnsafeBufferPointer { xxg in
                                buffer.withUnsafeMutableBufferPointer { buffer in
                                    let row = buffer.baseAddress! + 3 * n
                                    for y in rows {
                                        expandRow(y, src, width, height, row, g, xg, xxg, dst + 5 * y * width)
                                    }
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
        _ row: UnsafeMutablePointer<Float>,
        _ g: UnsafeBufferPointer<Float>, _ xg: UnsafeBufferPointer<Float>, _ xxg: UnsafeBufferPointer<Float>,
        _ out: UnsafeMutablePointer<Float>
    ) {
        // Vertical pass: per column, the 1, y and y² moments of the column window.
        let centre = src + y * width
        let g0 = g[0]
        for x in 0..<width {
            row[3 * x] = centre[x] * g0
            row[3 * x + 1] = 0
            row[3 * x + 2] = 0
        }
        if n > 0 {
            for k in 1...n {
                let gk = g[k], g1 = xg[k], g2 = xxg[k]
                let above = src + Swift.max(y - k, 0) * width
                let below = src + Swift.min(y + k, height - 1) * width
                for x in 0..<width {
                    let p = above[x] + below[x]
                    row[3 * x] = row[3 * x] + gk * p
                    row[3 * x + 1] = row[3 * x + 1] + g1 * (below[x] - above[x])
                    row[3 * x + 2] = row[3 * x + 2] + g2 * p
                }
            }
        }
        // Replicated left and right borders for the horizontal pass.
        for k in 1...Swift.max(n, 1) where k <= n {
            for c in 0..<3 {
                row[-3 * k + c] = row[c]
                row[3 * (width - 1 + k) + c] = row[3 * (width - 1) + c]
            }
        }
        // Horizontal pass in Float64: the six moments 1, x, y, x², y², xy.
        for x in 0..<width {
            let p = row + 3 * x
            var b1 = Double(p[0] * g0), b2 = 0.0, b3 = Double(p[1] * g0)
            var b4 = 0.0, b5 = Double(p[2] * g0), b6 = 0.0
            if n > 0 {
                for k in 1...n {
                    let r = p + 3 * k, l = p - 3 * k
                    let tg = Double(r[0] + l[0])
                    let gk = g[k]
                    b1 += tg * Double(gk)
                    b4 += tg * Double(xxg[k])
                    b2 += Double((r[0] - l[0]) * xg[k])
                    b3 += Double((r[1] + l[1]) * gk)
                    b6 += Double((r[1] - l[1]) * xg[k])
                    b5 += Double((r[2] + l[2]) * gk)
                }
            }
            let o = out + 5 * x
            o[1] = Float(b2 * ig11)
            o[0] = Float(b3 * ig11)
            o[3] = Float(b1 * ig03 + b4 * ig33)
            o[2] = Float(b1 * ig03 + b5 * ig33)
            o[4] = Float(b6 * ig55)
        }
    }
}

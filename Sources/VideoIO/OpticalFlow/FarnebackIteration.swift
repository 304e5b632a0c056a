#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// One pyramid level of Farneback's iterative displacement estimation (OpenCV's
/// `FarnebackUpdateMatrices`, `FarnebackUpdateFlow_Blur` and `FarnebackUpdateFlow_GaussianBlur`).
///
/// OpenCV interleaves matrix updates with the flow sweep, but only for rows the blur window has
/// already left, so computing the whole flow and then all matrices gives the same numbers; that
/// lets both phases run row-parallel.
struct FarnebackLevel {
    let width: Int, height: Int
    /// Polynomial expansions of the previous and next image, 5 values per pixel.
    let r0: [Float], r1: [Float]

    /// Per-pixel `[G11, G12, G22, h1, h2]` of the displacement equations for the current flow.
    func updateMatrices(flow: [Float], into m: inout [Float]) {
        let width = self.width, height = self.height
        // OpenCV damps the equations near the image edge (5 pixels) with these weights.
        let border: [Float] = [0.14, 0.14, 0.4472, 0.4472, 0.4472]
        let widthLimit = Float(width - 1), heightLimit = Float(height - 1)
        flow.withUnsafeBufferPointer { flow in
            r0.withUnsafeBufferPointer { r0 in
                r1.withUnsafeBufferPointer { r1 in
                    m.withUnsafeMutableBufferPointer { m in
                        let flow = flow.baseAddress!, r0 = r0.baseAddress!, r1 = r1.baseAddress!, m = m.baseAddress!
                        ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                            for y in rows {
                                for x in 0..<width {
                                    let dx = flow[2 * (y * width + x)], dy = flow[2 * (y * width + x) + 1]
                                    var fx = Float(x) + dx, fy = Float(y) + dy
                                    let a = r0 + 5 * (y * width + x)
                                    var r2: Float, r3: Float, r4: Float, r5: Float, r6: Float
                                    // floor(f) in [0, side - 1) exactly when f in [0, side - 1); testing the
                                    // float first keeps NaN and huge values away from the Int conversion,
                                    // and truncation is floor there (libm's floorf is slow to call).
                                    if fx >= 0 && fx < widthLimit && fy >= 0 && fy < heightLimit {
                                        let x1 = Int(fx), y1 = Int(fy)
                                        fx -= Float(x1)
                                        fy -= Float(y1)
                                        let a00 = (1 - fx) * (1 - fy), a01 = fx * (1 - fy)
                                        let a10 = (1 - fx) * fy, a11 = fx * fy
                                        let p = r1 + 5 * (y1 * width + x1), q = p + 5 * width
                                        r2 = a00 * p[0] + a01 * p[5] + a10 * q[0] + a11 * q[5]
                                        r3 = a00 * p[1] + a01 * p[6] + a10 * q[1] + a11 * q[6]
                                        r4 = a00 * p[2] + a01 * p[7] + a10 * q[2] + a11 * q[7]
                                        r5 = a00 * p[3] + a01 * p[8] + a10 * q[3] + a11 * q[8]
                                        r6 = a00 * p[4] + a01 * p[9] + a10 * q[4] + a11 * q[9]
                                        r4 = (a[2] + r4) * 0.5
                                        r5 = (a[3] + r5) * 0.5
                                        r6 = (a[4] + r6) * 0.25
                                    } else {
                                        r2 = 0
                                        r3 = 0
                                        r4 = a[2]
                                        r5 = a[3]
                                        r6 = a[4] * 0.5
                                    }
                                    r2 = (a[0] - r2) * 0.5
                                    r3 = (a[1] - r3) * 0.5
                                    r2 += r4 * dy + r6 * dx
                                    r3 += r6 * dy + r5 * dx
                                    // Same unsigned-comparison test as OpenCV, also right for tiny images.
                                    if UInt(bitPattern: x - 5) >= UInt(bitPattern: width - 10)
                                        || UInt(bitPattern: y - 5) >= UInt(bitPattern: height - 10)
                                    {
                                        let s = (x < 5 ? border[x] : 1) * (x >= width - 5 ? border[width - x - 1] : 1)
                                            * (y < 5 ? border[y] : 1) * (y >= height - 5 ? border[height - y - 1] : 1)
                                        r2 *= s; r3 *= s; r4 *= s; r5 *= s; r6 *= s
                                    }
                                    let o = m + 5 * (y * width + x)
                                    o[0] = r4 * r4 + r6 * r6
                                    o[1] = (r4 + r5) * r6
                                    o[2] = r5 * r5 + r6 * r6
                                    o[3] = r4 * r2 + r6 * r3
                                    o[4] = r6 * r2 + r5 * r3
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Solves the 2x2 system of one pixel from its window sums.
    @inline(__always)
    static func solve(_ g11: Double, _ g12: Double, _ g22: Double, _ h1: Double, _ h2: Double,
                      into flow: UnsafeMutablePointer<Float>) {
        let idet = 1 / (g11 * g22 - g12 * g12 + 1e-3)
        flow[0] = Float((g11 * h2 - g12 * h1) * idet)
        flow[1] = Float((g22 * h1 - g12 * h2) * idet)
    }

    /// New flow from box-filtered matrices (flags 0): a `(2m+1)²` window with replicated borders,
    /// summed in Float64 and scaled by `1 / windowSize²` as OpenCV does.
    func boxFlow(m: [Float], windowSize: Int, flow: inout [Float]) {
        let width = self.width, height = self.height
        let r = windowSize / 2
        let scale = 1 / Double(windowSize * windowSize)
        let rowLength = 5 * width
        m.withUnsafeBufferPointer { m in
            flow.withUnsafeMutableBufferPointer { flow in
                let m = m.baseAddress!, flow = flow.baseAddress!
                ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                    // Column sums for columns -r-1 ..< width+r+1, replicated outside the image.
                    var storage = [Double](repeating: 0, count: (width + 2 * r + 2) * 5)
                    storage.withUnsafeMutableBufferPointer { storage in
                        let vsum = storage.baseAddress! + (r + 1) * 5
                        // Window sum for the chunk's first row; OpenCV's r = 0 case keeps row 0 in it.
                        let first = rows.lowerBound
                        for i in 0..<rowLength { vsum[i] = 0 }
                        if r == 0 {
                            let a = m, b = m + first * rowLength
                            for i in 0..<rowLength { vsum[i] = Double(a[i]) + Double(b[i]) }
                        } else {
                            for j in (first - r)...(first + r) {
                                let src = m + Swift.min(Swift.max(j, 0), height - 1) * rowLength
                                for i in 0..<rowLength { vsum[i] += Double(src[i]) }
                            }
                        }
                        for y in rows {
                            if y > first {
                                let add = m + Swift.min(y + r, height - 1) * rowLength
                                let sub = m + Swift.max(y - r - 1, 0) * rowLength
                                for i in 0..<rowLength { vsum[i] += Double(add[i] - sub[i]) }
                            }
                            for k in 0..<((r + 1) * 5) {
                                vsum[-1 - k] = vsum[4 - k]
                                vsum[rowLength + k] = vsum[rowLength + k - 5]
                            }
                            var s0 = vsum[0] * Double(r + 2), s1 = vsum[1] * Double(r + 2)
                            var s2 = vsum[2] * Double(r + 2), s3 = vsum[3] * Double(r + 2)
                            var s4 = vsum[4] * Double(r + 2)
                            if r > 1 {
                                for x in 1..<r {
                                    s0 += vsum[5 * x]; s1 += vsum[5 * x + 1]; s2 += vsum[5 * x + 2]
                                    s3 += vsum[5 * x + 3]; s4 += vsum[5 * x + 4]
                                }
                            }
                            let out = flow + 2 * y * width
                            for x in 0..<width {
                                let a = vsum + 5 * (x + r), b = vsum + 5 * (x - r) - 5
                                s0 += a[0] - b[0]; s1 += a[1] - b[1]; s2 += a[2] - b[2]
                                s3 += a[3] - b[3]; s4 += a[4] - b[4]
                                FarnebackLevel.solve(s0 * scale, s1 * scale, s2 * scale, s3 * scale, s4 * scale,
                                                     into: out + 2 * x)
                            }
                        }
                    }
                }
            }
        }
    }

    /// New flow from Gaussian-filtered matrices (`OPTFLOW_FARNEBACK_GAUSSIAN`): σ = 0.3·(w/2),
    /// Float32 separable filtering with replicated borders.
    func gaussianFlow(m: [Float], windowSize: Int, flow: inout [Float]) {
        let width = self.width, height = self.height
        let r = windowSize / 2
        let sigma = Double(r) * 0.3
        var kernel = [Float](repeating: 1, count: r + 1)
        var total = 1.0
        if r > 0 {
            for i in 1...r {
                kernel[i] = Float(exp(Double(-i * i) / (2 * sigma * sigma)))
                total += Double(kernel[i]) * 2
            }
        }
        let inverse = 1 / total
        for i in 0...r { kernel[i] = Float(Double(kernel[i]) * inverse) }
        let rowLength = 5 * width
        m.withUnsafeBufferPointer { m in
            flow.withUnsafeMutableBufferPointer { flow in
                kernel.withUnsafeBufferPointer { kernel in
                    let m = m.baseAddress!, flow = flow.baseAddress!, k = kernel.baseAddress!
                    ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                        var storage = [Float](repeating: 0, count: (width + 2 * r + 2) * 5)
                        var hsum = [Float](repeating: 0, count: rowLength)
                        storage.withUnsafeMutableBufferPointer { storage in
                            hsum.withUnsafeMutableBufferPointer { hsum in
                                let vsum = storage.baseAddress! + (r + 1) * 5, hsum = hsum.baseAddress!
                                for y in rows {
                                    let centre = m + y * rowLength
                                    for i in 0..<rowLength { vsum[i] = centre[i] * k[0] }
                                    if r > 0 {
                                        for j in 1...r {
                                            let below = m + Swift.min(y + j, height - 1) * rowLength
                                            let above = m + Swift.max(y - j, 0) * rowLength
                                            let kj = k[j]
                                            for i in 0..<rowLength { vsum[i] += (below[i] + above[i]) * kj }
                                        }
                                    }
                                    for i in 0..<(r * 5) {
                                        vsum[-1 - i] = vsum[4 - i]
                                        vsum[rowLength + i] = vsum[rowLength + i - 5]
                                    }
                                    for i in 0..<rowLength { hsum[i] = vsum[i] * k[0] }
                                    if r > 0 {
                                        for j in 1...r {
                                            let kj = k[j]
                                            for i in 0..<rowLength { hsum[i] += kj * (vsum[i - 5 * j] + vsum[i + 5 * j]) }
                                        }
                                    }
                                    let out = flow + 2 * y * width
                                    for x in 0..<width {
                                        let h = hsum + 5 * x
                                        FarnebackLevel.solve(Double(h[0]), Double(h[1]), Double(h[2]), Double(h[3]),
                                                             Double(h[4]), into: out + 2 * x)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

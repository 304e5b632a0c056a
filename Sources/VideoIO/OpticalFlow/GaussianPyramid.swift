#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// The image resampling OpenCV's Farneback uses to build its pyramid, reproduced operation by
/// operation (`getGaussianKernel`, `GaussianBlur` with `BORDER_REFLECT_101`, `resize` with
/// `INTER_LINEAR` and `INTER_AREA`) so that each level matches OpenCV's to Float32 rounding.
enum GaussianPyramid {
    /// The fewest rows a thread should get: below about 8K pixels per task, waking a second thread
    /// costs more than it saves (small pyramid levels run many short passes).
    static func rowsPerTask(width: Int) -> Int { Swift.max(4, 8192 / Swift.max(width, 1)) }

    /// OpenCV's `cvRound`: round half to even.
    static func cvRound(_ v: Double) -> Int { Int(v.rounded(.toNearestOrEven)) }

    /// The sizes and smoothing of level `k` (`pyrScale^k` of the full size), as `calc` derives them.
    static func level(_ k: Int, width: Int, height: Int, pyramidScale: Double)
        -> (scale: Double, width: Int, height: Int, sigma: Double, kernelSize: Int)
    {
        var scale = 1.0
        for _ in 0..<k { scale *= pyramidScale }
        let sigma = (1 / scale - 1) * 0.5
        let size = Swift.max(cvRound(sigma * 5) | 1, 3)
        return (scale, cvRound(Double(width) * scale), cvRound(Double(height) * scale), sigma, size)
    }

    /// `getGaussianKernel(size, sigma, CV_32F)`: OpenCV's fixed 3/5/7 taps when `sigma <= 0`,
    /// otherwise normalised samples of exp(-x²/2σ²) computed in double and rounded once.
    static func gaussianKernel(size: Int, sigma: Double) -> [Float] {
        if sigma <= 0 {
            switch size {
            case 1: return [1]
            case 3: return [0.25, 0.5, 0.25]
            case 5: return [0.0625, 0.25, 0.375, 0.25, 0.0625]
            case 7: return [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]
            default: break
            }
        }
        let s = sigma > 0 ? sigma : 0.3 * (Double(size - 1) * 0.5 - 1) + 0.8
        let scale2X = -0.125 / (s * s)
        let half = (size - 1) / 2
        var values = [Double](repeating: 0, count: half)
        var sum = 0.0
        for i in 0..<half {
            let x = Double(2 * i + 1 - size)  // doubled offset from the centre, as OpenCV does
            values[i] = exp(x * x * scale2X)
            sum += values[i]
        }
        sum = sum * 2 + 1
        if size & 1 == 0 { sum += 1 }
        let mul = 1 / sum
        var kernel = [Float](repeating: Float(mul), count: size)
        for i in 0..<half {
            kernel[i] = Float(values[i] * mul)
            kernel[size - 1 - i] = kernel[i]
        }
        return kernel
    }

    /// `BORDER_REFLECT_101` index mapping (`gfedcb|abcdefgh|gfedcba`).
    @inline(__always)
    static func reflect101(_ p: Int, _ count: Int) -> Int {
        if count == 1 { return 0 }
        var q = p
        while q < 0 || q >= count { q = q < 0 ? -q : 2 * count - 2 - q }
        return q
    }

    /// Separable symmetric Gaussian blur (rows first, then columns), reflect-101 borders.
    static func blur(_ source: [Float], width: Int, height: Int, kernel: [Float]) -> [Float] {
        let radius = kernel.count / 2
        if radius == 0 { return source }
        let tapArray = Array(kernel[radius...])
        var horizontal = [Float](repeating: 0, count: source.count)
        var result = [Float](repeating: 0, count: source.count)
        let padded = width + 2 * radius
        let indexArray = (0..<padded).map { reflect101($0 - radius, width) }
        tapArray.withUnsafeBufferPointer { taps in
            indexArray.withUnsafeBufferPointer { columnIndex in
                let taps = taps.baseAddress!, columnIndex = columnIndex.baseAddress!
                source.withUnsafeBufferPointer { src in
                    horizontal.withUnsafeMutableBufferPointer { dst in
                        let src = src.baseAddress!, dst = dst.baseAddress!
                        ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                            var line = [Float](repeating: 0, count: padded)
                            line.withUnsafeMutableBufferPointer { line in
                                for y in rows {
                                    let row = src + y * width
                                    for i in 0..<padded { line[i] = row[columnIndex[i]] }
                                    let out = dst + y * width
                                    for x in 0..<width {
                                        let c = x + radius
                                        var s = line[c] * taps[0]
                                        for k in 1...radius { s += (line[c - k] + line[c + k]) * taps[k] }
                                        out[x] = s
                                    }
                                }
                            }
                        }
                    }
                }
                horizontal.withUnsafeBufferPointer { src in
                    result.withUnsafeMutableBufferPointer { dst in
                        let src = src.baseAddress!, dst = dst.baseAddress!
                        ComputeContext.parallelFor(height, minimumChunk: GaussianPyramid.rowsPerTask(width: width)) { rows in
                            for y in rows {
                                let out = dst + y * width
                                let centre = src + y * width
                                for x in 0..<width { out[x] = centre[x] * taps[0] }
                                for k in 1...radius {
                                    let up = src + reflect101(y - k, height) * width
                                    let down = src + reflect101(y + k, height) * width
                                    let t = taps[k]
                                    for x in 0..<width { out[x] += (up[x] + down[x]) * t }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Source index and weight of the second tap for each destination index of a bilinear resize,
    /// following OpenCV's `resize` (half-pixel centres, clamped at the borders).
    private static func linearTable(source: Int, destination: Int) -> (index: [Int], weight: [Float]) {
        let scale = 1 / (Double(destination) / Double(source))
        var index = [Int](repeating: 0, count: destination)
        var weight = [Float](repeating: 0, count: destination)
        for d in 0..<destination {
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { f = 0; s = 0 }
            if s >= source - 1 { f = 0; s = source - 1 }
            index[d] = s
            weight[d] = f
        }
        return (index, weight)
    }

    /// `resize(..., INTER_LINEAR)` of an interleaved `channels`-channel image.
    ///
    /// An exact 2x reduction switches to 2x2 averaging, as OpenCV does (`INTER_AREA` fast path).
    static func resizeLinear(
        _ source: [Float], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int
    ) -> [Float] {
        if width == toWidth && height == toHeight { return source }
        var result = [Float](repeating: 0, count: toWidth * toHeight * channels)
        let cn = channels
        if width == 2 * toWidth && height == 2 * toHeight {
            source.withUnsafeBufferPointer { src in
                result.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<toHeight {
                        let r0 = src.baseAddress! + 2 * y * width * cn, r1 = r0 + width * cn
                        for x in 0..<toWidth {
                            for c in 0..<cn {
                                let i = 2 * x * cn + c
                                dst[(y * toWidth + x) * cn + c] = (r0[i] + r0[i + cn] + r1[i] + r1[i + cn]) * 0.25
                            }
                        }
                    }
                }
            }
            return result
        }
        let table = linearTable(source: width, destination: toWidth)
        let scaleY = 1 / (Double(toHeight) / Double(height))
        table.index.withUnsafeBufferPointer { xIndex in
            table.weight.withUnsafeBufferPointer { xWeight in
                let xIndex = xIndex.baseAddress!, xWeight = xWeight.baseAddress!
                source.withUnsafeBufferPointer { src in
                    result.withUnsafeMutableBufferPointer { dst in
                        let src = src.baseAddress!, dst = dst.baseAddress!
                        ComputeContext.parallelFor(toHeight, minimumChunk: GaussianPyramid.rowsPerTask(width: toWidth)) { rows in
                            var lines = [Float](repeating: 0, count: 2 * toWidth * cn)
                            lines.withUnsafeMutableBufferPointer { lines in
                                for y in rows {
                                    let fyRaw = Float((Double(y) + 0.5) * scaleY - 0.5)
                                    let sy = Int(fyRaw.rounded(.down))
                                    let fy = fyRaw - Float(sy)
                                    for k in 0..<2 {
                                        let row = src + Swift.min(Swift.max(sy + k, 0), height - 1) * width * cn
                                        let line = lines.baseAddress! + k * toWidth * cn
                                        for x in 0..<toWidth {
                                            let s = xIndex[x], a1 = xWeight[x], a0 = 1 - a1
                                            for c in 0..<cn {
                                                line[x * cn + c] = s + 1 < width
                                                    ? row[s * cn + c] * a0 + row[(s + 1) * cn + c] * a1
                                                    : row[s * cn + c] * a0
                                            }
                                        }
                                    }
                                    let b0 = 1 - fy, b1 = fy
                                    let out = dst + y * toWidth * cn
                                    for i in 0..<(toWidth * cn) { out[i] = lines[i] * b0 + lines[toWidth * cn + i] * b1 }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Source indices and weights for a reduction by area (OpenCV's `computeResizeAreaTab`).
    private static func areaTable(source: Int, destination: Int) -> [[(index: Int, weight: Double)]] {
        let scale = Double(source) / Double(destination)
        return (0..<destination).map { d in
            let f1 = Double(d) * scale, f2 = f1 + scale
            let cell = Swift.min(scale, Double(source) - f1)
            var s2 = Swift.min(Int(f2.rounded(.down)), source - 1)
            let s1 = Swift.min(Int(f1.rounded(.up)), s2)
            var taps: [(Int, Double)] = []
            if Double(s1) - f1 > 1e-3 { taps.append((s1 - 1, (Double(s1) - f1) / cell)) }
            for s in s1..<Swift.max(s1, s2) { taps.append((s, 1 / cell)) }
            s2 = Swift.max(s2, s1)
            if f2 - Double(s2) > 1e-3 { taps.append((s2, Swift.min(Swift.min(f2 - Double(s2), 1), cell) / cell)) }
            return taps
        }
    }

    /// `resize(..., INTER_AREA)` for a reduction (used only for an initial flow).
    static func resizeArea(
        _ source: [Float], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int
    ) -> [Float] {
        if width == toWidth && height == toHeight { return source }
        let xt = areaTable(source: width, destination: toWidth)
        let yt = areaTable(source: height, destination: toHeight)
        var result = [Float](repeating: 0, count: toWidth * toHeight * channels)
        for y in 0..<toHeight {
            for x in 0..<toWidth {
                for c in 0..<channels {
                    var sum = 0.0
                    for (sy, wy) in yt[y] {
                        for (sx, wx) in xt[x] { sum += wy * wx * Double(source[(sy * width + sx) * channels + c]) }
                    }
                    result[(y * toWidth + x) * channels + c] = Float(sum)
                }
            }
        }
        return result
    }
}

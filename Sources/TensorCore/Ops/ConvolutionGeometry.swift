/// Shapes, checks and data movement of one `conv2d` or `conv3d` call, always in 3-D form (a 2-D
/// convolution has `T = kt = 1`).
struct ConvolutionGeometry {
    enum Layout { case pointwise, patchify, general }

    let n, c, t, h, w, o, kt, kh, kw, st, sh, sw, pt, ph, pw, ot, oh, ow: Int
    /// Patch length `C·kt·kh·kw` (the GEMM's inner dimension).
    var k: Int { c * kt * kh * kw }
    /// Output positions per sample `Tout·Hout·Wout`.
    var l: Int { ot * oh * ow }
    /// Input elements per sample.
    var inputSampleCount: Int { c * t * h * w }
    let layout: Layout
    /// Ranges of output rows (`z·Hout + y`) whose columns are built together (general layout).
    let tiles: [Range<Int>]

    init(op: String, input: [Int], weight: [Int], bias: [Int]?,
         stride: (Int, Int, Int), padding: (Int, Int, Int), shapes: @autoclosure () -> String) {
        precondition(input[1] == weight[1], "\(op): \(shapes()): input channels \(input[1]) differ from the weight's \(weight[1])")
        precondition(stride.0 > 0 && stride.1 > 0 && stride.2 > 0 && padding.0 >= 0 && padding.1 >= 0 && padding.2 >= 0,
                     "\(op): stride \(stride) must be positive and padding \(padding) non-negative (\(shapes()))")
        if let bias {
            precondition(bias == [weight[0]], "\(op): bias \(bias) for \(shapes())")
        }
        (n, c, t, h, w) = (input[0], input[1], input[2], input[3], input[4])
        (o, kt, kh, kw) = (weight[0], weight[2], weight[3], weight[4])
        (st, sh, sw) = stride
        (pt, ph, pw) = padding
        precondition(kt > 0 && kh > 0 && kw > 0 && o > 0,
                     "\(op): empty kernel (\(shapes()))")
        precondition(t + 2 * pt >= kt && h + 2 * ph >= kh && w + 2 * pw >= kw,
                     "\(op): kernel larger than the padded input (\(shapes()), padding \(padding))")
        ot = (t + 2 * pt - kt) / st + 1
        oh = (h + 2 * ph - kh) / sh + 1
        ow = (w + 2 * pw - kw) / sw + 1
        if kt == 1 && kh == 1 && kw == 1 && st == 1 && sh == 1 && sw == 1 && pt == 0 && ph == 0 && pw == 0 {
            layout = .pointwise
        } else if st == kt && sh == kh && sw == kw && pt == 0 && ph == 0 && pw == 0 {
            layout = .patchify
        } else {
            layout = .general
        }
        // About 1 Mi floats of columns per tile, so they stay in cache between vol2col and the GEMM,
        // but at least 256 columns: each tile re-reads and re-writes the whole weight gradient, which
        // for 512 channels of 3×3×3 is 7 Mi floats.
        let perRow = Swift.max(1, c * kt * kh * kw * ow)
        let rowsPerTile = Swift.max(1, (1 << 20) / perRow, (256 + ow - 1) / ow)
        let rows = ot * oh
        tiles = Swift.stride(from: 0, to: rows, by: rowsPerTile).map { $0..<Swift.min(rows, $0 + rowsPerTile) }
    }

    /// Whether every stride is 1 and every padding below its kernel extent, so the input gradient
    /// can run as a convolution with padding `k − 1 − p`.
    var hasUnitStride: Bool { st == 1 && sh == 1 && sw == 1 && pt < kt && ph < kh && pw < kw }

    /// `W'[c, o, a, i, j] = W[o, c, kt−1−a, kh−1−i, kw−1−j]`: the kernel of the transposed
    /// (input-gradient) convolution.
    func flippedTransposedKernel(_ w: Tensor) -> [Float] {
        let volume = kt * kh * kw
        var flipped = [Float](repeating: 0, count: o * c * volume)
        w.withUnsafeBufferPointer { pw in
            for oc in 0..<o {
                for ci in 0..<c {
                    let src = (oc * c + ci) * volume, dst = (ci * o + oc) * volume
                    for v in 0..<volume { flipped[dst + volume - 1 - v] = pw[src + v] }
                }
            }
        }
        return flipped
    }

    /// Floats of column scratch one thread needs.
    var scratchCount: Int {
        switch layout {
        case .pointwise: 0
        case .patchify: k * l
        case .general: k * (tiles.map(\.count).max() ?? 0) * ow
        }
    }

    /// Samples are split into this many chunks, one per thread; with fewer samples than threads the
    /// work inside each sample is split instead (nested regions run inline).
    var sampleChunkCount: Int {
        let threads = ComputeContext.threadCount
        return n >= threads ? threads : 1
    }

    func forEachSampleChunk(_ body: (Range<Int>, Int) -> Void) {
        let chunks = sampleChunkCount
        if chunks == 1 {
            body(0..<n, 0)
            return
        }
        ComputeContext.parallelFor(chunks) { range in
            for chunk in range { body((n * chunk / chunks)..<(n * (chunk + 1) / chunks), chunk) }
        }
    }

    /// Output columns `q` whose input column `q·sw − pw + j` lies inside the frame.
    private func validColumns(_ j: Int) -> Range<Int> {
        let first = pw - j
        let lo = first <= 0 ? 0 : (first + sw - 1) / sw
        let end = w + pw - j
        let hi = end <= 0 ? 0 : Swift.min(ow, (end + sw - 1) / sw)
        return lo..<Swift.max(lo, hi)
    }

    /// The patch matrix for the output rows `rows` (row index `z·Hout + y`): matrix row
    /// `((ci·kt + a)·kh + i)·kw + j`, column `(z·Hout + y − rows.lowerBound)·Wout + q` holds
    /// `x[ci, z·st − pt + a, y·sh − ph + i, q·sw − pw + j]` (zero outside the input).
    func vol2col(_ x: UnsafePointer<Float>, rows: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        let lt = rows.count * ow
        let rowsPerChannel = kt * kh * kw
        ComputeContext.parallelFor(c) { channels in
            for ci in channels {
                for a in 0..<kt {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            let row = cols + (ci * rowsPerChannel + (a * kh + i) * kw + j) * lt
                            let valid = validColumns(j)
                            for (ri, r) in rows.enumerated() {
                                let (z, y) = r.quotientAndRemainder(dividingBy: oh)
                                let iz = z * st - pt + a, iy = y * sh - ph + i
                                let dst = row + ri * ow
                                guard iz >= 0 && iz < t && iy >= 0 && iy < h else {
                                    dst.update(repeating: 0, count: ow)
                                    continue
                                }
                                let src = x + ((ci * t + iz) * h + iy) * w - pw + j
                                for q in 0..<valid.lowerBound { dst[q] = 0 }
                                if sw == 1 {
                                    (dst + valid.lowerBound).update(from: src + valid.lowerBound, count: valid.count)
                                } else {
                                    for q in valid { dst[q] = src[q * sw] }
                                }
                                for q in valid.upperBound..<ow { dst[q] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of ``vol2col(_:rows:into:)``: adds every patch entry back onto its input
    /// element. Channels are independent, so they are split over threads.
    func col2vol(_ cols: UnsafePointer<Float>, rows: Range<Int>, addingInto x: UnsafeMutablePointer<Float>) {
        let lt = rows.count * ow
        let rowsPerChannel = kt * kh * kw
        ComputeContext.parallelFor(c) { channels in
            for ci in channels {
                for a in 0..<kt {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            let row = cols + (ci * rowsPerChannel + (a * kh + i) * kw + j) * lt
                            let valid = validColumns(j)
                            for (ri, r) in rows.enumerated() {
                                let (z, y) = r.quotientAndRemainder(dividingBy: oh)
                                let iz = z * st - pt + a, iy = y * sh - ph + i
                                guard iz >= 0 && iz < t && iy >= 0 && iy < h else { continue }
                                let src = row + ri * ow
                                let dst = x + ((ci * t + iz) * h + iy) * w - pw + j
                                if sw == 1 {
                                    for q in valid { dst[q] += src[q] }
                                } else {
                                    for q in valid { dst[q * sw] += src[q] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Non-overlapping patches as rows: `patches[(z·oh + y)·ow + q][((ci·kt + a)·kh + i)·kw + j] =
    /// x[ci, z·kt + a, y·kh + i, q·kw + j]`.
    func gatherPatches(_ x: UnsafePointer<Float>, into patches: UnsafeMutablePointer<Float>) {
        for z in 0..<ot {
            for y in 0..<oh {
                for q in 0..<ow {
                    let dst = patches + ((z * oh + y) * ow + q) * k
                    for ci in 0..<c {
                        for a in 0..<kt {
                            for i in 0..<kh {
                                (dst + ((ci * kt + a) * kh + i) * kw)
                                    .update(from: x + ((ci * t + z * kt + a) * h + y * kh + i) * w + q * kw, count: kw)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of ``gatherPatches(_:into:)``; elements no patch covers (when a size is not a
    /// multiple of the kernel) keep the zero they start with.
    func scatterPatches(_ patches: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        for z in 0..<ot {
            for y in 0..<oh {
                for q in 0..<ow {
                    let src = patches + ((z * oh + y) * ow + q) * k
                    for ci in 0..<c {
                        for a in 0..<kt {
                            for i in 0..<kh {
                                (x + ((ci * t + z * kt + a) * h + y * kh + i) * w + q * kw)
                                    .update(from: src + ((ci * kt + a) * kh + i) * kw, count: kw)
                            }
                        }
                    }
                }
            }
        }
    }
}

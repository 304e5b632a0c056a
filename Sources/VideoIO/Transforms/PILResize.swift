/// Pillow's `Image.crop` and `Image.resize(size, Image.BILINEAR)` on 8-bit RGB images, byte-exact.
///
/// The reference pipelines that hold frames as PIL images (VideoMAE's and VideoMS's
/// `GroupMultiScaleCrop`, TSN-style group transforms) crop and resize with these two calls, so
/// matching them bit for bit keeps our clips identical to theirs.
extension RGB8Image {
    /// `Image.crop((left, top, left + width, top + height))`: the region may reach outside the
    /// image, and pixels there are black (PIL fills them with 0).
    ///
    /// - Precondition: `width` and `height` are positive.
    public func cropped(left: Int, top: Int, width: Int, height: Int) -> RGB8Image {
        precondition(width > 0 && height > 0, "RGB8Image.cropped: size [\(height), \(width)] must be positive")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let x0 = Swift.max(left, 0), x1 = Swift.min(left + width, self.width)
        let y0 = Swift.max(top, 0), y1 = Swift.min(top + height, self.height)
        if x0 < x1 && y0 < y1 {
            for y in y0..<y1 {
                let src = (y * self.width + x0) * 3, dst = ((y - top) * width + (x0 - left)) * 3
                out.replaceSubrange(dst..<(dst + (x1 - x0) * 3), with: pixels[src..<(src + (x1 - x0) * 3)])
            }
        }
        return RGB8Image(width: width, height: height, pixels: out)
    }

    /// `Image.resize((width, height), Image.BILINEAR)` as Pillow computes it (`Resample.c`).
    ///
    /// Unlike PyTorch's `F.interpolate(mode="bilinear")` (``ClipTransforms/resize(_:height:width:filter:layout:)``),
    /// the triangle filter's support widens with the reduction factor when shrinking, so a
    /// downscale averages every input pixel it covers instead of reading two. Each axis is a
    /// separate pass with 22-bit fixed-point weights and a result rounded to a byte after each
    /// pass. The passes run in Pillow 13's order: horizontal first, unless the height shrinks by
    /// more than twice as many pixels as the width (then vertical first); Pillow 12 and earlier
    /// always ran the horizontal pass first, which rounds differently in that case by at most one
    /// level.
    ///
    /// - Precondition: `width` and `height` are positive.
    public func resizedBilinear(width: Int, height: Int) -> RGB8Image {
        PILBilinearResampler(inputWidth: self.width, inputHeight: self.height, width: width, height: height)
            .resample(self)
    }
}

/// The two one-dimensional passes of Pillow's bilinear resize between fixed sizes, computed once
/// and applied to every frame of a clip.
struct PILBilinearResampler {
    let inputWidth: Int, inputHeight: Int
    let width: Int, height: Int
    let horizontal: PILResampleTaps?
    let vertical: PILResampleTaps?
    /// Pillow 13's pass order (`ImagingResampleInner`): vertical first when the height shrinks by
    /// more than twice as many pixels as the width does. Earlier Pillow versions always ran the
    /// horizontal pass first; the two orders round differently, by at most one level.
    let verticalFirst: Bool

    init(inputWidth: Int, inputHeight: Int, width: Int, height: Int) {
        precondition(width > 0 && height > 0, "resizedBilinear: size [\(height), \(width)] must be positive")
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.width = width
        self.height = height
        // An axis whose size does not change is not resampled at all (no box is given).
        horizontal = width == inputWidth ? nil : PILResampleTaps(input: inputWidth, output: width)
        vertical = height == inputHeight ? nil : PILResampleTaps(input: inputHeight, output: height)
        verticalFirst = inputHeight - height > 0 && inputHeight - height > (inputWidth - width) * 2
    }

    func resample(_ image: RGB8Image) -> RGB8Image {
        precondition(image.width == inputWidth && image.height == inputHeight,
                     "resizedBilinear: image [\(image.height), \(image.width)] is not [\(inputHeight), \(inputWidth)]")
        var current = image
        if verticalFirst {
            if let v = vertical { current = Self.vertical(current, v, height: height) }
            if let h = horizontal { current = Self.horizontal(current, h, width: width) }
        } else {
            // Pillow's horizontal pass skips rows the vertical pass never reads; covering them too
            // changes nothing in the result.
            if let h = horizontal { current = Self.horizontal(current, h, width: width) }
            if let v = vertical { current = Self.vertical(current, v, height: height) }
        }
        return current
    }

    /// One horizontal pass: every row to `width` columns.
    static func horizontal(_ image: RGB8Image, _ taps: PILResampleTaps, width: Int) -> RGB8Image {
        var out = [UInt8](repeating: 0, count: width * image.height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<image.height {
                let row = y * image.width * 3
                for x in 0..<width {
                    let (start, count) = (taps.starts[x], taps.counts[x])
                    var s0 = PILResampleTaps.half, s1 = PILResampleTaps.half, s2 = PILResampleTaps.half
                    for k in 0..<count {
                        let w = taps.weights[x * taps.stride + k], p = row + (start + k) * 3
                        s0 += Int(src[p]) * w
                        s1 += Int(src[p + 1]) * w
                        s2 += Int(src[p + 2]) * w
                    }
                    let o = (y * width + x) * 3
                    out[o] = PILResampleTaps.clip8(s0)
                    out[o + 1] = PILResampleTaps.clip8(s1)
                    out[o + 2] = PILResampleTaps.clip8(s2)
                }
            }
        }
        return RGB8Image(width: width, height: image.height, pixels: out)
    }

    /// One vertical pass: every column to `height` rows.
    static func vertical(_ image: RGB8Image, _ taps: PILResampleTaps, height: Int) -> RGB8Image {
        let rowBytes = image.width * 3
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let (start, count) = (taps.starts[y], taps.counts[y])
                for i in 0..<rowBytes {
                    var s = PILResampleTaps.half
                    for k in 0..<count { s += Int(src[(start + k) * rowBytes + i]) * taps.weights[y * taps.stride + k] }
                    out[y * rowBytes + i] = PILResampleTaps.clip8(s)
                }
            }
        }
        return RGB8Image(width: image.width, height: height, pixels: out)
    }
}

/// Pillow's `precompute_coeffs` for the bilinear (triangle) filter followed by
/// `normalize_coeffs_8bpc`: per output position the first input index, the number of taps and
/// the fixed-point weights.
struct PILResampleTaps {
    static let precisionBits = 32 - 8 - 2
    /// The rounding offset every accumulator starts from.
    static let half = 1 << (precisionBits - 1)

    let stride: Int
    var starts: [Int] = []
    var counts: [Int] = []
    var weights: [Int] = []

    init(input: Int, output: Int) {
        let scale = Double(input) / Double(output)
        let filterScale = Swift.max(scale, 1)
        let support = 1.0 * filterScale
        stride = Int(support.rounded(.up)) * 2 + 1
        weights = [Int](repeating: 0, count: output * stride)
        let inverse = 1.0 / filterScale
        for o in 0..<output {
            let center = (Double(o) + 0.5) * scale
            // C's (int) cast truncates towards zero; the lower bound is then clamped at 0.
            let first = Swift.max(Int(center - support + 0.5), 0)
            let count = Swift.min(Int(center + support + 0.5), input) - first
            var taps = [Double](repeating: 0, count: Swift.max(count, 0))
            var total = 0.0
            for k in 0..<taps.count {
                let t = abs((Double(k + first) - center + 0.5) * inverse)
                taps[k] = t < 1 ? 1 - t : 0
                total += taps[k]
            }
            for k in 0..<taps.count {
                let w = total != 0 ? taps[k] / total : taps[k]
                let scaled = w * Double(1 << Self.precisionBits)
                weights[o * stride + k] = w < 0 ? Int(-0.5 + scaled) : Int(0.5 + scaled)
            }
            starts.append(first)
            counts.append(Swift.max(count, 0))
        }
    }

    /// The accumulator shifted back to a byte, saturating as Pillow's `clip8` lookup does.
    static func clip8(_ s: Int) -> UInt8 {
        UInt8(Swift.min(Swift.max(s >> precisionBits, 0), 255))
    }
}

import Foundation

/// The resampling filter of RandAugment's geometric operations (timm picks one at random per op).
public enum PILResample: Sendable, Hashable, CaseIterable {
    /// PIL `Image.BILINEAR` (no antialiasing in `transform`).
    case bilinear
    /// PIL `Image.BICUBIC` as `transform` applies it (cubic convolution with a = -1).
    case bicubic
}

/// The geometric operations of RandAugment, byte-exact with Pillow's `Image.transform(AFFINE)`.
extension RGB8Image {
    /// `Image.transform(size, AFFINE, (a, b, c, d, e, f))`: output pixel centre `(x + 0.5, y + 0.5)`
    /// reads the input at `(a x + b y + c, d x + e y + f)`; samples whose position falls outside the
    /// image take `fill`. Interpolated values are truncated to bytes, as PIL does.
    public func affineTransformed(_ m: [Double], resample: PILResample, fill: RGB8Color = .timmFill) -> RGB8Image {
        precondition(m.count == 6, "affineTransformed: matrix has \(m.count) coefficients, expected 6")
        var out = RGB8Image(width: width, height: height, fill: fill)
        let fw = Double(width), fh = Double(height)
        for y in 0..<height {
            for x in 0..<width {
                let xo = Double(x) + 0.5, yo = Double(y) + 0.5
                let xin = m[0] * xo + m[1] * yo + m[2]
                let yin = m[3] * xo + m[4] * yo + m[5]
                guard xin >= 0 && xin < fw && yin >= 0 && yin < fh else { continue }
                let o = (y * width + x) * 3
                switch resample {
                case .bilinear: sampleBilinear(xin - 0.5, yin - 0.5, into: &out.pixels, at: o)
                case .bicubic: sampleBicubic(xin - 0.5, yin - 0.5, into: &out.pixels, at: o)
                }
            }
        }
        return out
    }

    /// `Image.rotate(degrees)` about the image centre without expanding, counter-clockwise for
    /// positive angles, with PIL's matrix (coefficients rounded to 15 decimals).
    public func rotated(degrees: Double, resample: PILResample, fill: RGB8Color = .timmFill) -> RGB8Image {
        if degrees.truncatingRemainder(dividingBy: 360) == 0 { return self }
        let angle = -degrees * Double.pi / 180
        func round15(_ v: Double) -> Double { (v * 1e15).rounded() / 1e15 }
        let a = round15(cos(angle)), b = round15(sin(angle)), d = round15(-sin(angle)), e = round15(cos(angle))
        let cx = Double(width) / 2, cy = Double(height) / 2
        let c = a * -cx + b * -cy + cx
        let f = d * -cx + e * -cy + cy
        return affineTransformed([a, b, c, d, e, f], resample: resample, fill: fill)
    }

    private func clampX(_ x: Int) -> Int { Swift.min(Swift.max(x, 0), width - 1) }
    private func clampY(_ y: Int) -> Int { Swift.min(Swift.max(y, 0), height - 1) }

    private func sampleBilinear(_ xf: Double, _ yf: Double, into dst: inout [UInt8], at o: Int) {
        let x0 = Int(xf.rounded(.down)), y0 = Int(yf.rounded(.down))
        let dx = xf - Double(x0), dy = yf - Double(y0)
        let xa = clampX(x0), xb = clampX(x0 + 1), ya = clampY(y0), yb = clampY(y0 + 1)
        for c in 0..<3 {
            func p(_ x: Int, _ y: Int) -> Double { Double(pixels[(y * width + x) * 3 + c]) }
            let top = p(xa, ya) + (p(xb, ya) - p(xa, ya)) * dx
            let bottom = p(xa, yb) + (p(xb, yb) - p(xa, yb)) * dx
            dst[o + c] = UInt8(top + (bottom - top) * dy)
        }
    }

    private func sampleBicubic(_ xf: Double, _ yf: Double, into dst: inout [UInt8], at o: Int) {
        let x0 = Int(xf.rounded(.down)), y0 = Int(yf.rounded(.down))
        let dx = xf - Double(x0), dy = yf - Double(y0)
        // PIL's polynomial form of the a = -1 cubic kernel (not the -0.5 its resize uses).
        func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
            let p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4
            return v2 + d * (p2 + d * (p3 + d * p4))
        }
        let xs = (0..<4).map { clampX(x0 - 1 + $0) }
        for c in 0..<3 {
            var rows = [Double](repeating: 0, count: 4)
            for j in 0..<4 {
                let base = clampY(y0 - 1 + j) * width
                func p(_ i: Int) -> Double { Double(pixels[(base + xs[i]) * 3 + c]) }
                rows[j] = cubic(p(0), p(1), p(2), p(3), dx)
            }
            let v = cubic(rows[0], rows[1], rows[2], rows[3], dy)
            dst[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
        }
    }
}

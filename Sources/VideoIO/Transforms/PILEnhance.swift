/// The `ImageEnhance` operations of RandAugment, byte-exact with Pillow: each blends the image with a
/// "degenerate" version, `degenerate + factor * (image - degenerate)` in Float32, truncated and clipped.
extension RGB8Image {
    /// `ImageEnhance.Color`: blends with the greyscale image (factor 0 is grey, 1 the original).
    public func colorEnhanced(_ factor: Double) -> RGB8Image {
        let lum = luminance()
        let grey = (0..<pixels.count).map { lum[$0 / 3] }
        return blended(from: grey, factor: factor)
    }

    /// `ImageEnhance.Contrast`: blends with a flat image of the rounded mean luminance.
    public func contrastEnhanced(_ factor: Double) -> RGB8Image {
        let lum = luminance()
        let mean = Int(Double(lum.reduce(0) { $0 + Int($1) }) / Double(lum.count) + 0.5)
        return blended(from: [UInt8](repeating: UInt8(mean), count: pixels.count), factor: factor)
    }

    /// `ImageEnhance.Brightness`: blends with black.
    public func brightnessEnhanced(_ factor: Double) -> RGB8Image {
        blended(from: [UInt8](repeating: 0, count: pixels.count), factor: factor)
    }

    /// `ImageEnhance.Sharpness`: blends with `ImageFilter.SMOOTH` (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1 over
    /// 13, rounded; the one-pixel border is copied unfiltered, as in PIL).
    public func sharpnessEnhanced(_ factor: Double) -> RGB8Image {
        blended(from: smoothed().pixels, factor: factor)
    }

    /// PIL's `ImageFilter.SMOOTH`.
    func smoothed() -> RGB8Image {
        guard width >= 3 && height >= 3 else { return self }
        var out = self
        let w = Float(1) / 13, centre = Float(5) / 13
        for y in 1..<(height - 1) {
            for x in 1..<(width - 1) {
                for c in 0..<3 {
                    var sum: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let v = Float(pixels[((y + dy) * width + x + dx) * 3 + c])
                            sum += v * (dx == 0 && dy == 0 ? centre : w)
                        }
                    }
                    out.pixels[(y * width + x) * 3 + c] = RGB8Image.clip8(sum + 0.5)
                }
            }
        }
        return out
    }

    /// `Image.blend(degenerate, self, factor)`.
    func blended(from degenerate: [UInt8], factor: Double) -> RGB8Image {
        if factor == 1 { return self }
        let alpha = Float(factor)
        var out = self
        for i in 0..<pixels.count {
            let a = Float(Int(degenerate[i]))
            out.pixels[i] = RGB8Image.clip8(a + alpha * (Float(Int(pixels[i])) - a))
        }
        return out
    }

    /// Truncation to a byte with saturation, as PIL's C code casts.
    static func clip8(_ v: Float) -> UInt8 {
        v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
    }
}

/// An 8-bit RGB image, row-major `[height, width, 3]`: the form RandAugment's PIL operations work on.
public struct RGB8Image: Sendable, Hashable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// RGB bytes, `height * width * 3` of them, row after row.
    public var pixels: [UInt8]

    /// Creates an image from packed RGB bytes.
    ///
    /// - Precondition: `pixels.count == width * height * 3` and both extents are positive.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGB8Image: \(pixels.count) bytes do not fill [\(height), \(width), 3]")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour.
    public init(width: Int, height: Int, fill: RGB8Color) {
        self.init(width: width, height: height,
                  pixels: Array([[UInt8]](repeating: [fill.r, fill.g, fill.b], count: width * height).joined()))
    }

    /// The pixels of a decoded frame.
    public init(_ frame: VideoFrame) {
        self.init(width: frame.width, height: frame.height, pixels: frame.pixels)
    }

    /// Applies a 256-entry lookup table to every byte of every channel.
    func mapped(_ lut: [UInt8]) -> RGB8Image {
        var out = self
        for i in 0..<out.pixels.count { out.pixels[i] = lut[Int(pixels[i])] }
        return out
    }

    /// Applies one lookup table per channel (`luts[c]` for channel `c`).
    func mapped(perChannel luts: [[UInt8]]) -> RGB8Image {
        var out = self
        for i in 0..<out.pixels.count { out.pixels[i] = luts[i % 3][Int(pixels[i])] }
        return out
    }

    /// The 256-bin histogram of each channel.
    func histograms() -> [[Int]] {
        var h = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 3)
        for i in 0..<pixels.count { h[i % 3][Int(pixels[i])] += 1 }
        return h
    }

    /// PIL's `convert("L")`: `(19595 R + 38470 G + 7471 B + 2^15) >> 16` per pixel.
    func luminance() -> [UInt8] {
        (0..<(width * height)).map { i in
            let r = Int(pixels[3 * i]), g = Int(pixels[3 * i + 1]), b = Int(pixels[3 * i + 2])
            return UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
    }
}

/// An RGB colour of 8-bit channels (RandAugment's fill for uncovered pixels).
public struct RGB8Color: Sendable, Hashable {
    /// Red.
    public var r: UInt8
    /// Green.
    public var g: UInt8
    /// Blue.
    public var b: UInt8

    /// Creates a colour.
    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// timm's fill `(128, 128, 128)`.
    public static let timmFill = RGB8Color(r: 128, g: 128, b: 128)
}

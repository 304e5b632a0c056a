import TensorCore

/// One decoded frame as packed RGB bytes, row-major `[height, width, 3]`.
///
/// A plain value (`Sendable`), so frames can cross threads freely, e.g. from loader workers.
public struct VideoFrame: Sendable, Equatable {
    /// The frame's position in presentation order (0 is the first frame shown).
    public var index: Int
    /// The presentation time in seconds (the stream's pts times its time base, as PyAV's `frame.time`).
    public var timestamp: Double
    /// The width in pixels of ``pixels``.
    public var width: Int
    /// The height in pixels of ``pixels``.
    public var height: Int
    /// RGB bytes, `height * width * 3` of them, row after row.
    public var pixels: [UInt8]

    /// Creates a frame from packed RGB bytes.
    ///
    /// - Precondition: `pixels.count == width * height * 3`.
    public init(index: Int, timestamp: Double, width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            pixels.count == width * height * 3,
            "VideoFrame: \(pixels.count) bytes do not fill [\(height), \(width), 3]")
        self.index = index
        self.timestamp = timestamp
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The RGB value at column `x`, row `y`.
    public func rgb(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "VideoFrame.rgb: (\(x), \(y)) outside [\(height), \(width)]")
        let o = (y * width + x) * 3
        return (pixels[o], pixels[o + 1], pixels[o + 2])
    }

    /// The frame as a Float32 tensor of shape `[height, width, 3]` with values in `[0, 1]` (byte / 255).
    public func tensor() -> Tensor {
        Tensor(shape: [height, width, 3]) { out in
            pixels.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Float(src[i]) / 255 }
            }
        }
    }
}

/// The output size of decoded frames; swscale resizes during the colour conversion.
public struct FrameSize: Sendable, Hashable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// The largest width or height frames are decoded to (FFmpeg's scaler refuses larger ones, and
    /// a request beyond it is almost always a typo).
    public static let maximumSide = 16_384

    /// Creates a size; both extents must be positive.
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "FrameSize: extents [\(height), \(width)] must be positive")
        self.width = width
        self.height = height
    }
}

/// The filter swscale uses when the output size differs from the stored size.
public enum ResizeFilter: Sendable, Hashable {
    /// Bilinear interpolation (swscale's `SWS_BILINEAR`; what PyAV and decord use by default).
    case bilinear
    /// Bicubic interpolation (`SWS_BICUBIC`).
    case bicubic
    /// Area averaging (`SWS_AREA`), the better choice for large reductions.
    case area
    /// Nearest neighbour (`SWS_POINT`).
    case nearest
}

/// Facts about an open video, read once when it is opened.
public struct VideoMetadata: Sendable, Equatable {
    /// The exact number of frames, counted by demuxing every packet (presentation order).
    public var frameCount: Int
    /// The frame count the container claims (`nb_frames`), or `nil` when it does not say.
    /// It may disagree with ``frameCount`` for damaged or edited files.
    public var containerFrameCount: Int?
    /// Frames per second: the stream's average rate, else its base rate, else frames ÷ duration.
    public var fps: Double
    /// Seconds from the first frame's presentation time to the end of the last frame.
    public var duration: Double
    /// Stored width in pixels (before ``rotation`` is applied).
    public var width: Int
    /// Stored height in pixels (before ``rotation`` is applied).
    public var height: Int
    /// Clockwise rotation in degrees (0, 90, 180 or 270) that displays the frames upright, from
    /// the display matrix (what `ffmpeg`'s autorotate applies). Frames are returned unrotated.
    public var rotation: Int
    /// FFmpeg's short name for the codec, e.g. `h264`.
    public var codecName: String
}

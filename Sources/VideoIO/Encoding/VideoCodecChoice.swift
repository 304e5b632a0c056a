internal import _CFFmpeg

/// Which encoder ``VideoWriter`` uses and how.
public enum VideoCodecChoice: Sendable, Hashable {
    /// H.264 over RGB planes with `qp 0` (`libx264rgb`): bit-exact RGB round trips. The exact
    /// choice for tests; YUV 4:4:4 at `qp 0` is lossless only in YUV, and the RGB↔YUV
    /// conversions around it round. x264 never emits B-frames in lossless mode.
    case h264LosslessRGB
    /// H.264 in YUV 4:2:0 (`libx264`) at a constant rate factor (0–51, lower is better; 18 looks
    /// lossless), as real-world clips are stored.
    case h264(crf: Int)
    /// FFV1 over RGB planes: lossless, needs a Matroska (`.mkv`) or AVI container.
    case ffv1
    /// MPEG-4 part 2 in YUV 4:2:0 with a fixed quantiser (1–31, lower is better); always built in.
    case mpeg4(quantizer: Int)

    /// The best lossless choice this FFmpeg build offers: ``h264LosslessRGB`` if libx264 is
    /// present, else ``ffv1``.
    public static var bestLossless: VideoCodecChoice {
        isAvailable(.h264LosslessRGB) ? .h264LosslessRGB : .ffv1
    }

    /// Whether the local FFmpeg build has the encoder this choice needs.
    public static func isAvailable(_ choice: VideoCodecChoice) -> Bool {
        avcodec_find_encoder_by_name(choice.encoderName) != nil
    }

    var encoderName: String {
        switch self {
        case .h264LosslessRGB: return "libx264rgb"
        case .h264: return "libx264"
        case .ffv1: return "ffv1"
        case .mpeg4: return "mpeg4"
        }
    }

    var pixelFormat: AVPixelFormat {
        switch self {
        case .h264LosslessRGB: return AV_PIX_FMT_RGB24
        case .h264, .mpeg4: return AV_PIX_FMT_YUV420P
        case .ffv1: return AV_PIX_FMT_BGR0  // FFV1's 8-bit RGB layout
        }
    }

    /// Encoder private options, as `ffmpeg` would take them on the command line.
    var privateOptions: [(String, String)] {
        switch self {
        case .h264LosslessRGB: return [("qp", "0"), ("preset", "veryfast")]
        case .h264(let crf): return [("crf", String(crf)), ("preset", "veryfast")]
        case .ffv1, .mpeg4: return []
        }
    }
}

import TensorCore

/// The axis order of a clip tensor.
///
/// Every clip transform keeps the layout it was given: a `[T, H, W, C]` clip comes back as `[T, H, W, C]`.
public enum ClipLayout: Sendable, Hashable {
    /// `[T, C, H, W]`: frames, channels, rows, columns (what the backbones take).
    case tchw
    /// `[C, T, H, W]`: channels first (the SlowFast / PyTorchVideo convention).
    case cthw
    /// `[T, H, W, C]`: interleaved channels, as decoded RGB bytes converted to Float.
    case thwc
}

/// The sizes of a rank-4 clip and where each frame's channel plane lives in its storage.
///
/// Spatial transforms treat a clip as `frames * channels` planes; this maps a plane to its first element
/// and strides so that one kernel serves every layout.
struct ClipGeometry {
    let layout: ClipLayout
    let frames: Int
    let channels: Int
    let height: Int
    let width: Int

    init(_ clip: Tensor, layout: ClipLayout, op: String) throws(TransformError) {
        let s = clip.shape
        guard s.count == 4 else {
            throw .invalidClip(op: op, shape: s, reason: "expected rank 4 (\(ClipGeometry.axisNames(layout)))")
        }
        switch layout {
        case .tchw: (frames, channels, height, width) = (s[0], s[1], s[2], s[3])
        case .cthw: (channels, frames, height, width) = (s[0], s[1], s[2], s[3])
        case .thwc: (frames, height, width, channels) = (s[0], s[1], s[2], s[3])
        }
        guard height > 0 && width > 0 else {
            throw .invalidClip(op: op, shape: s, reason: "frames must have at least one pixel")
        }
        self.layout = layout
    }

    init(layout: ClipLayout, frames: Int, channels: Int, height: Int, width: Int) {
        self.layout = layout
        self.frames = frames
        self.channels = channels
        self.height = height
        self.width = width
    }

    static func axisNames(_ layout: ClipLayout) -> String {
        switch layout {
        case .tchw: return "[T, C, H, W]"
        case .cthw: return "[C, T, H, W]"
        case .thwc: return "[T, H, W, C]"
        }
    }

    /// The same clip with other spatial extents.
    func resized(height: Int, width: Int) -> ClipGeometry {
        ClipGeometry(layout: layout, frames: frames, channels: channels, height: height, width: width)
    }

    /// The tensor shape in this layout.
    var shape: [Int] {
        switch layout {
        case .tchw: return [frames, channels, height, width]
        case .cthw: return [channels, frames, height, width]
        case .thwc: return [frames, height, width, channels]
        }
    }

    var planeCount: Int { frames * channels }

    /// Distance between horizontally adjacent pixels of one plane.
    var pixelStride: Int { layout == .thwc ? channels : 1 }

    /// Distance between vertically adjacent pixels of one plane.
    var rowStride: Int { width * pixelStride }

    /// The storage index of pixel (0, 0) of `channel` in `frame`.
    func origin(frame: Int, channel: Int) -> Int {
        switch layout {
        case .tchw: return (frame * channels + channel) * height * width
        case .cthw: return (channel * frames + frame) * height * width
        case .thwc: return frame * height * width * channels + channel
        }
    }

    /// Plane `p` in frame-major order: frame `p / channels`, channel `p % channels`.
    func origin(plane p: Int) -> Int { origin(frame: p / channels, channel: p % channels) }
}

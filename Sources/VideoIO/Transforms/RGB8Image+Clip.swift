import TensorCore

extension ClipTransforms {
    /// The frames of an RGB clip with values in `[0, 1]` as 8-bit images: each value times 255,
    /// rounded and clamped to `[0, 255]`. Decoded bytes divided by 255 come back exactly, so
    /// transforms that reference pipelines run on PIL images (RandAugment, the multi-scale crop)
    /// see the same bytes here.
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when the clip is not rank 4 with 3 channels.
    public static func rgb8Frames(_ clip: Tensor, layout: ClipLayout = .tchw) throws(TransformError) -> [RGB8Image] {
        let g = try ClipGeometry(clip, layout: layout, op: "rgb8Frames")
        guard g.channels == 3 else {
            throw .invalidClip(op: "rgb8Frames", shape: clip.shape, reason: "expected 3 colour channels")
        }
        return clip.withUnsafeBufferPointer { src in
            (0..<g.frames).map { f in
                var pixels = [UInt8](repeating: 0, count: g.height * g.width * 3)
                for c in 0..<3 {
                    let origin = g.origin(frame: f, channel: c)
                    for y in 0..<g.height {
                        for x in 0..<g.width {
                            let v = src[origin + y * g.rowStride + x * g.pixelStride] * 255
                            pixels[(y * g.width + x) * 3 + c] = UInt8(Swift.max(0, Swift.min(255, v.rounded())))
                        }
                    }
                }
                return RGB8Image(width: g.width, height: g.height, pixels: pixels)
            }
        }
    }

    /// 8-bit frames as a clip in `[0, 1]` (each byte divided by 255 in Float, as `ToTensor`).
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when there are no frames or
    ///   their sizes differ.
    public static func clip(from frames: [RGB8Image], layout: ClipLayout = .tchw) throws(TransformError) -> Tensor {
        guard let first = frames.first else {
            throw .invalidClip(op: "clip(from:)", shape: [0], reason: "no frames")
        }
        let (h, w) = (first.height, first.width)
        if let other = frames.first(where: { $0.height != h || $0.width != w }) {
            throw .invalidClip(op: "clip(from:)", shape: [frames.count, h, w, 3],
                               reason: "frames differ in size ([\(other.height), \(other.width)] vs [\(h), \(w)])")
        }
        let g = ClipGeometry(layout: layout, frames: frames.count, channels: 3, height: h, width: w)
        return Tensor(shape: g.shape) { out in
            for (f, image) in frames.enumerated() {
                for c in 0..<3 {
                    let origin = g.origin(frame: f, channel: c)
                    for y in 0..<h {
                        for x in 0..<w {
                            out[origin + y * g.rowStride + x * g.pixelStride] = Float(image.pixels[(y * w + x) * 3 + c]) / 255
                        }
                    }
                }
            }
        }
    }
}

import TensorCore

extension DatasetItem {
    /// Decodes one clip of the item as `[T, 3, H, W]` with values in `[0, 1]`.
    ///
    /// The sampler sees the item's frame count (from the container index for videos, from the list
    /// for frame folders) and its first clip is decoded, resized to `size` during conversion.
    /// - Throws: the ``VideoIOError`` of the failing file.
    public func loadClip(
        sampler: any ClipSampler, size: FrameSize, using generator: inout RandomGenerator
    ) throws -> Tensor {
        let frames: [VideoFrame]
        switch media {
        case .video:
            let reader = try VideoReader(path: path)
            let clip = sampler.clips(frameCount: reader.frameCount, using: &generator)[0]
            frames = try reader.frames(at: clip.frameIndices, size: size)
        case .frameFolder(let frameCount, let pattern):
            let clip = sampler.clips(frameCount: frameCount, using: &generator)[0]
            var decoded: [Int: VideoFrame] = [:]
            frames = try clip.frameIndices.map { i in
                if let frame = decoded[i] { return frame }
                let file = resolve(pattern.fileName(frame: i), root: path)
                let frame = try VideoReader(path: file).frame(at: 0, size: size)
                decoded[i] = frame
                return frame
            }
        }
        return DatasetItem.channelsFirst(frames, size: size)
    }

    /// Packs RGB frames `[H, W, 3]` bytes into `[T, 3, H, W]` floats in `[0, 1]`.
    static func channelsFirst(_ frames: [VideoFrame], size: FrameSize) -> Tensor {
        let plane = size.width * size.height
        return Tensor(shape: [frames.count, 3, size.height, size.width]) { out in
            for (t, frame) in frames.enumerated() {
                frame.pixels.withUnsafeBufferPointer { src in
                    let base = t * 3 * plane
                    for p in 0..<plane {
                        out[base + p] = Float(src[3 * p]) / 255
                        out[base + plane + p] = Float(src[3 * p + 1]) / 255
                        out[base + 2 * plane + p] = Float(src[3 * p + 2]) / 255
                    }
                }
            }
        }
    }
}

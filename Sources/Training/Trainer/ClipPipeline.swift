import TensorCore
import VideoIO

/// The per-clip transforms a recipe asks for, as closures the ``DataLoader`` runs in its workers.
///
/// Training follows TIME §1.5: RandAugment on the decoded frames, normalisation, short-side scale
/// jitter, a random square crop, then an optional horizontal flip. (Evaluation has its own
/// pipeline, ``EvaluationConfiguration/prepare(_:)``.)
public enum ClipPipeline {
    /// The training transform of `data`.
    ///
    /// - Throws: ``TransformError`` when the RandAugment string does not parse.
    public static func training(_ data: Recipe.DataSection) throws -> DataLoader.ClipTransform {
        let augment = try data.randAugment.map { try RandAugment(config: $0) }
        let mean = data.mean.map(Float.init), std = data.std.map(Float.init)
        let jitter = data.scaleJitter, crop = data.crop, flip = data.flip
        return { clip, generator in
            if let augment {
                clip = tensor(augment(images(clip), using: &generator))
            }
            clip = try ClipTransforms.normalize(clip, mean: mean, std: std)
            clip = try ClipTransforms.scaleJitter(clip, minSize: jitter[0], maxSize: jitter[1], using: &generator)
            clip = try ClipTransforms.randomCrop(clip, size: crop, using: &generator)
            if flip && generator.nextUniform() < 0.5 {
                clip = try ClipTransforms.horizontalFlip(clip)
            }
        }
    }

    /// A `[T, 3, H, W]` clip in `[0, 1]` as 8-bit images (decoded bytes survive the round trip exactly).
    static func images(_ clip: Tensor) -> [RGB8Image] {
        let (t, h, w) = (clip.shape[0], clip.shape[2], clip.shape[3])
        let plane = h * w
        return clip.scalars.withUnsafeBufferPointer { src in
            (0..<t).map { f in
                var pixels = [UInt8](repeating: 0, count: plane * 3)
                for p in 0..<plane {
                    for c in 0..<3 {
                        let v = src[(f * 3 + c) * plane + p] * 255
                        pixels[3 * p + c] = UInt8(Swift.max(0, Swift.min(255, v.rounded())))
                    }
                }
                return RGB8Image(width: w, height: h, pixels: pixels)
            }
        }
    }

    /// 8-bit images back to a `[T, 3, H, W]` clip in `[0, 1]`.
    static func tensor(_ images: [RGB8Image]) -> Tensor {
        let (h, w) = (images[0].height, images[0].width)
        let plane = h * w
        return Tensor(shape: [images.count, 3, h, w]) { out in
            for (f, image) in images.enumerated() {
                for p in 0..<plane {
                    for c in 0..<3 { out[(f * 3 + c) * plane + p] = Float(image.pixels[3 * p + c]) / 255 }
                }
            }
        }
    }
}

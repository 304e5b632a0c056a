import TensorCore
import VideoIO

/// The per-clip transforms a recipe asks for, as closures the ``DataLoader`` runs in its workers.
///
/// Training follows TIME §1.5: RandAugment on the decoded frames, normalisation, short-side scale
/// jitter, a random square crop, then an optional horizontal flip. With `data.multi_scale_crop`
/// VideoMAE's ``MultiScaleCrop`` to `data.crop` replaces the jitter and the crop; it runs on the
/// decoded (8-bit) frames, after RandAugment and before normalisation, as the reference's PIL
/// pipeline does. With `data.random_resized_crop` torchvision's random resized crop of the
/// normalised clip (`data.crop_scale`, `data.crop_ratio`, bilinear) replaces them instead, as in
/// VideoMAE's fine-tuning (`spatial_sampling` with `scale` and `aspect_ratio`). With `data.random_erasing` above 0 ``RandomErasing`` ends the pipeline, on the
/// normalised clip, as in VideoMAE's fine-tuning. With `data.input` other than `rgb` the clip
/// becomes IIC's residual clip after the flip (no random draws). (Evaluation has its own pipeline,
/// ``EvaluationConfiguration/prepare(_:)``.)
///
/// Random draws, in order: RandAugment's, the multi-scale crop's, the random resized crop's or the
/// scale jitter's and the random crop's, the flip coin (`nextUniform()`), random erasing's. Keys left at their defaults
/// draw exactly what they drew before these options existed.
public enum ClipPipeline {
    /// The training transform of `data`.
    ///
    /// - Throws: ``TransformError`` when the RandAugment string does not parse or the crop or
    ///   erasing settings are out of range.
    public static func training(_ data: Recipe.DataSection) throws -> DataLoader.ClipTransform {
        let augment = try data.randAugment.map { try RandAugment(config: $0) }
        let mean = data.mean.map(Float.init), std = data.std.map(Float.init)
        let jitter = data.scaleJitter, crop = data.crop, flip = data.flip
        let multiScale = data.multiScaleCrop ? try MultiScaleCrop(size: data.crop) : nil
        let resized = data.randomResizedCrop
            ? (scale: data.cropScale[0]...data.cropScale[1], ratio: data.cropRatio[0]...data.cropRatio[1]) : nil
        let erasing = data.randomErasing > 0 ? try RandomErasing(probability: data.randomErasing) : nil
        let input = data.input
        return { clip, generator in
            if augment != nil || multiScale != nil {
                var frames = try ClipTransforms.rgb8Frames(clip)
                if let augment { frames = augment(frames, using: &generator) }
                if let multiScale { frames = try multiScale(frames, using: &generator) }
                clip = try ClipTransforms.clip(from: frames)
            }
            clip = try ClipTransforms.normalize(clip, mean: mean, std: std)
            if let resized {
                clip = try ClipTransforms.randomResizedCrop(
                    clip, size: crop, scale: resized.scale, ratio: resized.ratio, using: &generator)
            } else if multiScale == nil {
                clip = try ClipTransforms.scaleJitter(clip, minSize: jitter[0], maxSize: jitter[1], using: &generator)
                clip = try ClipTransforms.randomCrop(clip, size: crop, using: &generator)
            }
            if flip && generator.nextUniform() < 0.5 {
                clip = try ClipTransforms.horizontalFlip(clip)
            }
            if input != .rgb {
                clip = try input.apply(clip)
            }
            if let erasing {
                clip = try erasing(clip, using: &generator)
            }
        }
    }
}

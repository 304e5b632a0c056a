import Foundation
import VideoIO
import VideoTransformers

extension Recipe {
    /// How clips are read and augmented.
    public struct DataSection: RecipeSection {
        /// How frames are picked from a video.
        public enum Sampler: String, Sendable, CaseIterable {
            /// TSN segments (TIME §1.5): random frame per segment in training, middles in evaluation.
            case segment
            /// Evenly spaced frames over the whole video.
            case uniform
            /// `frames` consecutive frames every `sampling_rate` from a random start (a window of
            /// the video; SVT's views are cut from it).
            case dense
        }
        /// Folder that relative list and video paths resolve against (the working directory when empty).
        public var root: String = ""
        /// The training `path label` list.
        public var train: String = ""
        /// The validation `path label` list, if any; evaluated during training (``EvalSection``).
        public var val: String?
        /// IIC's validation protocol (reference §3.9): this many videos of `data.train`, drawn at
        /// random with `holdout_seed`, are taken out of training and form the validation set, which
        /// is read like training data (the training sampler's random clip and the training
        /// augmentation, e.g. a random crop) rather than with the test views. Exclusive with `val`.
        public var holdout: Int?
        /// The seed of the `holdout` draw.
        public var holdoutSeed: Int = 0
        /// A JSON object mapping class names to subsets (`temporal`, `static`), if any.
        public var subsets: String?
        /// Class names one per line in label order, if any.
        public var classes: String?
        /// Frames per clip.
        public var frames: Int = 8
        /// Step between the frames of a `dense` window.
        public var samplingRate: Int = 1
        /// `[width, height]` frames are decoded to (resized during colour conversion).
        public var decodeSize: [Int] = [341, 256]
        /// `[min, max]` of the short-side scale jitter (TIME: `[256, 320]`); equal values resize
        /// to a fixed short side.
        public var scaleJitter: [Int] = [256, 320]
        /// The side of the square training crop.
        public var crop: Int = 224
        /// The frame sampler.
        public var sampler: Sampler = .segment
        /// A timm RandAugment string (`rand-m20-mstd0.5-inc1`), or nil for none.
        public var randAugment: String?
        /// Whether clips are flipped horizontally at random (off for SSv2: it has left/right classes).
        public var flip: Bool = false
        /// Whether training clips are cut with VideoMAE's multi-scale crop (``MultiScaleCrop``: one
        /// of 10 scale pairs at one of 13 fixed positions, resized to `crop` × `crop` without
        /// keeping the aspect ratio) instead of short-side scale jitter and a random crop; off
        /// by default.
        public var multiScaleCrop: Bool = false
        /// Whether training clips are cut with torchvision's random resized crop (one region per
        /// clip: an area fraction from ``cropScale`` and a log-uniform aspect ratio from
        /// ``cropRatio``, resized bilinearly to `crop` × `crop`) instead of short-side scale jitter
        /// and a random crop, as VideoMAE's fine-tuning does; off by default.
        public var randomResizedCrop: Bool = false
        /// `[min, max]` area fraction of the random resized crop (VideoMAE: `[0.08, 1.0]`).
        public var cropScale: [Double] = [0.08, 1.0]
        /// `[min, max]` aspect ratio (width / height) of the random resized crop (VideoMAE:
        /// `[0.75, 1.3333]`).
        public var cropRatio: [Double] = [0.75, 1.3333]
        /// The probability of VideoMAE's random erasing of each normalised training clip
        /// (``RandomErasing``: one rectangle for all frames, per-pixel normal noise; VideoMAE: 0.25);
        /// 0, the default, turns it off.
        public var randomErasing: Double = 0
        /// Per-channel normalisation mean (TIME: 0.5).
        public var mean: [Double] = [0.5, 0.5, 0.5]
        /// Per-channel normalisation standard deviation (TIME: 0.5).
        public var std: [Double] = [0.5, 0.5, 0.5]
        /// What the network sees: `rgb` (default), or IIC's residual clips — `residual`
        /// (`((x − roll(x, 1)) + 1)/2`) or `residual_unscaled` (`x − roll(x, 1)`, IIC's fine-tuning
        /// input, §3.9) — computed from each normalised clip, in training and validation alike.
        public var input: ClipInput = .rgb
        /// Loader worker threads.
        public var workers: Int = 2
        /// Whether list entries may leave `root` (absolute paths or `..`); off, such an entry is an
        /// error naming its line.
        public var allowOutsideRoot: Bool = false

        /// The most frames a training clip may have (far beyond any reference recipe; a larger
        /// value is almost always a typo that would allocate without bound).
        public static let maximumFrames = 1024

        /// Creates the section with defaults.
        public init() {}

        /// The data keys.
        public static var fields: [RecipeField<Self>] {
            [.string("root", \.root), .string("train", \.train), .string("val", \.val),
             .int("holdout", \.holdout, minimum: 1), .int("holdout_seed", \.holdoutSeed, minimum: 0),
             .string("subsets", \.subsets), .string("classes", \.classes),
             .int("frames", \.frames, minimum: 1, maximum: Self.maximumFrames),
             .int("sampling_rate", \.samplingRate, minimum: 1, maximum: Self.maximumFrames),
             .ints("decode_size", \.decodeSize, count: 2, minimum: 1, maximum: FrameSize.maximumSide),
             .ints("scale_jitter", \.scaleJitter, count: 2, minimum: 1, maximum: FrameSize.maximumSide),
             .int("crop", \.crop, minimum: 1, maximum: FrameSize.maximumSide),
             .choice("sampler", \.sampler), .string("rand_augment", \.randAugment), .bool("flip", \.flip),
             .bool("multi_scale_crop", \.multiScaleCrop), .bool("random_resized_crop", \.randomResizedCrop),
             .doubles("crop_scale", \.cropScale, count: 2, .positive), .doubles("crop_ratio", \.cropRatio, count: 2, .positive),
             .double("random_erasing", \.randomErasing, .unitInterval),
             .doubles("mean", \.mean, count: 3), .doubles("std", \.std, count: 3, .positive), .choice("input", \.input),
             .int("workers", \.workers, minimum: 1), .bool("allow_outside_root", \.allowOutsideRoot)]
        }

        /// Checks the training list is given, that `holdout` and `val` are not both set, the jitter range, the crop (which the multi-scale
        /// crop may take from any frame) and the RandAugment string.
        public func validate(path: String) throws(RecipeError) {
            guard !train.isEmpty else { throw .missingKey("\(path).train") }
            if let holdout, val != nil {
                throw .invalidValue(key: "\(path).holdout", value: "\(holdout)",
                                    reason: "cannot be combined with \(path).val: the held-out videos are the validation set")
            }
            guard scaleJitter[0] <= scaleJitter[1] else {
                throw .invalidValue(key: "\(path).scale_jitter", value: "\(scaleJitter)", reason: "must be [min, max]")
            }
            guard !(multiScaleCrop && randomResizedCrop) else {
                throw .invalidValue(key: "\(path).random_resized_crop", value: "true",
                                    reason: "cannot be combined with multi_scale_crop: both replace the crop")
            }
            guard cropScale[0] <= cropScale[1] && cropScale[1] <= 1 else {
                throw .invalidValue(key: "\(path).crop_scale", value: "\(cropScale)", reason: "must be [min, max] within (0, 1]")
            }
            guard cropRatio[0] <= cropRatio[1] else {
                throw .invalidValue(key: "\(path).crop_ratio", value: "\(cropRatio)", reason: "must be [min, max]")
            }
            guard multiScaleCrop || randomResizedCrop || crop <= scaleJitter[0] else {
                throw .invalidValue(key: "\(path).crop", value: "\(crop)",
                                    reason: "exceeds the smallest jittered short side \(scaleJitter[0])")
            }
            if let config = randAugment {
                do { _ = try RandAugment(config: config) } catch {
                    throw .invalidValue(key: "\(path).rand_augment", value: config,
                                        reason: "is not a RandAugment string: \(error)")
                }
            }
        }
    }
}

import Foundation
import VideoTransformers

/// A training recipe: model, data, objective, optimizer, schedule and loop settings, read from YAML.
///
/// Every key has a documented default except `model.name` and `data.train`; unknown keys and values
/// of the wrong kind are errors naming the dotted key (see ``RecipeError``). The resolved recipe
/// (defaults filled in, overrides applied) is what ``yaml`` writes, and it is stored in every run
/// folder and checkpoint. `configs/time/timesformer_ssv2.yaml` is TIME's SSv2 recipe.
public struct Recipe: Sendable, Equatable {
    /// The backbone: a registered variant and its overrides.
    public struct Model: Sendable, Equatable {
        /// A name from ``Backbones/names``, e.g. `timesformer_base_8x224`.
        public var name: String
        /// Overrides by reference key (`drop_path_rate`, `num_classes`, `img_size`, …).
        public var overrides: [String: ConfigValue] = [:]
    }

    /// How clips are read and augmented.
    public struct Data: Sendable, Equatable {
        /// How frames are picked from a video.
        public enum Sampler: String, Sendable, CaseIterable {
            /// TSN segments (TIME §1.5): random frame per segment in training, middles in evaluation.
            case segment
            /// Evenly spaced frames over the whole video.
            case uniform
        }
        /// Folder that relative list and video paths resolve against (the working directory when empty).
        public var root: String = ""
        /// The training `path label` list.
        public var train: String
        /// The validation `path label` list, if any.
        public var val: String?
        /// A JSON object mapping class names to subsets (`temporal`, `static`), if any.
        public var subsets: String?
        /// Class names one per line in label order, if any.
        public var classes: String?
        /// Frames per clip.
        public var frames: Int = 8
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
        /// Per-channel normalisation mean (TIME: 0.5).
        public var mean: [Double] = [0.5, 0.5, 0.5]
        /// Per-channel normalisation standard deviation (TIME: 0.5).
        public var std: [Double] = [0.5, 0.5, 0.5]
        /// Loader worker threads.
        public var workers: Int = 2
    }

    /// What is minimised.
    public struct Objective: Sendable, Equatable {
        /// The training objective.
        public enum Kind: String, Sendable, CaseIterable {
            /// Label-smoothed cross-entropy only: the baseline.
            case supervised
            /// TIME: classification, frame order, debiasing and flow direction.
            case time
        }
        /// The objective.
        public var kind: Kind = .time
        /// Label smoothing of the classification (and TIME's order and flow) terms.
        public var labelSmoothing: Double = 0.2
        /// Weight of the classification term.
        public var classificationWeight: Double = 1
        /// Weight of the frame-order term (TIME only).
        public var orderWeight: Double = 1
        /// Weight of the debiasing term (TIME only).
        public var debiasWeight: Double = 1
        /// Weight of the flow-direction term (TIME only).
        public var flowWeight: Double = 1
    }

    /// The optimizer and its parameter groups.
    public struct Optimizer: Sendable, Equatable {
        /// Optimizer families.
        public enum Name: String, Sendable, CaseIterable {
            /// ``AdamW``.
            case adamw
            /// ``SGD``.
            case sgd
        }
        /// Which parameters receive weight decay.
        public enum DecayRule: String, Sendable, CaseIterable {
            /// Every parameter with at least two dimensions (TIME §1.5).
            case ndim = "ndim>=2"
            /// As `ndim>=2`, also exempting the backbone's `noWeightDecayKeys`.
            case ndimAndBackboneKeys = "ndim>=2-and-no-decay-keys"
            /// Every parameter.
            case all
        }
        /// The family.
        public var name: Name = .adamw
        /// The base learning rate.
        public var lr: Double = 1e-4
        /// AdamW's betas.
        public var betas: [Double] = [0.9, 0.999]
        /// AdamW's epsilon.
        public var eps: Double = 1e-8
        /// AdamW's AMSGrad switch (on in TIME).
        public var amsgrad: Bool = true
        /// SGD momentum.
        public var momentum: Double = 0.9
        /// SGD Nesterov switch.
        public var nesterov: Bool = false
        /// The weight decay coefficient of the decayed group.
        public var weightDecay: Double = 0.05
        /// Which parameters are decayed.
        public var weightDecayRule: DecayRule = .ndim
    }

    /// The learning rate as a function of the (fractional) epoch.
    public struct Schedule: Sendable, Equatable {
        /// Schedule families.
        public enum Policy: String, Sendable, CaseIterable {
            /// The base rate throughout.
            case constant
            /// ``StepsWithRelativeLRs``.
            case stepsWithRelativeLRs = "steps_with_relative_lrs"
            /// ``CosineSchedule``.
            case cosine
        }
        /// The family.
        public var policy: Policy = .stepsWithRelativeLRs
        /// Epochs where each relative rate starts (first 0).
        public var steps: [Double] = [0, 20, 30]
        /// Multipliers of the base rate from each step on.
        public var relativeLRs: [Double] = [1, 0.1, 0.01]
        /// The cosine schedule's final rate.
        public var endLR: Double = 0
        /// Epochs of linear warm-up (0: none).
        public var warmupEpochs: Double = 0
        /// The rate warm-up starts from.
        public var warmupStartLR: Double = 0
    }

    /// The loop: length, batches, regularisation of the update, checkpoints.
    public struct Training: Sendable, Equatable {
        /// Epochs to train.
        public var epochs: Int = 35
        /// Clips per forward pass.
        public var batchSize: Int = 8
        /// Forward passes per optimizer step (the effective batch is `batchSize · accumulation`).
        public var accumulation: Int = 1
        /// Maximum global gradient norm, or nil for no clipping.
        public var clipGradNorm: Double?
        /// Decay of an exponential moving average of the weights, or nil for none.
        public var emaDecay: Double?
        /// Stop after this many optimizer steps even if epochs remain (nil: run every epoch).
        public var maxSteps: Int?
        /// Write a checkpoint every this many optimizer steps (and at the end).
        public var checkpointEvery: Int = 500
        /// Complete checkpoints kept (older ones are deleted).
        public var keepCheckpoints: Int = 3
        /// Report progress every this many optimizer steps.
        public var logEvery: Int = 10
    }

    /// The backbone.
    public var model: Model
    /// The data.
    public var data: Data
    /// The objective.
    public var objective = Objective()
    /// The optimizer.
    public var optimizer = Optimizer()
    /// The schedule.
    public var schedule = Schedule()
    /// The loop.
    public var training = Training()
    /// The seed of initialisation, loader order, augmentation, drop-path and frame permutations.
    public var seed: UInt64 = 0
    /// The run folder: metrics, plots, checkpoints.
    public var outputDir: String = "runs/run"

    /// Creates a recipe with defaults for everything but the model name and training list.
    public init(model: String, train: String) {
        self.model = Model(name: model)
        self.data = Data(train: train)
    }
}

import Foundation
import VideoIO
import VideoTransformers

/// A training recipe: model, data, objective, optimizer, schedule, loop and evaluation settings,
/// read from YAML.
///
/// Every key has a documented default except `model.name` and `data.train`; unknown keys and values
/// of the wrong kind are errors naming the dotted key (see ``RecipeError``). Each section is a
/// ``RecipeSection`` whose fields read, default and write its keys; the `objective` section
/// belongs to the registered objective its `kind` names (``Objectives``). The resolved recipe
/// (defaults filled in, overrides applied) is what ``yaml`` writes, and it is stored in every run
/// folder and checkpoint. `configs/time/timesformer_ssv2.yaml` is TIME's SSv2 recipe.
///
/// ## Augmentation keys
///
/// Beside TIME's pipeline (`rand_augment`, `scale_jitter`, `crop`, `flip`), ``ClipPipeline``
/// offers VideoMAE's parts, all off by default so that a recipe without them trains as before:
///
/// | key | default | effect |
/// |---|---|---|
/// | `data.multi_scale_crop` | `false` | ``MultiScaleCrop`` to `data.crop` on the decoded frames instead of scale jitter and a random crop (VideoMAE / VideoMS pre-training); `crop` may then exceed `scale_jitter` |
/// | `data.random_resized_crop` | `false` | torchvision's random resized crop (``ClipTransforms/randomResizedCrop(_:size:scale:ratio:filter:layout:using:)``: area fraction from `data.crop_scale`, log-uniform aspect ratio from `data.crop_ratio`, bilinear to `crop` × `crop`) of the decoded, normalised frames instead of scale jitter and a random crop (VideoMAE fine-tuning) |
/// | `data.crop_scale` | `[0.08, 1.0]` | the random resized crop's area fraction range |
/// | `data.crop_ratio` | `[0.75, 1.3333]` | the random resized crop's aspect-ratio range |
/// | `data.input` | `rgb` | `residual` or `residual_unscaled`: IIC's residual clips (frame minus the previous frame, circularly), made from each normalised clip after the flip |
/// | `data.random_erasing` | `0` | the probability of ``RandomErasing`` of each normalised clip (VideoMAE fine-tuning: 0.25; one rectangle for all frames, per-pixel noise) |
/// | `objective.mixup` | `0` | mixup's Beta α for `kind: supervised` (VideoMAE: 0.8); 0 turns mixup off |
/// | `objective.cutmix` | `0` | CutMix's Beta α (VideoMAE: 1.0); 0 turns CutMix off |
/// | `objective.mixup_prob` | `1.0` | the chance that a batch is mixed when either is on |
/// | `objective.mixup_switch_prob` | `0.5` | the chance of CutMix rather than mixup when both are on |
///
/// With mixing on, the supervised objective mixes each batch with ``Mixup`` and trains on soft
/// targets smoothed by `objective.label_smoothing`; the training top-1 is not reported then.
public struct Recipe: Sendable, Equatable {
    /// The backbone: a registered variant, its overrides and the weights it starts from.
    public struct ModelSection: RecipeSection {
        /// A name from ``Backbones/names``, e.g. `timesformer_base_8x224`.
        public var name = ""
        /// Overrides by reference key (`drop_path_rate`, `num_classes`, `img_size`, …); the keys the
        /// variant's configuration accepts.
        public var overrides: [String: ConfigValue] = [:]
        /// Weights to start from (safetensors or PyTorch `.pth`/`.pyth`), or nil for random
        /// initialisation. See ``WeightSource``.
        public var weights: String?
        /// How checkpoint keys map to the model's (``KeyMaps``): `auto`, `facebook`, `time`,
        /// `timm-inflation`, or a registered map.
        public var keyMap = "auto"
        /// A prefix selecting and stripping a sub-dict of the checkpoint (`backbone.`, `module.`).
        public var prefix: String?
        /// Key patterns left at initialisation (`head.*`): matching model keys are not loaded and
        /// matching checkpoint keys are ignored, both reported.
        public var skip: [String] = []

        /// Creates the section with defaults.
        public init() {}

        /// `name`, `weights`, `key_map`, `prefix`, `skip` (`overrides` depends on the variant and
        /// is read by the recipe).
        public static var fields: [RecipeField<Self>] {
            [.string("name", \.name), .string("weights", \.weights), .string("key_map", \.keyMap),
             .string("prefix", \.prefix), .strings("skip", \.skip)]
        }

        /// Checks that the name is given and registered and that the key map exists.
        public func validate(path: String) throws(RecipeError) {
            guard !name.isEmpty else { throw .missingKey("\(path).name") }
            guard Backbones.variants[name] != nil else {
                throw .invalidValue(key: "\(path).name", value: name,
                                    reason: "is not a registered backbone (\(Backbones.names.joined(separator: ", ")))")
            }
            guard KeyMaps.names.contains(keyMap) else {
                throw .invalidValue(key: "\(path).key_map", value: keyMap,
                                    reason: "is not a key map (\(KeyMaps.names.joined(separator: ", ")))")
            }
            if let weights, weights.isEmpty {
                throw .invalidValue(key: "\(path).weights", value: "\"\"", reason: "must name a file")
            }
        }

        /// The weights to load, or nil.
        public var weightSource: WeightSource? {
            weights.map { WeightSource(path: $0, keyMap: keyMap, prefix: prefix, skip: skip) }
        }
    }

    /// What is minimised: a registered objective and its own settings.
    public struct ObjectiveSection: Sendable, Equatable {
        /// The registered objective (``Objectives/kinds``): `supervised`, `time`, ….
        public var kind: String
        /// The objective's own keys, resolved (defaults filled in) and validated by its registration.
        var settings: ConfigTree

        /// A section for the registered objective `kind` with `settings` (the settings type that
        /// objective registered; a recipe read from YAML checks the keys, this does not).
        public init<S: RecipeSection>(kind: String, settings: S) {
            self.kind = kind
            self.settings = .map(settings.pairs)
        }

        init(kind: String, settings: ConfigTree) {
            self.kind = kind
            self.settings = settings
        }

        /// The settings as the objective's section type.
        ///
        /// - Throws: ``RecipeError`` when `S` is not the type the objective registered.
        public func settings<S: RecipeSection>(as type: S.Type) throws(RecipeError) -> S {
            try S.read(settings, path: "objective")
        }
    }

    /// The optimizer and its parameter groups.
    public struct OptimizerSection: RecipeSection {
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
        /// Layer-wise learning-rate decay (VideoMAE fine-tuning: 0.75): block `i` of `L` trains at
        /// `decay^(L − i)` times the rate, the embeddings at `decay^(L + 1)`, the head at 1. Nil: off.
        public var layerDecay: Double?
        /// AdamW's betas.
        public var betas: [Double] = [0.9, 0.999]
        /// AdamW's epsilon.
        public var eps: Double = 1e-8
        /// AdamW's AMSGrad switch: off, as in PyTorch's `AdamW` and the SVT, VideoMAE and VideoMS
        /// references; TIME's recipes turn it on.
        public var amsgrad: Bool = false
        /// SGD momentum.
        public var momentum: Double = 0.9
        /// SGD Nesterov switch.
        public var nesterov: Bool = false
        /// The weight decay coefficient of the decayed group.
        public var weightDecay: Double = 0.05
        /// Which parameters are decayed.
        public var weightDecayRule: DecayRule = .ndim

        /// Creates the section with defaults.
        public init() {}

        /// The optimizer keys.
        public static var fields: [RecipeField<Self>] {
            [.choice("name", \.name), .double("lr", \.lr, .nonNegative), .double("layer_decay", \.layerDecay, .positiveUnitInterval), .doubles("betas", \.betas, count: 2, .fraction),
             .double("eps", \.eps, .positive), .bool("amsgrad", \.amsgrad), .double("momentum", \.momentum, .fraction),
             .bool("nesterov", \.nesterov), .double("weight_decay", \.weightDecay, .nonNegative),
             .choice("weight_decay_rule", \.weightDecayRule)]
        }
    }

    /// The learning rate as a function of the (fractional) epoch.
    public struct ScheduleSection: RecipeSection {
        /// Schedule families.
        public enum Policy: String, Sendable, CaseIterable {
            /// The base rate throughout.
            case constant
            /// ``StepsWithRelativeLRs``.
            case stepsWithRelativeLRs = "steps_with_relative_lrs"
            /// ``CosineSchedule``.
            case cosine
            /// DINO's, SVT's and VideoMAE's per-iteration `cosine_scheduler`
            /// (``IterationSchedule/cosine(base:final:epochs:iterationsPerEpoch:warmupEpochs:warmupStart:)``):
            /// `warmup_epochs` whole epochs from `warmup_start_lr`, then cosine to `end_lr`.
            case iterationCosine = "iteration_cosine"
            /// PyTorch's `MultiStepLR`: the rate is multiplied by `gamma` at each of `milestones`
            /// (epochs), as ``StepsWithRelativeLRs`` with relative rates `1, γ, γ², …` (IIC: ×0.2
            /// at 45, 90, 125 and 160).
            case multiStep = "multi_step"
            /// PyTorch's `ReduceLROnPlateau` (``ReduceLROnPlateau``): the base rate, multiplied by
            /// `factor` whenever the validation loss has not improved by `threshold` for more than
            /// `patience` validations, down to `min_lr` (IIC's fine-tuning: factor 0.1, patience 50,
            /// min 1e-5). Needs validation (`data.val` or `data.holdout`, `train.eval_every` > 0).
            case plateau
        }
        /// The value `plateau` watches (lower is better).
        public enum Monitor: String, Sendable, CaseIterable {
            /// The validation loss (``ValidationRecord``'s `val_loss`).
            case valLoss = "val_loss"
        }
        /// The family.
        public var policy: Policy = .stepsWithRelativeLRs
        /// Epochs where each relative rate starts (first 0).
        public var steps: [Double] = [0, 20, 30]
        /// Multipliers of the base rate from each step on.
        public var relativeLRs: [Double] = [1, 0.1, 0.01]
        /// `multi_step`: the epochs at which the rate is multiplied by ``gamma``.
        public var milestones: [Double] = [30, 60]
        /// `multi_step`: the factor applied at each milestone.
        public var gamma: Double = 0.1
        /// The cosine schedule's final rate.
        public var endLR: Double = 0
        /// Epochs of linear warm-up (0: none).
        public var warmupEpochs: Double = 0
        /// The rate warm-up starts from.
        public var warmupStartLR: Double = 0
        /// When set, weight decay follows an iteration cosine from `optimizer.weight_decay` to this
        /// value (DINO and SVT: 0.04 → 0.4) in every parameter group that decays.
        public var weightDecayEnd: Double?
        /// `plateau`: the multiplier at each reduction, in (0, 1).
        public var factor: Double = 0.1
        /// `plateau`: validations without improvement tolerated before a reduction.
        public var patience: Int = 10
        /// `plateau`: the improvement over the best that counts.
        public var threshold: Double = 1e-4
        /// `plateau`: whether `threshold` is relative (`rel`) or absolute (`abs`).
        public var thresholdMode: ReduceLROnPlateau.ThresholdMode = .rel
        /// `plateau`: validations after a reduction in which bad ones are not counted.
        public var cooldown: Int = 0
        /// `plateau`: the lowest rate.
        public var minLR: Double = 0
        /// `plateau`: the smallest change of rate a reduction makes.
        public var eps: Double = 1e-8
        /// `plateau`: the monitored value.
        public var monitor: Monitor = .valLoss

        /// Creates the section with defaults.
        public init() {}

        /// The schedule keys.
        public static var fields: [RecipeField<Self>] {
            [.choice("policy", \.policy), .doubles("steps", \.steps, .nonNegative),
             .doubles("relative_lrs", \.relativeLRs, .nonNegative), .doubles("milestones", \.milestones, .positive),
             .double("gamma", \.gamma, .nonNegative), .double("end_lr", \.endLR, .nonNegative),
             .double("warmup_epochs", \.warmupEpochs, .nonNegative),
             .double("warmup_start_lr", \.warmupStartLR, .nonNegative),
             .double("weight_decay_end", \.weightDecayEnd, .nonNegative),
             .double("factor", \.factor, .positive), .int("patience", \.patience, minimum: 0),
             .double("threshold", \.threshold, .nonNegative), .choice("threshold_mode", \.thresholdMode),
             .int("cooldown", \.cooldown, minimum: 0), .double("min_lr", \.minLR, .nonNegative),
             .double("eps", \.eps, .nonNegative), .choice("monitor", \.monitor)]
        }

        /// Checks that step boundaries start at 0, increase and match the rates, and that `plateau`
        /// has a factor below 1 and no warm-up.
        public func validate(path: String) throws(RecipeError) {
            if policy == .plateau {
                guard factor < 1 else {
                    throw .invalidValue(key: "\(path).factor", value: "\(factor)", reason: "must be less than 1")
                }
                guard warmupEpochs == 0 else {
                    throw .invalidValue(key: "\(path).warmup_epochs", value: "\(warmupEpochs)",
                                        reason: "must be 0 with policy plateau")
                }
            }
            if policy == .iterationCosine && warmupEpochs != warmupEpochs.rounded() {
                throw .invalidValue(key: "\(path).warmup_epochs", value: "\(warmupEpochs)",
                                    reason: "must be a whole number of epochs with policy iteration_cosine")
            }
            if policy == .multiStep && !zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 }) {
                throw .invalidValue(key: "\(path).milestones", value: "\(milestones)", reason: "must increase")
            }
            guard policy == .stepsWithRelativeLRs else { return }
            guard steps.count == relativeLRs.count, steps.first == 0,
                  zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw .invalidValue(key: "\(path).steps", value: "\(steps)",
                                    reason: "must start at 0, increase, and match \(path).relative_lrs in count")
            }
        }
    }

    /// The loop: length, batches, regularisation of the update, checkpoints, validation.
    public struct TrainSection: RecipeSection {
        /// Epochs to train.
        public var epochs: Int = 35
        /// Clips per forward pass.
        public var batchSize: Int = 8
        /// Forward passes per optimizer step (the effective batch is `batchSize · accumulation`).
        public var accumulation: Int = 1
        /// Maximum global gradient norm, or nil for no clipping.
        public var clipGradNorm: Double?
        /// Maximum norm of each parameter's gradient on its own (DINO's and SVT's `clip_gradients`),
        /// or nil.
        public var clipGradPerTensor: Double?
        /// Decay of an exponential moving average of the weights, or nil for none.
        public var emaDecay: Double?
        /// Stop after this many optimizer steps even if epochs remain (nil: run every epoch).
        public var maxSteps: Int?
        /// Write a checkpoint every this many optimizer steps (and at the end).
        public var checkpointEvery: Int = 500
        /// Complete checkpoints kept (older ones are deleted; `checkpoints/best` is kept apart).
        public var keepCheckpoints: Int = 3
        /// Report progress every this many optimizer steps.
        public var logEvery: Int = 10
        /// Evaluate `data.val` every this many epochs (and after the last); 0 turns validation off.
        public var evalEvery: Int = 1

        /// Creates the section with defaults.
        public init() {}

        /// The loop keys.
        public static var fields: [RecipeField<Self>] {
            [.int("epochs", \.epochs, minimum: 1), .int("batch_size", \.batchSize, minimum: 1),
             .int("accumulation", \.accumulation, minimum: 1), .double("clip_grad_norm", \.clipGradNorm, .positive),
             .double("clip_grad_per_tensor", \.clipGradPerTensor, .positive),
             .double("ema_decay", \.emaDecay, .unitInterval), .int("max_steps", \.maxSteps, minimum: 1),
             .int("checkpoint_every", \.checkpointEvery, minimum: 1),
             .int("keep_checkpoints", \.keepCheckpoints, minimum: 1), .int("log_every", \.logEvery, minimum: 1),
             .int("eval_every", \.evalEvery, minimum: 0)]
        }
    }

    /// How `data.val` is evaluated during training: the test views and the metric that picks
    /// `checkpoints/best`.
    public struct EvalSection: RecipeSection {
        /// The metric that decides the best checkpoint.
        public enum Metric: String, Sendable, CaseIterable {
            /// Top-1 accuracy on the original frames.
            case top1
            /// Top-5 accuracy.
            case top5
            /// Mean class accuracy.
            case meanClass = "mean_class"
            /// TIME's Gap (top-1 original − shuffled); needs `eval.shuffled: true`.
            case gap
            /// The validation loss `val_loss` (lower is better; IIC keeps the checkpoint with the
            /// lowest loss on its held-out training videos).
            case loss
        }
        /// Spatial crops per clip: 1 (centre) or 3 (TIME's test protocol).
        public var crops: Int = 3
        /// Temporal clips per video: 1 takes the recipe's sampler at test time (segment middles, or
        /// the centre window with `data.sampler: dense`); more are evenly spaced dense windows of
        /// `data.frames` every `data.sampling_rate` frames (VideoMAE's `test_num_segment`).
        public var clips: Int = 1
        /// How a video's views combine: `sum` of logits (TIME), `mean`, or `softmax_mean`
        /// (VideoMAE's multi-view test).
        public var aggregation: ViewAggregation = .sum
        /// Videos per evaluation batch.
        public var batchSize: Int = 8
        /// Whether each evaluation also runs on frame-shuffled clips and reports the Gap per subset.
        public var shuffled: Bool = false
        /// Where test clips come from: `auto` (segment middles, or evenly spaced dense windows with
        /// more clips or `data.sampler: dense`) or `centred` (IIC's test clips: `eval.clips` clips of
        /// `data.frames` consecutive frames around evenly spaced centres, ``CentredClipSampler``).
        public enum Sampling: String, Sendable, CaseIterable {
            /// Segment middles, or dense windows.
            case auto
            /// IIC's centred clips.
            case centred
        }
        /// The metric `checkpoints/best` is kept by (higher is better, except `loss`).
        public var bestMetric: Metric = .top1
        /// Where test clips come from.
        public var sampling: Sampling = .auto
        /// The short side test frames are resized to before cropping; nil resizes to `data.crop`.
        /// IIC tests on 171×128 frames centre-cropped to 112 without resizing (`resize: 128`).
        public var resize: Int?
        /// The seed of the shuffled-frame permutations.
        public var seed: Int = 0

        /// Creates the section with defaults.
        public init() {}

        /// The evaluation keys.
        public static var fields: [RecipeField<Self>] {
            [.int("crops", \.crops, minimum: 1), .int("clips", \.clips, minimum: 1, maximum: 1024),
             .choice("aggregation", \.aggregation), .int("batch_size", \.batchSize, minimum: 1),
             .bool("shuffled", \.shuffled), .choice("best_metric", \.bestMetric), .int("seed", \.seed, minimum: 0),
             .choice("sampling", \.sampling), .int("resize", \.resize, minimum: 1)]
        }

        /// Checks the crop count and that the Gap is only chosen with shuffled evaluation.
        public func validate(path: String) throws(RecipeError) {
            guard crops == 1 || crops == 3 else {
                throw .invalidValue(key: "\(path).crops", value: "\(crops)", reason: "must be 1 or 3")
            }
            if bestMetric == .gap && !shuffled {
                throw .invalidValue(key: "\(path).best_metric", value: "gap", reason: "needs \(path).shuffled: true")
            }
        }
    }

    /// The backbone.
    public var model: ModelSection
    /// The data.
    public var data: DataSection
    /// The objective.
    public var objective: ObjectiveSection
    /// The optimizer.
    public var optimizer = OptimizerSection()
    /// The schedule.
    public var schedule = ScheduleSection()
    /// The loop.
    public var training = TrainSection()
    /// Validation during training.
    public var evaluation = EvalSection()
    /// The seed of initialisation, loader order, augmentation, drop-path and frame permutations.
    public var seed: UInt64 = 0
    /// The run folder: metrics, plots, checkpoints. A relative path is resolved against the
    /// working directory when training starts, and recorded absolute in the run's `config.yaml`.
    public var outputDir: String = "runs/run"

    /// Creates a recipe with defaults for everything but the model name and training list; the
    /// objective is TIME with its reference settings.
    public init(model: String, train: String) {
        self.model = ModelSection()
        self.model.name = model
        self.data = DataSection()
        self.data.train = train
        self.objective = Objectives.defaultSection
    }
}

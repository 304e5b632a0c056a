import TemporalSSL
import TensorCore
import VideoIO

/// Label-smoothed cross-entropy on the class logits: the supervised baseline (`kind: supervised`).
///
/// With `mixup` or `cutmix` above 0 each batch is first mixed with ``Mixup`` (timm's batch mode,
/// as VideoMAE fine-tunes: `mixup: 0.8`, `cutmix: 1.0`), drawing from the batch's generator (``BatchStreams``)
/// before the forward pass, and the loss is the soft-target cross-entropy against the mixed,
/// `label_smoothing`-smoothed targets. The training top-1 is then not reported, as in VideoMAE
/// (`class_acc` is None with mixup): the logits belong to mixed clips, which have no single label.
public final class SupervisedObjective: TrainingObjective {
    /// The `objective` section of a supervised recipe.
    public struct Settings: RecipeSection {
        /// Label smoothing of the cross-entropy (TIME's baseline: 0.2; VideoMAE: 0.1), also of
        /// the mixed targets.
        public var labelSmoothing = 0.2
        /// Weight of the term (`weights.cls`).
        public var classificationWeight = 1.0
        /// Mixup's Beta parameter (`mixup`; VideoMAE: 0.8); 0 turns mixup off.
        public var mixupAlpha = 0.0
        /// CutMix's Beta parameter (`cutmix`; VideoMAE: 1.0); 0 turns CutMix off.
        public var cutmixAlpha = 0.0
        /// Chance that a batch is mixed when mixup or CutMix is on (`mixup_prob`).
        public var mixupProbability = 1.0
        /// Chance of CutMix rather than mixup when both are on (`mixup_switch_prob`).
        public var mixupSwitchProbability = 0.5

        /// The reference settings (no mixing).
        public init() {}

        /// `label_smoothing`, `weights.cls`, `mixup`, `cutmix`, `mixup_prob`, `mixup_switch_prob`.
        public static var fields: [RecipeField<Self>] {
            [.double("label_smoothing", \.labelSmoothing, .fraction),
             .section("weights", [.double("cls", \.classificationWeight, .nonNegative)]),
             .double("mixup", \.mixupAlpha, .nonNegative), .double("cutmix", \.cutmixAlpha, .nonNegative),
             .double("mixup_prob", \.mixupProbability, .unitInterval),
             .double("mixup_switch_prob", \.mixupSwitchProbability, .unitInterval)]
        }

        /// The mixing these settings ask for, or nil when both alphas are 0.
        ///
        /// - Throws: ``TransformError`` for values ``Mixup`` refuses (a recipe's are checked on reading).
        public func mixup() throws(TransformError) -> Mixup? {
            guard mixupAlpha > 0 || cutmixAlpha > 0 else { return nil }
            return try Mixup(mixupAlpha: mixupAlpha, cutmixAlpha: cutmixAlpha, probability: mixupProbability,
                             switchProbability: mixupSwitchProbability, labelSmoothing: labelSmoothing)
        }
    }

    /// The registry entry.
    public static let registration = Objectives.Registration(
        kind: "supervised", summary: "label-smoothed cross-entropy (the baseline), optionally with mixup / CutMix",
        settings: Settings.self
    ) { settings, _, _ in try SupervisedObjective(settings) }

    /// The settings in use.
    public let settings: Settings
    /// The batch mixing, when on.
    public let mixup: Mixup?

    /// Creates the objective.
    ///
    /// - Throws: ``TransformError`` when the mixing settings are out of range.
    public init(_ settings: Settings) throws {
        self.settings = settings
        self.mixup = try settings.mixup()
    }

    /// The term `cls` (weighted) and, without mixing, the logits.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        let weight = Float(settings.classificationWeight)
        guard let mixup else {
            let logits = model.backbone(batch.clips)
            let loss = crossEntropy(logits: logits, labels: batch.labels, labelSmoothing: Float(settings.labelSmoothing))
            return ObjectiveOutput(terms: LossTerms([("cls", loss * weight)]), logits: logits)
        }
        let (_, h, w) = try Mixup.dimensions(batch.clips)
        let draw = mixup.sample(height: h, width: w, using: &generator)
        let logits = model.backbone(try mixup.mix(batch.clips, draw))
        let targets = try mixup.targets(labels: batch.labels, classCount: logits.shape[1], lambda: draw.lambda)
        let loss = softTargetCrossEntropy(logits: logits, targets: targets)
        return ObjectiveOutput(terms: LossTerms([("cls", loss * weight)]))
    }
}

import TemporalSSL
import TensorCore

/// Label-smoothed cross-entropy on the class logits: the supervised baseline (`kind: supervised`).
public final class SupervisedObjective: TrainingObjective {
    /// The `objective` section of a supervised recipe.
    public struct Settings: RecipeSection {
        /// Label smoothing of the cross-entropy (TIME's baseline: 0.2).
        public var labelSmoothing = 0.2
        /// Weight of the term (`weights.cls`).
        public var classificationWeight = 1.0

        /// The reference settings.
        public init() {}

        /// `label_smoothing`, `weights.cls`.
        public static var fields: [RecipeField<Self>] {
            [.double("label_smoothing", \.labelSmoothing, .fraction),
             .section("weights", [.double("cls", \.classificationWeight, .nonNegative)])]
        }
    }

    /// The registry entry.
    public static let registration = Objectives.Registration(
        kind: "supervised", summary: "label-smoothed cross-entropy (the baseline)", settings: Settings.self
    ) { settings, _, _ in SupervisedObjective(settings) }

    /// The settings in use.
    public let settings: Settings

    /// Creates the objective.
    public init(_ settings: Settings) {
        self.settings = settings
    }

    /// The term `cls` (weighted) and the logits.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        let logits = model.backbone(batch.clips)
        let loss = crossEntropy(logits: logits, labels: batch.labels, labelSmoothing: Float(settings.labelSmoothing))
        return ObjectiveOutput(terms: LossTerms([("cls", loss * Float(settings.classificationWeight))]), logits: logits)
    }
}

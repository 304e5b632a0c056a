import TemporalSSL
import TensorCore
import VideoTransformers

/// TIME (`kind: time`): classification, frame order, debiasing and flow direction, through
/// ``TIMEObjective/step(clips:labels:flowLabels:using:forward:classify:)`` (`reference/TIME.md`
/// §1.0–1.4). Needs a ``TokenBackbone``; asks the loader for flow-direction labels.
public final class TIMETrainingObjective: TrainingObjective {
    /// The `objective` section of a TIME recipe.
    public struct Settings: RecipeSection {
        /// How TIME's heads start.
        public enum HeadInit: String, Sendable, CaseIterable {
            /// As TIME's code does for the backbone: truncated normal (std 0.02, zero bias; LayerNorm
            /// 1/0) with TimeSformer and Motionformer (`reference/TIME.md` §2.1–2.2), PyTorch's
            /// default with X-ViT (§2.3) and with backbones TIME does not cover.
            case reference
            /// Truncated normal std 0.02, zero bias, LayerNorm 1/0.
            case truncNormal = "trunc_normal"
            /// PyTorch's default `Linear` initialisation.
            case pytorch
        }
        /// Label smoothing of the classification, order and flow terms (reference: 0.2).
        public var labelSmoothing = 0.2
        /// `weights.cls`.
        public var classificationWeight = 1.0
        /// `weights.order`.
        public var orderWeight = 1.0
        /// `weights.debias`.
        public var debiasWeight = 1.0
        /// `weights.flow`.
        public var flowWeight = 1.0
        /// How the heads start (`head_init`).
        public var headInit: HeadInit = .reference

        /// The reference settings.
        public init() {}

        /// `label_smoothing`, `weights.{cls, order, debias, flow}`, `head_init`.
        public static var fields: [RecipeField<Self>] {
            [.double("label_smoothing", \.labelSmoothing, .fraction),
             .section("weights", [
                .double("cls", \.classificationWeight, .nonNegative), .double("order", \.orderWeight, .nonNegative),
                .double("debias", \.debiasWeight, .nonNegative), .double("flow", \.flowWeight, .nonNegative),
             ]),
             .choice("head_init", \.headInit)]
        }
    }

    /// The registry entry.
    public static let registration = Objectives.Registration(
        kind: "time", summary: "TIME: classification + frame order + debias + flow direction", settings: Settings.self
    ) { settings, context, generator in try TIMETrainingObjective(settings, context: context, using: &generator) }

    /// TIME's heads and loss.
    public let time: TIMEObjective
    /// The flow-direction labels the loader computes.
    public let flowDirections: LoaderExtra

    /// Creates TIME's heads for the context's backbone (PyTorch's default initialisation from
    /// `generator`).
    ///
    /// - Throws: ``ObjectiveError/needsTokens(objective:backbone:)`` for a backbone without tokens.
    public init(_ settings: Settings, context: ObjectiveContext, using generator: inout RandomGenerator) throws {
        let backbone = try context.tokenBackbone(for: "time")
        // Frame order needs two frames to order, flow directions a frame pair (TIME.md §1.1, §1.3).
        guard context.frames >= 2 else {
            throw ObjectiveError.unsupportedInput(objective: "time", reason: "data.frames is \(context.frames); TIME needs at least 2")
        }
        var c = TIMEObjective.Configuration(embedDim: backbone.embedDim, frameCount: context.frames)
        c.labelSmoothing = Float(settings.labelSmoothing)
        c.classificationWeight = Float(settings.classificationWeight)
        c.orderWeight = Float(settings.orderWeight)
        c.debiasWeight = Float(settings.debiasWeight)
        c.flowWeight = Float(settings.flowWeight)
        time = TIMEObjective(c, using: &generator)
        let family = Backbones.variants[context.backboneName]?.family
        let truncNormal = settings.headInit == .truncNormal
            || settings.headInit == .reference && (family == "timesformer" || family == "motionformer")
        if truncNormal { Init.truncatedNormalLinears(in: time, using: &generator) }
        flowDirections = .flowDirections(patchSize: backbone.patchSize)
    }

    /// `temp_head.*`, `mlp_q.*`, …, `flow_head.*`.
    public var heads: Module? { time }

    /// Flow-direction labels.
    public var loaderExtras: [LoaderExtra] { [flowDirections] }

    /// The terms `cls`, `order`, `debias`, `flow` and the original clips' logits.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        guard let backbone = model.tokenBackbone else {
            throw ObjectiveError.needsTokens(objective: "time", backbone: "\(type(of: model.backbone))")
        }
        let (terms, logits) = time.step(
            clips: batch.clips, labels: batch.labels, flowLabels: try batch.values(of: flowDirections),
            using: &generator, forward: backbone.logitsAndTokens, classify: { backbone($0) })
        return ObjectiveOutput(terms: terms, logits: logits)
    }
}

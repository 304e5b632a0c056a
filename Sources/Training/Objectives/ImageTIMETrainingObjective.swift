import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// TIME on images (`kind: image_time`): classification, patch order and background debiasing,
/// through ``ImageTIMEObjective/step(images:labels:backgrounds:forward:classify:)``
/// (`reference/TIME.md` §1.7). Needs a ``TokenBackbone``; with `weights.debias` above 0 every
/// training item needs a background-only companion (`path label background` lists).
///
/// The loader decodes each image with its background appended (``DataLoaderConfiguration/decodesCompanions``)
/// and the recipe's training transform runs once over the pair, so both get the same crop, scale
/// and flip: the two differ only by the foreground, which is what the debias term is about — an
/// independent crop would also teach the model to tell crops apart. The objective's view
/// transform then splits the pair into the batch's images and ``TrainingBatch/views```[1]`.
public final class ImageTIMETrainingObjective: TrainingObjective {
    /// The `objective` section of an image TIME recipe.
    public struct Settings: RecipeSection {
        /// Label smoothing of the classification and order terms (video TIME's 0.2).
        public var labelSmoothing = 0.2
        /// `weights.cls`.
        public var classificationWeight = 1.0
        /// `weights.order`: the patch-order term.
        public var orderWeight = 1.0
        /// `weights.debias`: the background-debias term; 0 also stops the background pass.
        public var debiasWeight = 1.0
        /// How the patch head starts (`head_init`; `reference` is PyTorch's default for the ViT).
        public var headInit: TIMETrainingObjective.Settings.HeadInit = .reference

        /// Every weight 1, smoothing 0.2.
        public init() {}

        /// `label_smoothing`, `weights.{cls, order, debias}`, `head_init`.
        public static var fields: [RecipeField<Self>] {
            [.double("label_smoothing", \.labelSmoothing, .fraction),
             .section("weights", [
                .double("cls", \.classificationWeight, .nonNegative), .double("order", \.orderWeight, .nonNegative),
                .double("debias", \.debiasWeight, .nonNegative),
             ]),
             .choice("head_init", \.headInit)]
        }
    }

    /// The registry entry.
    public static let registration = Objectives.Registration(
        kind: "image_time", summary: "TIME on images: classification + patch order + background debias",
        settings: Settings.self
    ) { settings, context, generator in try ImageTIMETrainingObjective(settings, context: context, using: &generator) }

    /// The head and loss.
    public let time: ImageTIMEObjective
    /// Whether the background pass runs (`weights.debias` above 0).
    public let usesBackgrounds: Bool
    private let pairTransform: DataLoader.ViewTransform?

    /// Creates the patch head for the context's backbone and crop.
    ///
    /// - Throws: ``ObjectiveError/needsTokens(objective:backbone:)`` for a backbone without tokens,
    ///   or ``TransformError`` when the recipe's training transform is invalid.
    public init(_ settings: Settings, context: ObjectiveContext, using generator: inout RandomGenerator) throws {
        let backbone = try context.tokenBackbone(for: "image_time")
        let grid = context.crop / backbone.patchSize
        guard grid * grid > 1 else {
            throw ObjectiveError.unsupportedInput(objective: "image_time",
                                                  reason: "data.crop \(context.crop) gives one patch; patch order needs two")
        }
        time = ImageTIMEObjective(ImageTIMEObjective.Configuration(
            embedDim: backbone.embedDim, patchCount: grid * grid, classificationWeight: Float(settings.classificationWeight),
            orderWeight: Float(settings.orderWeight), debiasWeight: Float(settings.debiasWeight),
            labelSmoothing: Float(settings.labelSmoothing)), using: &generator)
        if settings.headInit == .truncNormal { Init.truncatedNormalLinears(in: time, using: &generator) }
        usesBackgrounds = settings.debiasWeight > 0
        guard usesBackgrounds else { pairTransform = nil; return }
        let transform = try ClipPipeline.training(context.data)
        pairTransform = { window, generator in
            // The window is the image's frames followed by its background's (same count).
            var pair = window
            try transform(&pair, &generator)
            let t = pair.shape[0] / 2
            return [pair.indexSelect(axis: 0, indices: Array(0..<t)),
                    pair.indexSelect(axis: 0, indices: Array(t..<(2 * t)))]
        }
    }

    /// `patch_head.*`.
    public var heads: Module? { time }

    /// The image and its background through one transform, when debiasing.
    public var views: DataLoader.ViewTransform? { pairTransform }

    /// Backgrounds are decoded beside the images when debiasing.
    public var decodesCompanions: Bool { usesBackgrounds }

    /// The terms `cls`, `order` and (when debiasing) `debias`, and the images' logits.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        guard let backbone = model.tokenBackbone else {
            throw ObjectiveError.needsTokens(objective: "image_time", backbone: "\(type(of: model.backbone))")
        }
        var backgrounds: Tensor?
        if usesBackgrounds {
            guard batch.views.count == 2 else { throw ObjectiveError.missingExtra("background views") }
            backgrounds = batch.views[1]
        }
        let (terms, logits) = time.step(images: batch.clips, labels: batch.labels, backgrounds: backgrounds,
                                        forward: backbone.logitsAndTokens, classify: { backbone($0) })
        return ObjectiveOutput(terms: terms, logits: logits)
    }
}

import Foundation
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// IIC (`kind: iic`): inter-intra contrastive learning with memory banks
/// (`reference/SVT-VideoMS-IIC.md` §3).
///
/// Each RGB clip `x` (values in `[0, 1]`: the recipe must normalise with mean 0 and std 1, as IIC
/// does not normalise) gives three inputs: `x` itself (view 1), its second view (view 2: the scaled
/// residual clip with `modality: res`) and its intra-negative (`neg: repeat` or `shuffle`, drawn
/// per sample from the run's generator). They go through the backbone in **three separate forward
/// passes** in training mode, in that order, so a BatchNorm backbone normalises each with its own
/// batch statistics and updates its running statistics three times per step, as the reference
/// does. Their class embeddings (the 512-wide pooled feature of the 3D CNNs) are scored against
/// ``ContrastiveMemory``'s banks with `nce_k` noise rows per anchor, and the loss is the sum of
/// the two anchors' cross-entropies to the positive column (terms `view1`, `view2`). After the
/// scores the banks move toward the new features; they are buffers under `contrast.*`
/// (`memory_l`, `memory_ab`, `memory_neg`, `params`, the reference's names), so checkpoints
/// hold them and a resumed run continues exactly. The intra-negative's feature only moves
/// `memory_neg` (the reference uses it under `no_grad`), so its pass runs under ``noGrad(_:)``;
/// gradients reach the backbone through views 1 and 2.
///
/// - `modality: rgb` is the reference's degenerate mode: view 2 is view 1's feature (no second
///   pass), so both anchors use the same RGB feature.
/// - `intra_neg: false` is the baseline without intra-negatives (`NCEAverage_ori`): no third pass
///   and no `memory_neg`.
/// - `softmax: false` scores with the reference's NCE probabilities and `NCECriterion`.
///
/// The banks need every sample's dataset index: the trainer passes the loader's item indices in
/// ``TrainingBatch/itemIndices``, and the bank size is the training list's length.
///
/// `modality: u` and `v` use optical flow computed here from the clip's own frames with this
/// package's Farneback (``ClipTransforms/flowViews(_:bound:parameters:)``), on the main thread;
/// the reference reads TV-L1 flow extracted beforehand, with crops independent of the RGB crop.
public final class IICTrainingObjective: TrainingObjective {
    /// The second view.
    public enum Modality: String, Sendable, CaseIterable {
        /// The scaled residual clip `((x − roll(x, 1)) + 1)/2`.
        case res
        /// The RGB feature itself (the reference's degenerate baseline).
        case rgb
        /// The horizontal optical-flow component as a clip (``ClipTransforms/flowViews(_:bound:parameters:)``:
        /// Farneback flow of the clip's own frames, not the reference's TV-L1 files).
        case u
        /// The vertical optical-flow component.
        case v
    }

    /// The `objective` section of an IIC recipe.
    public struct Settings: RecipeSection {
        /// The second view (reference default `res`; `u`/`v`: Farneback flow, see the type's notes).
        public var modality: Modality = .res
        /// How intra-negatives are made (reference default `repeat`).
        public var neg: IntraNegative = .repeat
        /// Whether intra-negatives are used (reference default true).
        public var intraNeg = true
        /// Noise rows per anchor, `K`.
        public var nceK = 1024
        /// Temperature τ.
        public var nceT = 0.07
        /// Memory momentum `m`.
        public var nceM = 0.5
        /// Softmax cross-entropy (true, the reference default) or NCE with a fixed normaliser.
        public var softmax = true

        /// The reference settings.
        public init() {}

        /// `modality`, `neg`, `intra_neg`, `nce_k`, `nce_t`, `nce_m`, `softmax`.
        public static var fields: [RecipeField<Self>] {
            [.choice("modality", \.modality), .choice("neg", \.neg), .bool("intra_neg", \.intraNeg),
             .int("nce_k", \.nceK, minimum: 1, maximum: 1 << 20), .double("nce_t", \.nceT, .positive),
             .double("nce_m", \.nceM, .unitInterval), .bool("softmax", \.softmax)]
        }
    }

    /// The registry entry; the backbone is built without a classifier.
    public static let registration = Objectives.Registration(
        kind: "iic", summary: "IIC: inter-intra contrastive learning with memory banks (residual view, intra-negatives)",
        settings: Settings.self, usesClassifier: false
    ) { settings, context, generator in try IICTrainingObjective(settings, context: context, using: &generator) }

    /// The settings.
    public let settings: Settings
    /// The memory banks and scores (keys `contrast.*`).
    public let memory: ContrastiveMemory
    private let parts: Parts

    /// Builds the banks for the context's training videos, initialised from `generator`.
    ///
    /// - Throws: ``ObjectiveError/unsupportedInput(objective:reason:)`` when the run normalises its
    ///   clips, has no training videos, or has a frame count `neg: shuffle` cannot split in four.
    public init(_ settings: Settings, context: ObjectiveContext, using generator: inout RandomGenerator) throws {
        guard context.data.mean == [0, 0, 0] && context.data.std == [1, 1, 1] else {
            throw ObjectiveError.unsupportedInput(
                objective: "iic", reason: "IIC's clips are not normalised: set data.mean [0, 0, 0] and data.std [1, 1, 1] "
                    + "(got \(context.data.mean) and \(context.data.std)); the residual view assumes values in [0, 1]")
        }
        guard context.data.input == .rgb else {
            throw ObjectiveError.unsupportedInput(
                objective: "iic", reason: "data.input must be rgb: IIC makes its residual view itself (got \(context.data.input.rawValue))")
        }
        guard context.trainingItems > 0 else {
            throw ObjectiveError.unsupportedInput(objective: "iic", reason: "the memory banks need the training list's size (got no videos)")
        }
        if settings.intraNeg && settings.neg == .shuffle && (context.frames % 4 != 0) {
            throw ObjectiveError.unsupportedInput(
                objective: "iic", reason: "neg: shuffle swaps four equal chunks; data.frames \(context.frames) is not a multiple of 4")
        }
        if (settings.modality == .u || settings.modality == .v) && context.frames < 2 {
            throw ObjectiveError.unsupportedInput(objective: "iic", reason: "modality \(settings.modality.rawValue) needs clips of at least 2 frames")
        }
        self.settings = settings
        memory = ContrastiveMemory(
            dim: context.backbone.embedDim, dataCount: context.trainingItems, noiseCount: settings.nceK,
            temperature: Float(settings.nceT), momentum: Float(settings.nceM), intraNegatives: settings.intraNeg,
            useSoftmax: settings.softmax, using: &generator)
        parts = Parts(contrast: memory)
    }

    /// `contrast.params`, `contrast.memory_l`, `contrast.memory_ab`, `contrast.memory_neg`.
    public var heads: Module? { parts }

    /// The terms `view1` (anchor RGB) and `view2` (anchor second view).
    ///
    /// - Throws: ``ObjectiveError/unsupportedInput(objective:reason:)`` when the batch lacks its
    ///   item indices or an index is outside the banks; ``TransformError`` for clips the
    ///   intra-negative cannot use.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        let clips = batch.clips
        let b = clips.shape[0]
        guard batch.itemIndices.count == b else {
            throw ObjectiveError.unsupportedInput(
                objective: "iic", reason: "the batch carries \(batch.itemIndices.count) dataset indices for \(b) clips")
        }
        if let bad = batch.itemIndices.first(where: { $0 < 0 || $0 >= memory.dataCount }) {
            throw ObjectiveError.unsupportedInput(
                objective: "iic", reason: "dataset index \(bad) is outside the \(memory.dataCount) memory rows")
        }
        let backbone = model.backbone
        // Three passes, in the reference's order: RGB, view 2, intra-negative.
        let f1 = backbone.classEmbedding(clips)
        let f2: Tensor
        switch settings.modality {
        case .res: f2 = backbone.classEmbedding(try ClipTransforms.residual(clips, scaling: .scaled))
        case .rgb: f2 = f1
        case .u: f2 = backbone.classEmbedding(try ClipTransforms.flowViews(clips).u)
        case .v: f2 = backbone.classEmbedding(try ClipTransforms.flowViews(clips).v)
        }
        // The intra-negative's feature only moves memory_neg (under no_grad in the reference), so
        // its pass records nothing for backward; it still runs in training mode.
        let negatives = settings.intraNeg ? try ClipTransforms.intraNegative(clips, kind: settings.neg, using: &generator) : nil
        let fn = negatives.map { clip in noGrad { backbone.classEmbedding(clip) } }
        let rows = memory.sampleRows(for: batch.itemIndices, using: &generator)
        let scores = memory.scores(view1: f1, view2: f2, rows: rows)
        memory.update(indices: batch.itemIndices, view1: f1, view2: f2, negatives: fn)
        let loss = memory.loss(view1: scores.view1, view2: scores.view2)
        return ObjectiveOutput(terms: LossTerms([("view1", loss.view1), ("view2", loss.view2)]))
    }

    /// The banks under the key `contrast`, as the reference's training checkpoint names them.
    final class Parts: Module {
        let contrast: ContrastiveMemory
        init(contrast: ContrastiveMemory) {
            self.contrast = contrast
            super.init()
        }
    }
}

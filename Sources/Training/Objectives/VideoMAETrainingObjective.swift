import Foundation
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// VideoMAE and VideoMS pre-training (`kind: videomae`): mask most tokens of each clip, encode the
/// visible ones only, and reconstruct the pixels of the masked ones (`reference/SVT-VideoMS-IIC.md`
/// §2.2–2.4, §2.9).
///
/// - `masking: tube` (VideoMAE): one random set of cells per clip, masked in every time slot; all
///   masked tokens are reconstructed.
/// - `masking: random`: masked tokens drawn independently.
/// - `masking: motion_centric` (VideoMS): the tokens whose patch embeddings change most between
///   adjacent time slots are candidates, the rest are dropped; a random part of the candidates is
///   visible, the others are reconstructed.
///
/// The targets are the clip's pixels per tubelet, standardised per channel (`normalize_target`),
/// and the loss is their mean squared error. The backbone must be a ``VideoMAEViT``; the decoder
/// side (`encoder_to_decoder`, `mask_token`, `decoder.*`) is the objective's heads. With
/// `reconstructions_every: N` the run folder gets `reconstructions/epoch-E.png` every N epochs:
/// original, masked and reconstructed frames of the first clip of the epoch.
public final class VideoMAETrainingObjective: TrainingObjective {
    /// The masking rules.
    public enum Masking: String, Sendable, CaseIterable {
        /// VideoMAE's tube masking.
        case tube
        /// Independent token masking.
        case random
        /// VideoMS's motion-centric token selection.
        case motionCentric = "motion_centric"
    }

    /// The `objective` section of a VideoMAE or VideoMS recipe.
    public struct Settings: RecipeSection {
        /// The masking rule.
        public var masking: Masking = .tube
        /// Masked share of the tokens (VideoMAE 0.75 or 0.9; VideoMS 0.9).
        public var maskRatio = 0.9
        /// VideoMS: the share of tokens dropped before the visible/target split (0.7).
        public var motionCentricRatio = 0.7
        /// Standardise each tubelet's pixels per channel (the reference default).
        public var normalizeTarget = true
        /// Write reconstruction PNGs every this many epochs (0: never).
        public var reconstructionsEvery = 0

        /// The reference settings.
        public init() {}

        /// `masking`, `mask_ratio`, `motion_centric_ratio`, `normalize_target`, `reconstructions_every`.
        public static var fields: [RecipeField<Self>] {
            [.choice("masking", \.masking), .double("mask_ratio", \.maskRatio, .fraction),
             .double("motion_centric_ratio", \.motionCentricRatio, .fraction),
             .bool("normalize_target", \.normalizeTarget),
             .int("reconstructions_every", \.reconstructionsEvery, minimum: 0)]
        }
    }

    /// The registry entry: no classifier, the encoder normalises every token (`use_mean_pooling: false`).
    public static let registration = Objectives.Registration(
        kind: "videomae", summary: "VideoMAE / VideoMS: masked video modeling (tube, random or motion-centric masking)",
        settings: Settings.self, usesClassifier: false, backboneDefaults: ["use_mean_pooling": .string("false")]
    ) { settings, context, generator in try VideoMAETrainingObjective(settings, context: context, using: &generator) }

    /// The settings.
    public let settings: Settings
    /// The decoder side.
    public let decoder: VideoMAEDecoder
    /// The encoder's configuration.
    public let config: VideoMAEConfig
    let mean: [Float], std: [Float]
    let outputDirectory: String?
    private var lastReconstructionEpoch = -1

    /// Builds the decoder for the context's ``VideoMAEViT``.
    ///
    /// - Throws: ``ObjectiveError/unsupportedInput(objective:reason:)`` for another backbone or clips
    ///   that do not fit it, or masking that leaves nothing to see or to reconstruct.
    public init(_ settings: Settings, context: ObjectiveContext, using generator: inout RandomGenerator) throws {
        guard let vit = context.backbone as? VideoMAEViT else {
            throw ObjectiveError.unsupportedInput(
                objective: "videomae", reason: "backbone '\(context.backboneName)' is not a VideoMAE ViT (videomae_* variants)")
        }
        let c = vit.config
        guard context.frames == c.numFrames, context.crop == c.imgSize else {
            throw ObjectiveError.unsupportedInput(
                objective: "videomae",
                reason: "data.frames \(context.frames) and data.crop \(context.crop) must equal the model's num_frames \(c.numFrames) and img_size \(c.imgSize)")
        }
        guard vit.norm != nil else {
            throw ObjectiveError.unsupportedInput(objective: "videomae", reason: "pre-training needs use_mean_pooling: false")
        }
        let n = c.tokenCount, cells = c.gridSize * c.gridSize, slots = c.numFrames / c.tubeletSize
        let visible: Int, reconstructed: Int
        switch settings.masking {
        case .tube:
            let maskedCells = TokenMasking.count(settings.maskRatio, of: cells)
            (visible, reconstructed) = (slots * (cells - maskedCells), slots * maskedCells)
        case .random:
            let masked = TokenMasking.count(settings.maskRatio, of: n)
            (visible, reconstructed) = (n - masked, masked)
        case .motionCentric:
            let keep = TokenMasking.count(1 - settings.motionCentricRatio, of: n)
            visible = min(TokenMasking.count(1 - settings.maskRatio, of: n), keep)
            reconstructed = keep - visible
        }
        guard visible > 0, reconstructed > 0 else {
            throw ObjectiveError.unsupportedInput(
                objective: "videomae", reason: "masking leaves \(visible) visible and \(reconstructed) reconstructed tokens of \(n); both must be positive")
        }
        self.settings = settings
        config = c
        decoder = VideoMAEDecoder(c, using: &generator)
        mean = context.data.mean.map(Float.init)
        std = context.data.std.map(Float.init)
        outputDirectory = context.outputDirectory
    }

    /// `encoder_to_decoder.weight`, `mask_token`, `decoder.*`.
    public var heads: Module? { decoder }

    /// The masks of one batch of clips `[B, T, 3, H, W]` through `backbone`; motion-centric
    /// selection scores `embeddings` (the clips' patch embeddings, computed here when nil).
    public func selections(
        for clips: Tensor, backbone: VideoMAEViT, embeddings: Tensor? = nil, using generator: inout RandomGenerator
    ) -> [TokenSelection] {
        let b = clips.shape[0], cells = config.gridSize * config.gridSize, slots = config.numFrames / config.tubeletSize
        switch settings.masking {
        case .tube: return TokenMasking.tube(batch: b, slots: slots, cells: cells, ratio: settings.maskRatio, using: &generator)
        case .random: return TokenMasking.random(batch: b, tokens: slots * cells, ratio: settings.maskRatio, using: &generator)
        case .motionCentric:
            let scored = (embeddings?.detached() ?? noGrad { backbone.patchEmbeddings(clips) })
                .reshaped([b, slots, cells, config.embedDim])
            return TokenMasking.motionCentric(
                importance: VideoMAEViT.motionImportance(scored), maskRatio: settings.maskRatio,
                motionRatio: settings.motionCentricRatio, using: &generator)
        }
    }

    /// The term `reconstruction`.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        guard let vit = model.backbone as? VideoMAEViT else {
            throw ObjectiveError.unsupportedInput(objective: "videomae", reason: "the backbone is not a VideoMAE ViT")
        }
        // The tubelet projection runs once; motion-centric selection scores it (detached) first.
        let embeddings = vit.patchEmbeddings(batch.clips)
        let selection = selections(for: batch.clips, backbone: vit, embeddings: embeddings, using: &generator)
        let (visible, targets) = (selection.map(\.visible), selection.map(\.targets))
        let encoded = vit.encode(batch.clips, visible: visible, embeddings: embeddings)
        let prediction = decoder(encoded, visible: visible, targets: targets)
        let pixels = PixelTargets.targets(batch.clips, mean: mean, std: std, tubelet: config.tubeletSize,
                                          patch: config.patchSize, normalize: settings.normalizeTarget)
        let target = gatherTokens(pixels, targets)
        let loss = (prediction - target).squared().mean()
        if settings.reconstructionsEvery > 0, batch.epoch % settings.reconstructionsEvery == 0,
           batch.epoch != lastReconstructionEpoch, let outputDirectory {
            lastReconstructionEpoch = batch.epoch
            try writeReconstruction(clips: batch.clips, selection: selection[0], prediction: prediction,
                                    to: outputDirectory + "/reconstructions/epoch-\(batch.epoch).png")
        }
        return ObjectiveOutput(terms: LossTerms([("reconstruction", loss)]))
    }

    /// Original, masked and reconstructed frames (the first frame of every tubelet) of the first
    /// clip, one row each; reconstructed tubelets un-standardised with the original's statistics.
    func writeReconstruction(clips: Tensor, selection: TokenSelection, prediction: Tensor, to path: String) throws {
        let (t, h, w) = (clips.shape[1], clips.shape[3], clips.shape[4])
        let (p, tub, gw) = (config.patchSize, config.tubeletSize, w / config.patchSize)
        let cells = (h / p) * gw
        let first = clips.slice(axis: 0, range: 0..<1)
        let original = PixelTargets.targets(first, mean: mean, std: std, tubelet: tub, patch: p, normalize: false)
        let predicted = prediction.detached().slice(axis: 0, range: 0..<1).scalars
        let width = 3 * tub * p * p
        var masked = original.scalars, rebuilt = original.scalars
        let targetRow = Dictionary(uniqueKeysWithValues: selection.targets.enumerated().map { ($1, $0) })
        let visible = Set(selection.visible)
        for token in 0..<(t / tub) * cells where !visible.contains(token) {
            let base = token * width
            for i in 0..<width { masked[base + i] = 0.5 }
            guard let row = targetRow[token] else { continue }
            for c in 0..<3 {
                let values = (0..<(tub * p * p)).map { original.scalars[base + $0 * 3 + c] }
                let m = values.reduce(0, +) / Float(values.count)
                let sd = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(max(values.count - 1, 1))).squareRoot() + 1e-6
                for i in 0..<(tub * p * p) {
                    let v = predicted[row * width + i * 3 + c]
                    rebuilt[base + i * 3 + c] = settings.normalizeTarget ? v * sd + m : v
                }
            }
        }
        // Rows of frames: original, masked, reconstructed; columns: the first frame of each tubelet.
        let slots = t / tub
        var image = [UInt8](repeating: 255, count: 3 * h * slots * w * 3)
        for (r, tokens) in [original.scalars, masked, rebuilt].enumerated() {
            for slot in 0..<slots {
                for y in 0..<h {
                    for x in 0..<w {
                        let token = slot * cells + (y / p) * gw + x / p
                        let pixel = (y % p) * p + x % p  // frame 0 of the tubelet
                        for c in 0..<3 {
                            let v = tokens[token * width + pixel * 3 + c]
                            image[((r * h + y) * slots * w + slot * w + x) * 3 + c] = UInt8(max(0, min(255, (v * 255).rounded())))
                        }
                    }
                }
            }
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try PNGEncoder.encodeRGB(width: slots * w, height: 3 * h, pixels: image).write(to: URL(fileURLWithPath: path))
    }
}

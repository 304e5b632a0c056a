import TensorCore

/// TIME on images: classification plus patch order and background debiasing
/// (`reference/TIME.md` §1.7, with the losses of §1.1–1.2).
///
/// L = w_cls·LSCE(p, y) + w_order·L_order + w_debias·L_debias, where `p` are the class logits of
/// the images, L_order the ``PatchOrderHead`` loss on their final patch tokens and L_debias the
/// ``BackgroundDebiasLoss`` on the class logits of the matching background-only images. Label
/// smoothing (0.2, as in video TIME) applies to the classification and order terms, never to
/// debias. Setting a weight to 0 gives the paper's ablation rows (+order, +debias, +both).
///
/// The head's parameters sit at the top level under `patch_head.*`, beside the backbone's keys.
public final class ImageTIMEObjective: Module, Objective {
    /// Weights and smoothing of the image TIME loss.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Width `C` of the patch tokens.
        public var embedDim: Int
        /// Patch positions per image `N` (the grid's rows times columns).
        public var patchCount: Int
        /// Weight of the classification term `cls`.
        public var classificationWeight: Float
        /// Weight of the patch-order term `order`.
        public var orderWeight: Float
        /// Weight of the background-debias term `debias`.
        public var debiasWeight: Float
        /// Label smoothing of the classification and order terms (0.2, as in video TIME).
        public var labelSmoothing: Float

        /// Creates a configuration; by default every weight is 1 and the smoothing 0.2.
        public init(embedDim: Int, patchCount: Int, classificationWeight: Float = 1, orderWeight: Float = 1,
                    debiasWeight: Float = 1, labelSmoothing: Float = 0.2) {
            (self.embedDim, self.patchCount) = (embedDim, patchCount)
            (self.classificationWeight, self.orderWeight, self.debiasWeight) = (classificationWeight, orderWeight, debiasWeight)
            self.labelSmoothing = labelSmoothing
        }
    }

    /// What image TIME needs for one training step.
    public struct Inputs {
        /// Class logits `[B, K]` of the images.
        public var classLogits: Tensor
        /// Class labels, one per image.
        public var labels: [Int]
        /// Final patch tokens `[B, T, N, C]` of the images (`T = 1` for images; no class token).
        public var tokens: Tensor
        /// Class logits `[B, K]` of the background-only images, or nil to leave out `debias`.
        public var backgroundClassLogits: Tensor?

        /// Bundles the inputs of one step.
        public init(classLogits: Tensor, labels: [Int], tokens: Tensor, backgroundClassLogits: Tensor?) {
            self.classLogits = classLogits
            self.labels = labels
            self.tokens = tokens
            self.backgroundClassLogits = backgroundClassLogits
        }
    }

    /// The weights and smoothing in use.
    public let configuration: Configuration
    /// The patch-order head (`patch_head`).
    public let patchOrder: PatchOrderHead
    /// The background-debias loss.
    public let debias = BackgroundDebiasLoss()

    /// Creates the head with PyTorch's default initialisation.
    public init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.configuration = configuration
        patchOrder = PatchOrderHead(embedDim: configuration.embedDim, patchCount: configuration.patchCount,
                                    using: &generator)
    }

    /// The head's layer appears directly under this module: `patch_head.weight`.
    public override func namedChildren() -> [(String, Module)] {
        [("", patchOrder)]
    }

    /// The terms `cls`, `order` and (with background logits) `debias`, each weighted.
    public func lossTerms(_ inputs: Inputs) -> LossTerms {
        let c = configuration
        let logits = inputs.classLogits, tokens = inputs.tokens
        precondition(logits.rank == 2 && logits.shape[0] == inputs.labels.count,
                     "ImageTIMEObjective: class logits \(logits.shape) do not match \(inputs.labels.count) labels")
        precondition(tokens.rank == 4 && tokens.shape[0] == logits.shape[0] && tokens.shape[3] == c.embedDim,
                     "ImageTIMEObjective: tokens must be [B, T, N, \(c.embedDim)] with B = \(logits.shape[0]), got \(tokens.shape)")
        var terms: [(name: String, value: Tensor)] = [
            ("cls", crossEntropy(logits: logits, labels: inputs.labels, labelSmoothing: c.labelSmoothing)
                * c.classificationWeight),
            ("order", PatchOrderHead.loss(patchOrder(tokens), labelSmoothing: c.labelSmoothing) * c.orderWeight),
        ]
        if let background = inputs.backgroundClassLogits {
            precondition(background.rank == 2 && background.shape[1] == logits.shape[1],
                         "ImageTIMEObjective: background logits \(background.shape) do not match class logits \(logits.shape)")
            terms.append(("debias", debias(background) * c.debiasWeight))
        }
        return LossTerms(terms)
    }

    /// Image TIME's whole training step for any model, given as two closures.
    ///
    /// 1. `forward(images)` gives the class logits `[B, K]` and patch tokens `[B, T, N, C]`;
    /// 2. `classify(backgrounds)` gives the background-only images' class logits (skipped when
    ///    `backgrounds` is nil);
    /// 3. ``lossTerms(_:)`` turns both into the weighted terms.
    ///
    /// Both forwards run in training mode with the same weights, as video TIME's two passes do.
    ///
    /// ```swift
    /// let (terms, logits) = imageTIME.step(images: x, labels: y, backgrounds: xBackground,
    ///                                      forward: { model.logitsAndTokens($0) }, classify: { model($0) })
    /// terms.total.backward()
    /// ```
    public func step(
        images: Tensor, labels: [Int], backgrounds: Tensor?,
        forward: (Tensor) -> (logits: Tensor, tokens: Tensor), classify: (Tensor) -> Tensor
    ) -> (terms: LossTerms, logits: Tensor) {
        precondition(images.rank == 5, "ImageTIMEObjective.step: images \(images.shape) must be [B, T, 3, H, W]")
        if let backgrounds {
            precondition(backgrounds.shape == images.shape,
                         "ImageTIMEObjective.step: backgrounds \(backgrounds.shape) differ from images \(images.shape)")
        }
        let (logits, tokens) = forward(images)
        let background = backgrounds.map(classify)
        let terms = lossTerms(Inputs(classLogits: logits, labels: labels, tokens: tokens,
                                     backgroundClassLogits: background))
        return (terms, logits)
    }
}

import TensorCore

/// TIME: classification plus three temporal self-supervision terms (`reference/TIME.md` §1.0–1.4).
///
/// L = w_cls·LSCE(p, y) + w_order·L_order + w_debias·L_debias + w_flow·L_flow, where `p` are the
/// class logits of the original clip, L_order the frame-order loss on its patch tokens, L_debias
/// the uniform-target loss on the class logits of the frame-shuffled clip, and L_flow the
/// flow-direction loss. The reference uses weight 1 for every term and label smoothing 0.2 for
/// the classification, order and flow terms (none for debias).
///
/// The heads' parameters carry the reference names at the top level (`temp_head.*`, `mlp_q.*`,
/// `mlp_k.*`, `mlp_v.*`, `mlp_proj.*`, `mlp_norm.*`, `flow_head.*`), so the TIME heads of a released
/// checkpoint load directly.
public final class TIMEObjective: Module, Objective {
    /// Weights and smoothing of the TIME loss.
    public struct Configuration: Sendable, Hashable, Codable {
        /// Width `C` of the patch tokens.
        public var embedDim: Int
        /// Frames per clip `T`.
        public var frameCount: Int
        /// Weight of the classification term (1 in the reference).
        public var classificationWeight: Float = 1
        /// Weight of the frame-order term (1 in the reference).
        public var orderWeight: Float = 1
        /// Weight of the debiasing term (1 in the reference).
        public var debiasWeight: Float = 1
        /// Weight of the flow-direction term (1 in the reference).
        public var flowWeight: Float = 1
        /// Label smoothing of the classification, order and flow terms (0.2 in the reference).
        public var labelSmoothing: Float = 0.2

        /// Creates a configuration with the reference weights and smoothing.
        public init(embedDim: Int, frameCount: Int) {
            self.embedDim = embedDim
            self.frameCount = frameCount
        }
    }

    /// What TIME needs for one training step.
    public struct Inputs {
        /// Class logits `[B, K]` of the original clips.
        public var classLogits: Tensor
        /// Class labels, one per clip.
        public var labels: [Int]
        /// Final patch tokens `[B, T, N, C]` of the original clips (no class token).
        public var tokens: Tensor
        /// Class logits `[B, K]` of the frame-shuffled clips.
        public var shuffledClassLogits: Tensor
        /// Flow-direction labels `[B, T−1, N]` with values in 0…8.
        public var flowLabels: IntTensor

        /// Bundles the inputs of one step.
        public init(classLogits: Tensor, labels: [Int], tokens: Tensor, shuffledClassLogits: Tensor,
                    flowLabels: IntTensor) {
            self.classLogits = classLogits
            self.labels = labels
            self.tokens = tokens
            self.shuffledClassLogits = shuffledClassLogits
            self.flowLabels = flowLabels
        }
    }

    /// The weights and smoothing in use.
    public let configuration: Configuration
    /// The frame-order head (`temp_head`).
    public let frameOrder: FrameOrderHead
    /// The flow-direction head (`mlp_q`, `mlp_k`, `mlp_v`, `mlp_proj`, `mlp_norm`, `flow_head`).
    public let flowDirection: FlowDirectionHead
    /// The debiasing loss.
    public let debias = DebiasLoss()

    /// Creates the TIME heads with PyTorch's default initialisation.
    public init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        self.configuration = configuration
        frameOrder = FrameOrderHead(embedDim: configuration.embedDim, frameCount: configuration.frameCount,
                                    using: &generator)
        flowDirection = FlowDirectionHead(embedDim: configuration.embedDim, using: &generator)
    }

    /// The heads' layers appear directly under this module, as in the reference model, so keys are
    /// `temp_head.weight`, `mlp_q.weight`, … rather than `frame_order.temp_head.weight` (both heads
    /// are flattened children, key segment `""`).
    public override func namedChildren() -> [(String, Module)] {
        [("", frameOrder), ("", flowDirection)]
    }

    /// The terms `cls`, `order`, `debias`, `flow` (each weighted) for one step.
    public func lossTerms(_ inputs: Inputs) -> LossTerms {
        let c = configuration
        let logits = inputs.classLogits, shuffled = inputs.shuffledClassLogits, tokens = inputs.tokens
        precondition(logits.rank == 2 && logits.shape[0] == inputs.labels.count,
                     "TIMEObjective: class logits \(logits.shape) do not match \(inputs.labels.count) labels")
        precondition(shuffled.shape == logits.shape,
                     "TIMEObjective: shuffled-clip logits \(shuffled.shape) differ from class logits \(logits.shape)")
        precondition(tokens.rank == 4 && tokens.shape[0] == logits.shape[0] && tokens.shape[3] == c.embedDim,
                     "TIMEObjective: tokens must be [B, T, N, \(c.embedDim)] with B = \(logits.shape[0]), got \(tokens.shape)")
        let classification = crossEntropy(logits: logits, labels: inputs.labels, labelSmoothing: c.labelSmoothing)
        let order = FrameOrderHead.loss(frameOrder(tokens), labelSmoothing: c.labelSmoothing)
        let debiasing = debias(shuffled)
        let flow = FlowDirectionHead.loss(flowDirection(tokens), labels: inputs.flowLabels,
                                          labelSmoothing: c.labelSmoothing)
        return LossTerms([
            ("cls", classification * c.classificationWeight),
            ("order", order * c.orderWeight),
            ("debias", debiasing * c.debiasWeight),
            ("flow", flow * c.flowWeight),
        ])
    }
}

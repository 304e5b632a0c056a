import Foundation
import TensorCore

/// TIME's token-level flow-direction head (`reference/TIME.md` §1.3).
///
/// For every pair of consecutive frames, each patch token of frame t+1 attends (single head, full
/// width, scale C^-1/2) over the patch tokens of frame t; the result goes through `mlp_proj`,
/// `mlp_norm` and `flow_head` to 9 logits: static, or one of eight 45° motion directions.
public final class FlowDirectionHead: Module {
    /// Query projection applied to frame t+1 tokens, key `mlp_q`.
    public let mlpQ: Linear
    /// Key projection applied to frame t tokens, key `mlp_k`.
    public let mlpK: Linear
    /// Value projection applied to frame t tokens, key `mlp_v`.
    public let mlpV: Linear
    /// Output projection, key `mlp_proj`.
    public let mlpProj: Linear
    /// LayerNorm (ε 1e-6) after the projection, key `mlp_norm`.
    public let mlpNorm: LayerNorm
    /// Linear(C → 9) classifier, key `flow_head`.
    public let flowHead: Linear

    /// The number of flow classes: static plus eight directions.
    public static let classCount = 9

    /// Creates the head for `embedDim`-wide tokens with PyTorch's default initialisation.
    public init(embedDim: Int, using generator: inout RandomGenerator) {
        precondition(embedDim > 0, "FlowDirectionHead: embedDim \(embedDim) must be positive")
        mlpQ = Linear(inFeatures: embedDim, outFeatures: embedDim, using: &generator)
        mlpK = Linear(inFeatures: embedDim, outFeatures: embedDim, using: &generator)
        mlpV = Linear(inFeatures: embedDim, outFeatures: embedDim, using: &generator)
        mlpProj = Linear(inFeatures: embedDim, outFeatures: embedDim, using: &generator)
        mlpNorm = LayerNorm(embedDim, epsilon: 1e-6)
        flowHead = Linear(inFeatures: embedDim, outFeatures: FlowDirectionHead.classCount, using: &generator)
    }

    /// Flow logits `[B, T−1, N, 9]` from patch tokens `[B, T, N, C]`; row (b, t, n) belongs to
    /// token n of frame t+1 and the flow from frame t to frame t+1.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        TIMEShapes.checkTokens(tokens, op: "FlowDirectionHead", frames: nil)
        let (t, c) = (tokens.shape[1], tokens.shape[3])
        let previous = tokens.slice(axis: 1, range: 0..<(t - 1))
        let next = tokens.slice(axis: 1, range: 1..<t)
        let attended = Tensor.scaledDotProductAttention(
            query: mlpQ(next), key: mlpK(previous), value: mlpV(previous),
            scale: 1 / Float(c).squareRoot())
        return flowHead(mlpNorm(mlpProj(attended)))
    }

    /// Label-smoothed cross-entropy over all `B·(T−1)·N` tokens, for logits `[B, T−1, N, 9]` and
    /// labels `[B, T−1, N]` with values in 0…8.
    public static func loss(_ logits: Tensor, labels: IntTensor, labelSmoothing: Float) -> Tensor {
        precondition(logits.rank == 4 && logits.shape[3] == classCount,
                     "FlowDirectionHead.loss: logits must be [B, T-1, N, \(classCount)], got \(logits.shape)")
        precondition(labels.shape == Array(logits.shape.prefix(3)),
                     "FlowDirectionHead.loss: labels \(labels.shape) do not match logits \(logits.shape) (expected \(Array(logits.shape.prefix(3))))")
        if let bad = labels.scalars.first(where: { $0 < 0 || $0 >= classCount }) {
            preconditionFailure("FlowDirectionHead.loss: label \(bad) outside 0..<\(classCount)")
        }
        return crossEntropy(logits: logits.reshaped([-1, classCount]), labels: labels.scalars,
                            labelSmoothing: labelSmoothing)
    }
}

/// Shape rules shared by the TIME heads.
enum TIMEShapes {
    static func checkTokens(_ tokens: Tensor, op: String, frames: Int?) {
        precondition(tokens.rank == 4, "\(op): tokens must be [B, T, N, C], got \(tokens.shape)")
        precondition(tokens.shape[1] >= 2, "\(op): at least two frames are needed, got tokens \(tokens.shape)")
        if let frames {
            precondition(tokens.shape[1] == frames,
                         "\(op): head built for T = \(frames) frames, got tokens \(tokens.shape)")
        }
    }
}

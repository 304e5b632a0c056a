import TensorCore

/// VideoMAE's pre-training decoder side (the parts beside the encoder in `PretrainVisionTransformer`):
/// `encoder_to_decoder`, `mask_token` and `decoder.{blocks, norm, head}`, with its own fixed
/// position table.
public final class VideoMAEDecoder: Module {
    /// Encoder width → decoder width, no bias.
    public let encoderToDecoder: Linear
    /// The learned token put at every reconstructed position `[1, 1, D]`.
    public let maskToken: Parameter
    /// `decoder.*`.
    public let decoder: Stack

    /// The decoder's blocks, norm and pixel head.
    public final class Stack: Module {
        /// Blocks.
        public let blocks: [Block]
        /// Final norm.
        public let norm: LayerNorm
        /// Pixel head `D → 3·tubelet·patch²`.
        public let head: Linear

        init(_ config: VideoMAEConfig, using generator: inout RandomGenerator) {
            let d = config.decoderEmbedDim
            blocks = videoMAEBlocks(dim: d, depth: config.decoderDepth, heads: config.decoderNumHeads,
                                    mlpRatio: config.mlpRatio, dropPathRate: 0, epsilon: config.layerNormEpsilon,
                                    using: &generator)
            norm = LayerNorm(d, epsilon: config.layerNormEpsilon)
            head = Linear(inFeatures: d, outFeatures: config.pixelsPerToken, using: &generator)
            super.init()
        }
    }

    /// The fixed decoder position table `[N, D]`.
    public let positions: Tensor

    /// Xavier-uniform linears, zero biases, `mask_token` truncated-normal std 0.02.
    public init(_ config: VideoMAEConfig, using generator: inout RandomGenerator) {
        encoderToDecoder = Linear(inFeatures: config.embedDim, outFeatures: config.decoderEmbedDim, bias: false,
                                  using: &generator)
        maskToken = Parameter(Tensor.truncatedNormal([1, 1, config.decoderEmbedDim], std: 0.02, using: &generator))
        decoder = Stack(config, using: &generator)
        positions = sinusoidPositionTable(positions: config.tokenCount, width: config.decoderEmbedDim)
        super.init()
        xavierLinears(in: self, using: &generator)
    }

    /// Pixel predictions `[B, n_t, 3·t·p²]` for the positions `targets[b]` (ascending), from the
    /// encoder's outputs `[B, n_v, C]` at the positions `visible[b]` (ascending).
    public func callAsFunction(_ encoded: Tensor, visible: [[Int]], targets: [[Int]]) -> Tensor {
        let b = encoded.shape[0], d = maskToken.shape[2]
        let table = positions.unsqueezed(axis: 0).broadcast(to: [b, positions.shape[0], d])
        let visiblePart = encoderToDecoder(encoded) + gatherTokens(table, visible)
        let targetPositions = gatherTokens(table, targets)
        let maskPart = maskToken.value + targetPositions
        var x = Tensor.concat([visiblePart, maskPart], axis: 1)
        let layout = TokenLayout(frames: 1, gridHeight: 1, gridWidth: x.shape[1], classTokens: 0)
        for block in decoder.blocks { x = block(x, layout: layout) }
        let n = targetPositions.shape[1]
        return decoder.head(decoder.norm(x.slice(axis: 1, range: (x.shape[1] - n)..<x.shape[1])))
    }
}

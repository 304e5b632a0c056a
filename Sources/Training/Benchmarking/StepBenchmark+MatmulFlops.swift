import TemporalSSL
import VideoTransformers

extension StepBenchmark {
    /// FLOPs (2·M·K·N per product) of the matrix products of one step, per clip: the forward pass
    /// for inference, three times it for training (backward computes two products per forward
    /// product), and for TIME two backbone forwards plus the heads, times three.
    ///
    /// Element-wise work (norms, softmax, GELU) is not counted, so the GFLOP/s derived from this
    /// measures how much of the step runs at matrix-product speed.
    public func matmulFlopsPerClip(_ mode: Mode) -> Double {
        // Families added to the registry later count as zero until a formula is written for them.
        let forward = Self.forwardMatmulFlops(family: family, config: config) ?? 0
        switch mode {
        case .inference: return forward
        case .train: return 3 * forward
        case .trainWithTIME: return 3 * (2 * forward + Self.timeHeadsMatmulFlops(config))
        }
    }

    /// Matrix-product FLOPs of one clip's forward pass (backbone and classifier) at the
    /// configured frame count and crop, or `nil` for a family without a formula.
    ///
    /// Counts every Linear layer, the patch-embedding convolution as a product, and both products
    /// of every attention (queries·keys and weights·values). Motionformer counts the key half of
    /// `proj_kv` only, the part that reaches the output (`TrajectoryAttention`).
    public static func forwardMatmulFlops(family: String, config: TransformerConfig) -> Double? {
        let c = Double(config.embedDim), t = Double(config.numFrames)
        let n = Double(config.gridSize * config.gridSize), hidden = Double(config.mlpHidden)
        let p = Double(config.patchSize)
        let patch = 2 * t * n * 3 * p * p * c
        let head = 2 * c * Double(config.numClasses)
        let depth = Double(config.depth)
        /// One pre-norm ViT block over `sequences` sequences of `length` tokens.
        func vitBlock(sequences s: Double, length l: Double) -> Double {
            2 * s * l * c * 3 * c + 2 * 2 * s * l * l * c + 2 * s * l * c * c + 2 * 2 * s * l * c * hidden
        }
        switch family {
        case "timesformer":
            let temporal = 2 * t * n * c * 3 * c + 2 * 2 * t * n * c * c + 2 * 2 * n * t * t * c
            let spatial = 2 * t * (n + 1) * c * 3 * c + 2 * t * (n + 1) * c * c + 2 * 2 * t * (n + 1) * (n + 1) * c
            let mlp = 2 * 2 * (t * n + 1) * c * hidden
            return patch + depth * (temporal + spatial + mlp) + head
        case "motionformer":
            let (l, s) = (1 + t * n, t * n)
            let block = 2 * l * c * 3 * c      // qkv
                + 2 * 2 * l * c                 // class token over every key
                + 2 * 2 * s * s * c             // space step: every query against every frame's patches
                + 2 * s * c * c                 // proj_q on the own-frame trajectories
                + 2 * s * t * c * c             // key half of proj_kv on all trajectories
                + 2 * 2 * s * t * c             // time step over the T trajectories of each query
                + 2 * l * c * c                 // proj
                + 2 * 2 * l * c * hidden        // MLP
            return patch + depth * block + 2 * l * c * c + head  // pre_logits acts on every token
        case "xvit":
            let consensus = vitBlock(sequences: 1, length: t + 1) + 2 * c * c
            return patch + depth * vitBlock(sequences: t, length: n + 1) + consensus + head
        case "vit":
            return patch + depth * vitBlock(sequences: t, length: n + 1) + head
        default:
            return nil
        }
    }

    /// Matrix-product FLOPs of TIME's heads on one clip's tokens: `temp_head` on the T frame
    /// means, and the flow head's q/k/v projections, single-head attention of each frame's
    /// patches over the previous frame's, `mlp_proj` and `flow_head` on the (T−1)·N tokens.
    public static func timeHeadsMatmulFlops(_ config: TransformerConfig) -> Double {
        let c = Double(config.embedDim), t = Double(config.numFrames)
        let n = Double(config.gridSize * config.gridSize)
        let order = 2 * t * c * t
        let pairs = (t - 1) * n
        let flow = 4 * 2 * pairs * c * c + 2 * 2 * (t - 1) * n * n * c
            + 2 * pairs * c * Double(FlowDirectionHead.classCount)
        return order + flow
    }
}

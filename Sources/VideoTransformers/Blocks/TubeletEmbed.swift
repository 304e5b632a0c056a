import TensorCore

/// Splits a clip into non-overlapping `t × p × p` tubelets and projects each to `C` channels, as
/// VideoMAE's `PatchEmbed` (a Conv3d with kernel = stride = `(t, p, p)`; `reference/
/// SVT-VideoMS-IIC.md` §2.2). State-dict keys: `proj.weight` `[C, 3, t, p, p]`, `proj.bias` `[C]`.
///
/// A convolution whose kernel equals its stride is one matrix product over the flattened
/// tubelets, which is how it is computed here: each tubelet is gathered in the Conv3d weight's
/// `(channel, time, row, column)` order and multiplied by the weight viewed as `[C, 3·t·p·p]`.
public final class TubeletEmbed: Module {
    /// The projection, as PyTorch's Conv3d holds it.
    public let proj: Projection
    /// Frames per tubelet `t`.
    public let tubeletSize: Int
    /// The side of a square patch `p` in pixels.
    public let patchSize: Int

    /// The Conv3d parameters (`weight` `[C, inChannels, t, p, p]`, `bias` `[C]`).
    public final class Projection: Module {
        /// The kernel.
        public let weight: Parameter
        /// The bias.
        public let bias: Parameter

        init(weight: Parameter, bias: Parameter) {
            self.weight = weight
            self.bias = bias
        }
    }

    /// Creates the layer with PyTorch's default Conv3d initialisation (weight and bias uniform in
    /// `±1/√(inChannels·t·p·p)`), drawn from `generator` (weight first).
    public init(tubeletSize: Int, patchSize: Int, embedDim: Int, inChannels: Int = 3,
                using generator: inout RandomGenerator) {
        precondition(tubeletSize > 0 && patchSize > 0 && embedDim > 0 && inChannels > 0,
                     "TubeletEmbed: tubelet \(tubeletSize), patch \(patchSize), width \(embedDim) and channels \(inChannels) must be positive")
        let weight = Parameter(Tensor(zeros: [embedDim, inChannels, tubeletSize, patchSize, patchSize]))
        let bias = Parameter(Tensor(zeros: [embedDim]))
        Init.pytorchDefault(weight: weight, bias: bias, using: &generator)
        proj = Projection(weight: weight, bias: bias)
        self.tubeletSize = tubeletSize
        self.patchSize = patchSize
        super.init()
    }

    /// Tubelet tokens `[B, T/t, N, C]` of a clip `[B, T, 3, H, W]`, token `n = row · (W/p) + col`.
    ///
    /// - Precondition: `T` is a multiple of `t`, `H` and `W` of `p`, and the channels match.
    public func callAsFunction(_ clip: Tensor) -> Tensor {
        let (t, p) = (tubeletSize, patchSize)
        let w = proj.weight.value
        let channels = w.shape[1]
        precondition(clip.rank == 5 && clip.shape[2] == channels && clip.shape[1] % t == 0
                     && clip.shape[3] % p == 0 && clip.shape[4] % p == 0 && clip.shape[1] > 0,
                     "TubeletEmbed: clip \(clip.shape) must be [B, T, \(channels), H, W] with T a multiple of \(t) and H, W multiples of \(p)")
        let (b, frames, h, width) = (clip.shape[0], clip.shape[1], clip.shape[3], clip.shape[4])
        let (tt, gh, gw) = (frames / t, h / p, width / p)
        // [B, T', t, ch, gh, p, gw, p] → [B, T', gh, gw, ch, t, p, p]: one row per tubelet in the
        // kernel's (channel, time, row, column) order.
        let rows = clip.reshaped([b, tt, t, channels, gh, p, gw, p])
            .permuted([0, 1, 4, 6, 3, 2, 5, 7])
            .reshaped([b * tt * gh * gw, channels * t * p * p])
        let out = Tensor.linear(rows, weight: w.reshaped([w.shape[0], channels * t * p * p]), bias: proj.bias.value)
        return out.reshaped([b, tt, gh * gw, w.shape[0]])
    }
}

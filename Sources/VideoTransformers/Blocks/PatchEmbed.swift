import TensorCore

/// Splits each image into non-overlapping square patches and projects each to `C` channels, as
/// timm's `PatchEmbed` (a Conv2d with kernel = stride = patch size). State-dict key: `proj`.
///
/// Video backbones apply it frame by frame (2-D patches, no tubelets, as TIME configures all three).
public final class PatchEmbed: Module {
    /// The patch projection, Conv2d(3 → C, kernel and stride = patch size).
    public let proj: Conv2d
    /// The side of a square patch in pixels.
    public let patchSize: Int

    /// Creates the layer for `inChannels`-channel images (PyTorch default initialisation).
    public init(patchSize: Int, embedDim: Int, inChannels: Int = 3, using generator: inout RandomGenerator) {
        proj = Conv2d(inChannels: inChannels, outChannels: embedDim, kernelSize: patchSize, stride: patchSize,
                      using: &generator)
        self.patchSize = patchSize
        super.init()
    }

    /// Patch tokens `[M, N, C]` of images `[M, 3, H, W]`, patch `n = row · gridWidth + col`, and the
    /// patch grid size.
    ///
    /// - Precondition: `H` and `W` are multiples of the patch size.
    public func callAsFunction(_ images: Tensor) -> (tokens: Tensor, gridHeight: Int, gridWidth: Int) {
        let p = patchSize
        precondition(images.rank == 4 && images.shape[2] % p == 0 && images.shape[3] % p == 0,
                     "PatchEmbed: images \(images.shape) must be [M, C, H, W] with H and W multiples of \(p)")
        let maps = proj(images)
        let (m, c, gh, gw) = (maps.shape[0], maps.shape[1], maps.shape[2], maps.shape[3])
        return (maps.reshaped([m, c, gh * gw]).transposed(1, 2), gh, gw)
    }
}

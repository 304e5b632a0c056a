import TensorCore

/// How a token sequence `[B, L, C]` is laid out over space and time, for token mixers that need
/// to know which token belongs to which frame and patch (trajectory or channel-shift attention).
///
/// Tokens follow TIME's "t n" order: `classTokens` leading class tokens, then the patches of frame
/// 0 row by row, then those of frame 1, and so on, so `L = classTokens + frames · gridHeight · gridWidth`.
/// Sequences that hold a single frame (spatial attention, image ViT) use `frames == 1`.
public struct TokenLayout: Sendable, Hashable {
    /// The number of frames whose patches are in the sequence.
    public var frames: Int
    /// Patch rows per frame.
    public var gridHeight: Int
    /// Patch columns per frame.
    public var gridWidth: Int
    /// Leading class tokens (0 or 1 in the current backbones).
    public var classTokens: Int

    /// Creates a layout.
    public init(frames: Int, gridHeight: Int, gridWidth: Int, classTokens: Int) {
        precondition(frames > 0 && gridHeight > 0 && gridWidth > 0 && classTokens >= 0,
                     "TokenLayout: frames \(frames), grid \(gridHeight)×\(gridWidth), class tokens \(classTokens) must be positive")
        self.frames = frames
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.classTokens = classTokens
    }

    /// Patches per frame, `gridHeight · gridWidth`.
    public var patchesPerFrame: Int { gridHeight * gridWidth }

    /// The sequence length `classTokens + frames · patchesPerFrame`.
    public var length: Int { classTokens + frames * patchesPerFrame }
}

/// The attention slot of a transformer ``Block``: maps tokens `[B, L, C]` to `[B, L, C]`.
///
/// A new backbone is mostly a new conformer (plain ``Attention``, trajectory attention, space-time
/// mixing) plugged into the shared block; the layout is there for mixers that are not
/// permutation-invariant over the sequence.
public protocol TokenMixer: Module {
    /// Mixes the tokens of `x` (`[B, L, C]`, laid out as `layout` says).
    func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor
}

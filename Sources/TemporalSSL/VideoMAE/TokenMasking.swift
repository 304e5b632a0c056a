import TensorCore

/// Which tokens of one clip the encoder sees and which the decoder reconstructs, in ascending
/// token order (`t'·cells + cell`).
public struct TokenSelection: Sendable, Hashable {
    /// Tokens the encoder sees.
    public var visible: [Int]
    /// Tokens the decoder reconstructs (the loss is taken over these).
    public var targets: [Int]

    /// Bundles the two lists (sorted here).
    public init(visible: [Int], targets: [Int]) {
        self.visible = visible.sorted()
        self.targets = targets.sorted()
    }
}

/// The masking rules of VideoMAE and VideoMS (`reference/SVT-VideoMS-IIC.md` §2.3, §2.9). Counts
/// truncate as Python's `int()` does on the Double product (`int(0.9 · 16) = 14`).
public enum TokenMasking {
    /// VideoMAE's tube masking: per sample one random set of `⌊ratio·cells⌋` spatial cells (the
    /// first entries of `permutation(cells)`), masked in every one of the `slots` time slots; the
    /// decoder reconstructs every masked token.
    public static func tube(
        batch: Int, slots: Int, cells: Int, ratio: Double, using generator: inout RandomGenerator
    ) -> [TokenSelection] {
        let masked = count(ratio, of: cells)
        return (0..<batch).map { _ in
            let cellsMasked = Set(generator.permutation(cells).prefix(masked))
            var visible: [Int] = [], targets: [Int] = []
            for t in 0..<slots {
                for c in 0..<cells { if cellsMasked.contains(c) { targets.append(t * cells + c) } else { visible.append(t * cells + c) } }
            }
            return TokenSelection(visible: visible, targets: targets)
        }
    }

    /// Random masking of `⌊ratio·tokens⌋` tokens per sample (the first entries of
    /// `permutation(tokens)`), each reconstructed.
    public static func random(batch: Int, tokens: Int, ratio: Double, using generator: inout RandomGenerator)
        -> [TokenSelection]
    {
        let masked = count(ratio, of: tokens)
        return (0..<batch).map { _ in
            let p = generator.permutation(tokens)
            return TokenSelection(visible: Array(p[masked...]), targets: Array(p[..<masked]))
        }
    }

    /// VideoMS's motion-centric selection: the `⌊(1 − motionRatio)·N⌋` tokens of highest
    /// importance (ties to the lower index) are candidates and the rest are dropped entirely; a
    /// random permutation of the candidates gives `⌊(1 − maskRatio)·N⌋` visible tokens and the
    /// other candidates as targets.
    public static func motionCentric(
        importance: [[Float]], maskRatio: Double, motionRatio: Double, using generator: inout RandomGenerator
    ) -> [TokenSelection] {
        importance.map { scores in
            let n = scores.count
            let keep = count(1 - motionRatio, of: n), visibleCount = min(count(1 - maskRatio, of: n), keep)
            let candidates = scores.indices.sorted { scores[$0] > scores[$1] || scores[$0] == scores[$1] && $0 < $1 }
                .prefix(keep)
            let order = generator.permutation(keep).map { candidates[candidates.startIndex + $0] }
            return TokenSelection(visible: Array(order[..<visibleCount]), targets: Array(order[visibleCount...]))
        }
    }

    /// `int(ratio · n)` as Python computes it.
    public static func count(_ ratio: Double, of n: Int) -> Int { max(0, min(n, Int(ratio * Double(n)))) }
}

/// VideoMAE's reconstruction targets (`engine_for_pretraining`): the clip's pixels back in
/// `[0, 1]`, cut into tubelets, and, with `normalize`, each tubelet's channel standardised over its
/// `tubelet·patch²` pixels (`(x − mean) / (√unbiased var + 1e-6)`).
public enum PixelTargets {
    /// Targets `[B, N, 3·t·p²]` of a normalised clip `[B, T, 3, H, W]`; token `t'·(H/p)(W/p) + row·(W/p) + col`,
    /// values ordered `(frame, row, column, channel)` with the channel fastest.
    public static func targets(
        _ clip: Tensor, mean: [Float], std: [Float], tubelet: Int, patch: Int, normalize: Bool = true
    ) -> Tensor {
        precondition(clip.rank == 5 && clip.shape[2] == 3 && clip.shape[1] % tubelet == 0
                     && clip.shape[3] % patch == 0 && clip.shape[4] % patch == 0,
                     "PixelTargets: clip \(clip.shape) does not tile into \(tubelet)×\(patch)×\(patch) tubelets")
        let (b, t, h, w) = (clip.shape[0], clip.shape[1], clip.shape[3], clip.shape[4])
        let (slots, gh, gw) = (t / tubelet, h / patch, w / patch)
        let pixels = tubelet * patch * patch, width = 3 * pixels
        let tokens = slots * gh * gw
        let x = clip.scalars
        return Tensor(shape: [b, tokens, width]) { out in
            var channel = [Float](repeating: 0, count: pixels)
            for s in 0..<b {
                for token in 0..<tokens {
                    let (slot, cell) = (token / (gh * gw), token % (gh * gw))
                    let (gy, gx) = (cell / gw, cell % gw)
                    let base = (s * tokens + token) * width
                    for c in 0..<3 {
                        var k = 0
                        for f in 0..<tubelet {
                            for y in 0..<patch {
                                for xx in 0..<patch {
                                    let frame = slot * tubelet + f
                                    let v = x[(((s * t + frame) * 3 + c) * h + gy * patch + y) * w + gx * patch + xx]
                                    channel[k] = v * std[c] + mean[c]
                                    k += 1
                                }
                            }
                        }
                        if normalize {
                            var sum = 0.0
                            for v in channel { sum += Double(v) }
                            let m = sum / Double(pixels)
                            var squares = 0.0
                            for v in channel { squares += (Double(v) - m) * (Double(v) - m) }
                            let sd = Float((squares / Double(pixels - 1)).squareRoot()) + 1e-6
                            for i in 0..<pixels { out[base + i * 3 + c] = (channel[i] - Float(m)) / sd }
                        } else {
                            for i in 0..<pixels { out[base + i * 3 + c] = channel[i] }
                        }
                    }
                }
            }
        }
    }
}

import Foundation
import TensorCore

/// Random erasing (Zhong et al. 2017) of a normalised clip, as VideoMAE fine-tunes with it
/// (`random_erasing.py`, applied in `kinetics.py` to the `[T, C, H, W]` clip after cropping,
/// flipping and normalisation): with probability ``probability`` a random rectangle is replaced by
/// noise.
///
/// VideoMAE's copy of timm's `RandomErasing` treats the frames as a batch and, by default
/// (`cube=True`, which `kinetics.py` keeps), erases **the same rectangle in every frame**, with
/// fresh noise per frame: one coin for the clip, up to 100 tries for a rectangle that fits. With
/// ``sameRegionForAllFrames`` false it behaves as timm's original on a batch: each frame has its
/// own coin and rectangle (up to 10 tries each).
///
/// A try draws an area `U(minArea, maxArea) · H · W / count` and an aspect ratio
/// `exp(U(log minAspect, log maxAspect))`, then `h = round(√(area · aspect))`,
/// `w = round(√(area / aspect))` (halves to even, as Python's `round`); it fits when `w < W` and
/// `h < H`, and then takes `top ∈ [0, H − h]` and `left ∈ [0, W − w]`.
///
/// Random draws, from the caller's ``RandomGenerator``, in the reference's order (once for the
/// clip, or per frame without ``sameRegionForAllFrames``):
/// 1. the coin `nextUniformDouble()`; erasing happens unless it exceeds ``probability``;
/// 2. when ``minCount`` < ``maxCount``, the count `minCount + nextInt(below: maxCount − minCount + 1)`;
/// 3. per rectangle, per try: `nextUniformDouble()` for the area, `nextUniformDouble()` for the
///    aspect; for the try that fits `nextInt(below: H − h + 1)` for the top, then
///    `nextInt(below: W − w + 1)` for the left;
/// 4. as soon as a rectangle is found, before the next rectangle's tries, its fill in each erased
///    frame in turn: `nextNormal()` per channel, row and column of the rectangle
///    (``Mode/perPixel``), one per channel (``Mode/perChannel``), none (``Mode/constant``).
public struct RandomErasing: Sendable, Hashable {
    /// What erased pixels become (the reference's `mode`).
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// `const`: zeros (the dataset mean, after normalisation).
        case constant = "const"
        /// `rand`: one standard-normal value per channel for the whole rectangle.
        case perChannel = "rand"
        /// `pixel`: a standard-normal value per pixel and channel (VideoMAE's `--remode pixel`).
        case perPixel = "pixel"
    }

    /// Chance that a clip (or, per frame, a frame) is erased (VideoMAE's `--reprob`, 0.25).
    public let probability: Double
    /// Smallest erased share of the frame area (0.02).
    public let minArea: Double
    /// Largest erased share of the frame area (1/3).
    public let maxArea: Double
    /// Smallest aspect ratio h / w of a rectangle (0.3).
    public let minAspect: Double
    /// Largest aspect ratio (1 / ``minAspect`` by default).
    public let maxAspect: Double
    /// The fill.
    public let mode: Mode
    /// Fewest rectangles per erasure (1).
    public let minCount: Int
    /// Most rectangles per erasure (`--recount`, 1); the area of each is divided by the count drawn.
    public let maxCount: Int
    /// One rectangle for the whole clip (VideoMAE's `cube=True`) or one per frame (timm).
    public let sameRegionForAllFrames: Bool

    /// Creates the transform; the defaults are VideoMAE's fine-tuning settings.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when the
    ///   probability is outside `[0, 1]`, the area range is not `0 < min ≤ max ≤ 1`, the aspect
    ///   range is not `0 < min ≤ max`, or the counts are not `1 ≤ min ≤ max`.
    public init(
        probability: Double = 0.25, minArea: Double = 0.02, maxArea: Double = 1.0 / 3, minAspect: Double = 0.3,
        maxAspect: Double? = nil, mode: Mode = .perPixel, minCount: Int = 1, maxCount: Int? = nil,
        sameRegionForAllFrames: Bool = true
    ) throws(TransformError) {
        func bad(_ name: String, _ value: String, _ requirement: String) -> TransformError {
            .invalidParameter(op: "RandomErasing", name: name, value: value, requirement: requirement)
        }
        guard probability >= 0 && probability <= 1 else {
            throw bad("probability", "\(probability)", "must lie in [0, 1]")
        }
        guard minArea > 0 && minArea <= maxArea && maxArea <= 1 else {
            throw bad("area", "[\(minArea), \(maxArea)]", "need 0 < minArea <= maxArea <= 1")
        }
        let upper = maxAspect ?? 1 / minAspect
        guard minAspect > 0 && minAspect.isFinite && upper >= minAspect && upper.isFinite else {
            throw bad("aspect", "[\(minAspect), \(upper)]", "need 0 < minAspect <= maxAspect, both finite")
        }
        let most = maxCount ?? minCount
        guard minCount >= 1 && most >= minCount else {
            throw bad("count", "[\(minCount), \(most)]", "need 1 <= minCount <= maxCount")
        }
        self.probability = probability
        self.minArea = minArea
        self.maxArea = maxArea
        self.minAspect = minAspect
        self.maxAspect = upper
        self.mode = mode
        self.minCount = minCount
        self.maxCount = most
        self.sameRegionForAllFrames = sameRegionForAllFrames
    }

    /// Erases a clip: the erased copy and, per frame, the rectangles erased in it.
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when the clip is not rank 4.
    public func erasing(
        _ clip: Tensor, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> (clip: Tensor, regions: [[CropRegion]]) {
        let g = try ClipGeometry(clip, layout: layout, op: "RandomErasing")
        var values = clip.scalars
        var regions = [[CropRegion]](repeating: [], count: g.frames)
        if sameRegionForAllFrames {
            erase(g, attempts: 100, using: &generator) { region, generator in
                for f in 0..<g.frames {
                    fill(&values, g, frame: f, region, using: &generator)
                    regions[f].append(region)
                }
            }
        } else {
            for f in 0..<g.frames {
                erase(g, attempts: 10, using: &generator) { region, generator in
                    fill(&values, g, frame: f, region, using: &generator)
                    regions[f].append(region)
                }
            }
        }
        return (Tensor(shape: clip.shape, scalars: values), regions)
    }

    /// Erases a clip (see ``erasing(_:layout:using:)``).
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when the clip is not rank 4.
    public func callAsFunction(
        _ clip: Tensor, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        try erasing(clip, layout: layout, using: &generator).clip
    }

    /// One erasure (`_erase` / `_erase_cube`): the coin, the count, then per rectangle its tries,
    /// each rectangle filled (by `fill`) before the next one is drawn, as the reference does.
    /// A rectangle whose tries all fail is skipped, as the reference gives up silently.
    private func erase(
        _ g: ClipGeometry, attempts: Int, using generator: inout RandomGenerator,
        fill: (CropRegion, inout RandomGenerator) -> Void
    ) {
        // The reference returns when random() > probability, so probability 1 always erases.
        if generator.nextUniformDouble() > probability { return }
        let count = minCount == maxCount ? minCount : minCount + generator.nextInt(below: maxCount - minCount + 1)
        let area = Double(g.height * g.width)
        let logLow = log(minAspect), logHigh = log(maxAspect)
        for _ in 0..<count {
            for _ in 0..<attempts {
                let target = (minArea + (maxArea - minArea) * generator.nextUniformDouble()) * area / Double(count)
                let aspect = exp(logLow + (logHigh - logLow) * generator.nextUniformDouble())
                let h = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
                let w = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
                if w < g.width && h < g.height {
                    let top = generator.nextInt(below: g.height - h + 1)
                    let left = generator.nextInt(below: g.width - w + 1)
                    fill(CropRegion(top: top, left: left, height: h, width: w), &generator)
                    break
                }
            }
        }
    }

    /// Writes the fill of `region` into every channel of `frame`.
    private func fill(_ values: inout [Float], _ g: ClipGeometry, frame: Int, _ region: CropRegion,
                      using generator: inout RandomGenerator) {
        for c in 0..<g.channels {
            let origin = g.origin(frame: frame, channel: c)
            let colour: Float = mode == .perChannel ? generator.nextNormal() : 0
            for y in region.top..<(region.top + region.height) {
                for x in region.left..<(region.left + region.width) {
                    values[origin + y * g.rowStride + x * g.pixelStride] = mode == .perPixel ? generator.nextNormal() : colour
                }
            }
        }
    }
}

import Foundation
import TensorCore

/// SVT's spatiotemporal views of one decoded window (`reference/SVT-VideoMS-IIC.md` §1.3): two
/// global views (large crops of the whole window) and several local views (small crops of a short
/// random stretch), each with its own frame count, crop, flip, colour jitter and grayscale.
///
/// The window `[L, 3, H, W]` (values in `[0, 1]`) is the decoded stretch of video; each view takes
/// `torch.linspace(a, b, n)` frame indices of it (clamped to `[0, L − 1]`, truncated):
/// - global 1 spans `[0, L − 5]`, global 2 spans `[5, L]`;
/// - local `l` spans `[s, s + ⌊L/8⌋]` from a uniform start `s ∈ [0, L − ⌊L/8⌋ − 1]`.
///
/// Spatially each view is a random resized crop (aspect `[3/4, 4/3]`, bicubic, one region for all
/// its frames), a flip with p 0.5, with p 0.8 brightness 0.4 / contrast 0.4 / saturation 0.2 in
/// random order (no hue), grayscale with p 0.2, then normalisation.
///
/// ``Style/reference`` keeps the released code's quirks for exact parity (the crop's last-draw
/// size, BGR luma weights on RGB frames, no clamping); ``Style/clean`` uses torchvision's crop, RGB
/// luma and clamps after each jitter.
///
/// ```swift
/// let views = SVTViews(globalSize: 224, localSize: 96)      // the paper's 8/16 + 2…16 frames
/// let tensors = try views(window, using: &generator)        // 10 views
/// ```
public struct SVTViews: Sendable, Hashable {
    /// How closely the released code's augmentation is followed.
    public enum Style: String, Sendable, Hashable, CaseIterable {
        /// The released code, quirks included (§1.3 notes).
        case reference
        /// The intended augmentation: torchvision's crop, RGB luma, clamped jitter.
        case clean
    }

    /// Frames of global views 1 and 2 (paper: 8 and 16; the released `RAND_FR` code: 4 and 8).
    public var globalFrames: [Int]
    /// Frames of each local view (its count is the number of local views).
    public var localFrames: [Int]
    /// Side of the global crops.
    public var globalSize: Int
    /// Side of the local crops.
    public var localSize: Int
    /// Area fraction of the global crops.
    public var globalScale: ClosedRange<Double>
    /// Area fraction of the local crops.
    public var localScale: ClosedRange<Double>
    /// Quirks or clean augmentation.
    public var style: Style
    /// Per-channel mean subtracted last.
    public var mean: [Float]
    /// Per-channel standard deviation divided by last.
    public var std: [Float]

    /// The paper's setting (globals 8 and 16 frames, locals 2, 2, 4, 4, 8, 8, 16, 16; author in
    /// SVT issue #16) at the given crop sizes, with the released code's quirks.
    public init(
        globalFrames: [Int] = [8, 16], localFrames: [Int] = [2, 2, 4, 4, 8, 8, 16, 16],
        globalSize: Int = 224, localSize: Int = 96,
        globalScale: ClosedRange<Double> = 0.4...1, localScale: ClosedRange<Double> = 0.05...0.4,
        style: Style = .reference,
        mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
    ) {
        self.globalFrames = globalFrames
        self.localFrames = localFrames
        self.globalSize = globalSize
        self.localSize = localSize
        self.globalScale = globalScale
        self.localScale = localScale
        self.style = style
        self.mean = mean
        self.std = std
    }

    /// The released code's cheaper frame counts (`DATA.RAND_FR=True`: globals 4 and 8).
    public static let releasedCodeGlobalFrames = [4, 8]

    /// Number of views: the globals then the locals.
    public var count: Int { globalFrames.count + localFrames.count }

    /// The first problem with these settings, or nil.
    public var problem: String? {
        if globalFrames.count != 2 { return "SVT has exactly 2 global views (got \(globalFrames.count))" }
        if (globalFrames + localFrames).contains(where: { $0 < 1 }) { return "every view needs at least 1 frame" }
        if globalSize < 1 || localSize < 1 { return "crop sizes must be positive" }
        for scale in [globalScale, localScale] where !(scale.lowerBound > 0 && scale.upperBound <= 1) {
            return "crop scale \(scale) must lie in (0, 1]"
        }
        if mean.count != 3 || std.count != 3 || std.contains(where: { !($0 > 0) }) {
            return "mean and std need 3 values, std positive"
        }
        return nil
    }

    /// Everything drawn for one view.
    public struct Plan: Sendable, Hashable {
        /// Indices into the window.
        public var frames: [Int]
        /// The region cut from each frame (after truncation at the edges).
        public var crop: CropRegion
        /// The output side.
        public var size: Int
        /// Whether the view is mirrored.
        public var flip: Bool
        /// The jitter, when applied: the operations in order (0 brightness, 1 contrast,
        /// 2 saturation) and each one's blend factor.
        public var jitter: [(operation: Int, factor: Double)]?
        /// Whether the view is turned gray.
        public var gray: Bool

        public static func == (a: Plan, b: Plan) -> Bool {
            a.frames == b.frames && a.crop == b.crop && a.size == b.size && a.flip == b.flip && a.gray == b.gray
                && a.jitter?.map(\.operation) == b.jitter?.map(\.operation)
                && a.jitter?.map(\.factor) == b.jitter?.map(\.factor)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(frames)
            hasher.combine(crop)
            hasher.combine(flip)
        }
    }

    /// Draws every view's frames, crop, flip, jitter and grayscale for a window of `length` frames
    /// of `height × width`: first each local view's start, then per view (globals, then locals) the
    /// crop, flip, jitter and grayscale draws.
    public func plan(length: Int, height: Int, width: Int, using generator: inout RandomGenerator) -> [Plan] {
        let width8 = length / 8
        var spans: [(Float, Float)] = [(0, Float(length - 5)), (5, Float(length))]
        for _ in localFrames {
            let start = generator.nextInt(below: Swift.max(length - width8 - 1, 0) + 1)
            spans.append((Float(start), Float(start + width8)))
        }
        let frameCounts = globalFrames + localFrames
        var plans: [Plan] = []
        for (v, span) in spans.enumerated() {
            let isGlobal = v < globalFrames.count
            let frames = SVTViews.linspaceIndices(span.0, span.1, count: frameCounts[v], length: length)
            let crop = SVTViews.cropRegion(
                height: height, width: width, scale: isGlobal ? globalScale : localScale,
                lastDraw: style == .reference, using: &generator)
            let flip = generator.nextUniformDouble() < 0.5
            var jitter: [(operation: Int, factor: Double)]?
            if generator.nextUniformDouble() < 0.8 {
                let strengths: [Double] = [0.4, 0.4, 0.2]
                jitter = generator.permutation(3).map { op in
                    let s = strengths[op]
                    return (op, 1 + (-s + 2 * s * generator.nextUniformDouble()))
                }
            }
            let gray = generator.nextUniformDouble() < 0.2
            plans.append(Plan(frames: frames, crop: crop, size: isGlobal ? globalSize : localSize,
                              flip: flip, jitter: jitter, gray: gray))
        }
        return plans
    }

    /// The views of `window` `[L, 3, H, W]` (values in `[0, 1]`), each `[T_v, 3, S_v, S_v]` normalised.
    ///
    /// - Throws: ``TransformError`` when the window is not `[L, 3, H, W]` or the settings are invalid.
    public func callAsFunction(_ window: Tensor, using generator: inout RandomGenerator) throws(TransformError) -> [Tensor] {
        if let problem {
            throw .invalidParameter(op: "SVTViews", name: "settings", value: "\(self)", requirement: problem)
        }
        let g = try ClipGeometry(window, layout: .tchw, op: "SVTViews")
        let plans = plan(length: g.frames, height: g.height, width: g.width, using: &generator)
        return try plans.map { plan throws(TransformError) in try render(plan, from: window) }
    }

    /// One planned view of `window`.
    public func render(_ plan: Plan, from window: Tensor) throws(TransformError) -> Tensor {
        let picked = window.indexSelect(axis: 0, indices: plan.frames)
        let c = plan.crop
        let region = try ClipTransforms.crop(picked, top: c.top, left: c.left, height: c.height, width: c.width)
        var view = try ClipTransforms.resize(region, height: plan.size, width: plan.size, filter: .bicubic)
        if plan.flip { view = try ClipTransforms.horizontalFlip(view) }
        let (t, plane) = (plan.frames.count, plan.size * plan.size)
        let clamp = style == .clean
        let reference = style == .reference
        view.withUnsafeMutableBufferPointer { x in
            func gray(_ f: Int, _ p: Int) -> Float {
                let base = f * 3 * plane + p
                let (c0, c1, c2) = (x[base], x[base + plane], x[base + 2 * plane])
                // The released code's weights are written for BGR frames but applied to RGB ones.
                return reference ? 0.299 * c2 + 0.587 * c1 + 0.114 * c0 : 0.299 * c0 + 0.587 * c1 + 0.114 * c2
            }
            func blend(_ f: Int, _ factor: Double, toward other: (Int) -> Float) {
                // Both weights rounded from Double, as PyTorch scales a Float tensor by a Python float.
                let alpha = Float(factor), beta = Float(1 - factor)
                for p in 0..<plane {
                    let o = other(p) * beta
                    for ch in 0..<3 {
                        let i = (f * 3 + ch) * plane + p
                        let v = x[i] * alpha + o
                        x[i] = clamp ? Swift.min(Swift.max(v, 0), 1) : v
                    }
                }
            }
            for (op, alpha) in plan.jitter ?? [] {
                for f in 0..<t {
                    switch op {
                    case 0: blend(f, alpha) { _ in 0 }
                    case 1:
                        var sum: Float = 0
                        for p in 0..<plane { sum += gray(f, p) }
                        // The mean of the 3-channel gray image equals the mean of its one channel.
                        let m = sum / Float(plane)
                        blend(f, alpha) { _ in m }
                    default:
                        let g = (0..<plane).map { gray(f, $0) }
                        blend(f, alpha) { g[$0] }
                    }
                }
            }
            if plan.gray {
                for f in 0..<t {
                    let g = (0..<plane).map { gray(f, $0) }
                    for ch in 0..<3 { for p in 0..<plane { x[(f * 3 + ch) * plane + p] = g[p] } }
                }
            }
        }
        return try ClipTransforms.normalize(view, mean: mean, std: std)
    }

    /// `torch.linspace(a, b, n)` in Float32 (the first half counted from `a`, the second from `b`),
    /// clamped to `[0, length − 1]` and truncated, as the released `temporal_sampling`.
    public static func linspaceIndices(_ a: Float, _ b: Float, count n: Int, length: Int) -> [Int] {
        guard n > 1 else { return n == 1 ? [clampIndex(a, length)] : [] }
        let step = (b - a) / Float(n - 1)
        let half = n / 2
        return (0..<n).map { i in
            clampIndex(i < half ? a + step * Float(i) : b - step * Float(n - i - 1), length)
        }
    }

    private static func clampIndex(_ v: Float, _ length: Int) -> Int {
        Int(Swift.min(Swift.max(v, 0), Float(length - 1)))
    }

    /// A random resized crop region with aspect ratio in `[3/4, 4/3]`: ten draws of area fraction
    /// and log-aspect; `lastDraw` keeps the released code's loop without `break` (the size of the
    /// tenth draw at the position of the last fitting one, cut short at the edges), otherwise the
    /// first fitting draw is used as torchvision does. Sizes round half to even, as Python's `round`.
    public static func cropRegion(
        height: Int, width: Int, scale: ClosedRange<Double>, lastDraw: Bool, using generator: inout RandomGenerator
    ) -> CropRegion {
        let area = Double(height * width)
        let logLow = Foundation.log(3.0 / 4), logHigh = Foundation.log(4.0 / 3)
        var (w, h, top, left, found) = (0, 0, 0, 0, false)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * generator.nextUniformDouble())
            let aspect = Foundation.exp(logLow + (logHigh - logLow) * generator.nextUniformDouble())
            w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                top = generator.nextInt(below: height - h + 1)
                left = generator.nextInt(below: width - w + 1)
                found = true
                if !lastDraw { break }
            }
        }
        if !found {
            let ratio = Double(width) / Double(height)
            (w, h) = (width, height)
            if ratio < 3.0 / 4 {
                h = Int((Double(w) / (3.0 / 4)).rounded(.toNearestOrEven))
            } else if ratio > 4.0 / 3 {
                w = Int((Double(h) * (4.0 / 3)).rounded(.toNearestOrEven))
            }
            (top, left) = ((height - h) / 2, (width - w) / 2)
        }
        // A slice past the edge stops there (Python slicing); a non-positive size cuts one pixel.
        return CropRegion(top: top, left: left, height: Swift.max(1, Swift.min(h, height - top)),
                          width: Swift.max(1, Swift.min(w, width - left)))
    }
}

import TensorCore

/// TSN's `GroupMultiScaleCrop` as VideoMAE and VideoMS pre-train with it
/// (`reference/SVT-VideoMS-IIC.md` §2.1): one crop of several fixed scales and positions for the
/// whole clip, resized to `size` × `size` without keeping the aspect ratio.
///
/// The crop runs on the frames as decoded (no resize before it):
/// 1. Candidate sides are `Int(shortSide × s)` for each scale `s`; a candidate within 3 pixels of
///    `size` (`|x − size| < 3`) becomes `size`.
/// 2. The crop's (width, height) is one of the candidate pairs whose scale indices differ by at
///    most ``maxDistort`` (10 pairs for four scales and `maxDistort` 1), drawn uniformly.
/// 3. Its top-left corner is one of 13 fixed offsets, drawn uniformly (``offsetGrid``): with
///    `wStep = ⌊(W − w) / 4⌋` and `hStep = ⌊(H − h) / 4⌋`, the corner is `(a · wStep, b · hStep)`.
/// 4. Every frame is cut there with Pillow's `Image.crop` and resized with
///    `Image.resize((size, size), BILINEAR)` (``RGB8Image/resizedBilinear(width:height:)``), which
///    widens its filter when shrinking.
///
/// Random draws, from the caller's ``RandomGenerator``: `nextInt(below: pairs.count)` for the
/// size pair (pairs listed height index outer, width index inner, as the reference builds them),
/// then `nextInt(below: 13)` for the offset. Nothing else is drawn.
///
/// A candidate snapped up to `size` can exceed a frame side (a short side of 222 or 223 with size
/// 224); the reference then floors a negative step and PIL's crop fills the outside with black.
/// Both are kept.
///
/// ```swift
/// let crop = try MultiScaleCrop(size: 224)
/// let clip = try crop(decoded, using: &generator)     // [T, 3, H, W] in [0, 1] → [T, 3, 224, 224]
/// ```
public struct MultiScaleCrop: Sendable, Hashable {
    /// The side of the square output.
    public let size: Int
    /// Fractions of the short side tried as crop sides (VideoMAE: 1, 0.875, 0.75, 0.66).
    public let scales: [Double]
    /// The most the width's and height's scale indices may differ (`max_distort`, 1).
    public let maxDistort: Int

    /// VideoMAE's and VideoMS's scales.
    public static let referenceScales = [1, 0.875, 0.75, 0.66]

    /// The 13 corner positions in units of `(wStep, hStep)`, in the reference's order: the four
    /// corners, the centre, the four edge midpoints, the four quarter points (`fill_fix_offset`
    /// with `more_fix_crop`).
    public static let offsetGrid: [(a: Int, b: Int)] = [
        (0, 0), (4, 0), (0, 4), (4, 4), (2, 2),
        (0, 2), (4, 2), (2, 4), (2, 0),
        (1, 1), (3, 1), (1, 3), (3, 3),
    ]

    /// Creates the crop.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when `size` is not
    ///   positive, `scales` is empty or holds a value outside `(0, 1]`, or `maxDistort` is negative.
    public init(size: Int, scales: [Double] = MultiScaleCrop.referenceScales, maxDistort: Int = 1) throws(TransformError) {
        guard size > 0 else {
            throw .invalidParameter(op: "MultiScaleCrop", name: "size", value: "\(size)", requirement: "must be positive")
        }
        guard !scales.isEmpty, scales.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw .invalidParameter(op: "MultiScaleCrop", name: "scales", value: "\(scales)",
                                    requirement: "need at least one scale, each in (0, 1]")
        }
        guard maxDistort >= 0 else {
            throw .invalidParameter(op: "MultiScaleCrop", name: "maxDistort", value: "\(maxDistort)",
                                    requirement: "must be at least 0")
        }
        self.size = size
        self.scales = scales
        self.maxDistort = maxDistort
    }

    /// The crop (width, height) pairs a frame of `height` × `width` allows, in draw order.
    public func candidateSizes(height: Int, width: Int) -> [(width: Int, height: Int)] {
        let base = Double(Swift.min(height, width))
        // Python's int() of the product truncates; the snap is `abs(x - size) < 3`.
        let sides = scales.map { s -> Int in
            let side = Int(base * s)
            return abs(side - size) < 3 ? size : side
        }
        var pairs: [(width: Int, height: Int)] = []
        for (i, h) in sides.enumerated() {
            for (j, w) in sides.enumerated() where abs(i - j) <= maxDistort {
                pairs.append((w, h))
            }
        }
        return pairs
    }

    /// Draws the region cut from every frame of `height` × `width`. Its `top` or `left` is negative
    /// only when a snapped side exceeds the frame (see the type's notes).
    public func sampleRegion(height: Int, width: Int, using generator: inout RandomGenerator) -> CropRegion {
        let pairs = candidateSizes(height: height, width: width)
        let (w, h) = pairs[generator.nextInt(below: pairs.count)]
        let offset = Self.offsetGrid[generator.nextInt(below: Self.offsetGrid.count)]
        // Python's `//` floors, also for the negative steps of a snapped side.
        let wStep = Self.floorDivide(width - w, 4), hStep = Self.floorDivide(height - h, 4)
        return CropRegion(top: offset.b * hStep, left: offset.a * wStep, height: h, width: w)
    }

    /// Cuts `region` from every frame and resizes it to `size` × `size` as Pillow does.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when the region is empty.
    public func apply(_ region: CropRegion, to frames: [RGB8Image]) throws(TransformError) -> [RGB8Image] {
        guard region.width > 0 && region.height > 0 else {
            throw .invalidParameter(op: "MultiScaleCrop", name: "crop", value: "[\(region.height), \(region.width)]",
                                    requirement: "the frames are too small for scales \(scales)")
        }
        let resampler = PILBilinearResampler(inputWidth: region.width, inputHeight: region.height, width: size, height: size)
        return frames.map {
            resampler.resample($0.cropped(left: region.left, top: region.top, width: region.width, height: region.height))
        }
    }

    /// Draws one region and applies it to every frame.
    ///
    /// - Throws: ``TransformError`` when the frames differ in size or are too small for a crop.
    public func callAsFunction(_ frames: [RGB8Image], using generator: inout RandomGenerator) throws(TransformError) -> [RGB8Image] {
        guard let first = frames.first else { return [] }
        if frames.contains(where: { $0.width != first.width || $0.height != first.height }) {
            throw .invalidClip(op: "MultiScaleCrop", shape: [frames.count, first.height, first.width, 3],
                               reason: "frames differ in size")
        }
        return try apply(sampleRegion(height: first.height, width: first.width, using: &generator), to: frames)
    }

    /// Draws one region and applies it to a clip of values in `[0, 1]`, through 8-bit frames as
    /// the reference holds them (``ClipTransforms/rgb8Frames(_:layout:)``); the result holds
    /// multiples of 1/255.
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4 with 3 channels or is too small.
    public func callAsFunction(
        _ clip: Tensor, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        let frames = try ClipTransforms.rgb8Frames(clip, layout: layout)
        return try ClipTransforms.clip(from: self(frames, using: &generator), layout: layout)
    }

    static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

import Foundation
import TensorCore

/// The region a random resized crop takes from each frame, before resizing.
public struct CropRegion: Sendable, Hashable {
    /// First row.
    public var top: Int
    /// First column.
    public var left: Int
    /// Rows taken.
    public var height: Int
    /// Columns taken.
    public var width: Int

    /// Creates a region.
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }
}

extension ClipTransforms {
    /// Draws a crop region with torchvision's `RandomResizedCrop.get_params`: up to 10 tries of an area
    /// fraction from `scale` and a log-uniform aspect ratio from `ratio`; when none fits, the largest
    /// centred region whose ratio is clamped into `ratio`.
    public static func sampleResizedCropRegion(
        height: Int, width: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
        using generator: inout RandomGenerator
    ) -> CropRegion {
        let area = Double(height * width)
        let logLow = log(ratio.lowerBound), logHigh = log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * generator.nextUniformDouble())
            let aspect = exp(logLow + (logHigh - logLow) * generator.nextUniformDouble())
            let w = Int((target * aspect).squareRoot().rounded())
            let h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = generator.nextInt(below: height - h + 1)
                let left = generator.nextInt(below: width - w + 1)
                return CropRegion(top: top, left: left, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded())
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded())
        }
        return CropRegion(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// torchvision's `RandomResizedCrop` applied to a whole clip: one region drawn per clip, cropped
    /// from every frame and resized to `size` x `size` (no antialiasing, as `F.interpolate`).
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4 or the parameters are out of range.
    public static func randomResizedCrop(
        _ clip: Tensor, size: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
        filter: ClipInterpolation = .bilinear, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "randomResizedCrop")
        guard size > 0 else {
            throw .invalidParameter(op: "randomResizedCrop", name: "size", value: "\(size)", requirement: "must be positive")
        }
        guard scale.lowerBound > 0 && scale.upperBound <= 1 else {
            throw .invalidParameter(op: "randomResizedCrop", name: "scale", value: "\(scale)", requirement: "must lie in (0, 1]")
        }
        guard ratio.lowerBound > 0 else {
            throw .invalidParameter(op: "randomResizedCrop", name: "ratio", value: "\(ratio)", requirement: "must be positive")
        }
        let r = sampleResizedCropRegion(height: g.height, width: g.width, scale: scale, ratio: ratio, using: &generator)
        let region = try crop(clip, top: r.top, left: r.left, height: r.height, width: r.width, layout: layout)
        return try resize(region, height: size, width: size, filter: filter, layout: layout)
    }
}

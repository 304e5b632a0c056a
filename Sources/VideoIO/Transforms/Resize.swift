import Foundation
import TensorCore

extension ClipTransforms {
    /// Resizes every frame of a clip to `height` x `width`, matching PyTorch's
    /// `F.interpolate(mode=..., align_corners=False, antialias=False)` to Float32 rounding.
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4 or a size is not positive.
    public static func resize(
        _ clip: Tensor, height: Int, width: Int, filter: ClipInterpolation = .bilinear, layout: ClipLayout = .tchw
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "resize")
        guard height > 0 && width > 0 else {
            throw .invalidParameter(op: "resize", name: "size", value: "[\(height), \(width)]", requirement: "both extents must be positive")
        }
        if height == g.height && width == g.width { return clip.detached() }
        let out = g.resized(height: height, width: width)
        let rows = ResampleTaps(input: g.height, output: height, filter: filter)
        let cols = ResampleTaps(input: g.width, output: width, filter: filter)
        // Separable: columns first into a [H_in, W_out] scratch plane, then rows. Loader workers already
        // run one clip per thread, so the kernel itself stays single-threaded.
        var scratch = [Float](repeating: 0, count: g.height * width)
        return Tensor(shape: out.shape) { dst in
            clip.withUnsafeBufferPointer { src in
                for p in 0..<g.planeCount {
                    let si = g.origin(plane: p), di = out.origin(plane: p)
                    for y in 0..<g.height {
                        let row = si + y * g.rowStride
                        for x in 0..<width {
                            var acc: Float = 0
                            for k in 0..<cols.taps {
                                acc += src[row + cols.indices[x * cols.taps + k] * g.pixelStride] * cols.weights[x * cols.taps + k]
                            }
                            scratch[y * width + x] = acc
                        }
                    }
                    for y in 0..<height {
                        for x in 0..<width {
                            var acc: Float = 0
                            for k in 0..<rows.taps {
                                acc += scratch[rows.indices[y * rows.taps + k] * width + x] * rows.weights[y * rows.taps + k]
                            }
                            dst[di + y * out.rowStride + x * out.pixelStride] = acc
                        }
                    }
                }
            }
        }
    }

    /// The `[height, width]` that gives a frame of `height` x `width` a short side of `size`, as
    /// SlowFast's `random_short_side_scale_jitter` computes it: long side `floor(long / short * size)`.
    public static func shortSideSize(height: Int, width: Int, to size: Int) -> [Int] {
        if width < height {
            return [Int((Double(height) / Double(width) * Double(size)).rounded(.down)), size]
        }
        return [size, Int((Double(width) / Double(height) * Double(size)).rounded(.down))]
    }

    /// Resizes a clip so that its shorter side is `size`, keeping the aspect ratio (long side rounded
    /// down). A clip whose short side already is `size` is returned unchanged, as in SlowFast.
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4 or `size` is not positive.
    public static func shortSideResize(
        _ clip: Tensor, to size: Int, filter: ClipInterpolation = .bilinear, layout: ClipLayout = .tchw
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "shortSideResize")
        guard size > 0 else {
            throw .invalidParameter(op: "shortSideResize", name: "size", value: "\(size)", requirement: "must be positive")
        }
        if Swift.min(g.height, g.width) == size { return clip.detached() }
        let hw = shortSideSize(height: g.height, width: g.width, to: size)
        return try resize(clip, height: hw[0], width: hw[1], filter: filter, layout: layout)
    }

    /// Draws a jittered short side `S = round(1 / U(1/maxSize, 1/minSize))` (TIME's "inverse uniform"
    /// scale sampling, which favours small sizes less than a plain uniform draw would).
    public static func sampleJitterSize(minSize: Int, maxSize: Int, using generator: inout RandomGenerator) -> Int {
        precondition(minSize > 0 && minSize <= maxSize, "sampleJitterSize: range [\(minSize), \(maxSize)] is empty or not positive")
        let lo = 1 / Double(maxSize), hi = 1 / Double(minSize)
        return Int((1 / (lo + (hi - lo) * generator.nextUniformDouble())).rounded())
    }

    /// Short-side scale jitter: one size `S` drawn with ``sampleJitterSize(minSize:maxSize:using:)`` for
    /// the whole clip, then a bilinear ``shortSideResize(_:to:filter:layout:)`` to `S` (TIME §1.5 step 3).
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4 or the size range is invalid.
    public static func scaleJitter(
        _ clip: Tensor, minSize: Int = 256, maxSize: Int = 320, layout: ClipLayout = .tchw,
        using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        guard minSize > 0 && minSize <= maxSize else {
            throw .invalidParameter(op: "scaleJitter", name: "size range", value: "[\(minSize), \(maxSize)]",
                                    requirement: "need 0 < minSize <= maxSize")
        }
        let size = sampleJitterSize(minSize: minSize, maxSize: maxSize, using: &generator)
        return try shortSideResize(clip, to: size, filter: .bilinear, layout: layout)
    }
}

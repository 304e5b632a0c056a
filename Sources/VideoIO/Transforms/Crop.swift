import TensorCore

extension ClipTransforms {
    /// The region `[top, top + height) x [left, left + width)` of every frame.
    ///
    /// - Throws: ``TransformError/sizeTooLarge(op:requested:frame:)`` when the region leaves the frame.
    public static func crop(
        _ clip: Tensor, top: Int, left: Int, height: Int, width: Int, layout: ClipLayout = .tchw
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "crop")
        guard height > 0 && width > 0 else {
            throw .invalidParameter(op: "crop", name: "size", value: "[\(height), \(width)]", requirement: "both extents must be positive")
        }
        guard top >= 0 && left >= 0 && top + height <= g.height && left + width <= g.width else {
            throw .sizeTooLarge(op: "crop", requested: [top, left, height, width], frame: [g.height, g.width])
        }
        let out = g.resized(height: height, width: width)
        return Tensor(shape: out.shape) { dst in
            clip.withUnsafeBufferPointer { src in
                for p in 0..<g.planeCount {
                    let si = g.origin(plane: p) + top * g.rowStride + left * g.pixelStride
                    let di = out.origin(plane: p)
                    for y in 0..<height {
                        for x in 0..<width {
                            dst[di + y * out.rowStride + x * out.pixelStride] = src[si + y * g.rowStride + x * g.pixelStride]
                        }
                    }
                }
            }
        }
    }

    /// The `[top, left]` of SlowFast's `uniform_crop`: centred offsets rounded up, and for
    /// `spatialIndex` 0 / 2 the start / end of the longer axis (the horizontal axis when square).
    public static func uniformCropOrigin(height: Int, width: Int, size: Int, spatialIndex: Int) -> [Int] {
        precondition((0...2).contains(spatialIndex), "uniformCropOrigin: spatial index \(spatialIndex) not in 0...2")
        var top = (height - size + 1) / 2
        var left = (width - size + 1) / 2
        if height > width {
            if spatialIndex == 0 { top = 0 } else if spatialIndex == 2 { top = height - size }
        } else {
            if spatialIndex == 0 { left = 0 } else if spatialIndex == 2 { left = width - size }
        }
        return [top, left]
    }

    /// A `size` x `size` crop from the centre, offsets `ceil((dim - size) / 2)` as SlowFast's
    /// `uniform_crop` with spatial index 1 (torchvision rounds half to even instead; they differ by
    /// one pixel when `dim - size` is odd).
    ///
    /// - Throws: ``TransformError/sizeTooLarge(op:requested:frame:)`` when `size` exceeds a side.
    public static func centerCrop(_ clip: Tensor, size: Int, layout: ClipLayout = .tchw) throws(TransformError) -> Tensor {
        try uniformCrop(clip, size: size, spatialIndex: 1, layout: layout, op: "centerCrop")
    }

    /// The three test views of TIME §1.6: left / centre / right crops of a landscape clip, or top /
    /// centre / bottom of a portrait one (SlowFast `uniform_crop` with spatial index 0, 1, 2).
    ///
    /// - Throws: ``TransformError/sizeTooLarge(op:requested:frame:)`` when `size` exceeds a side.
    public static func threeCrop(_ clip: Tensor, size: Int, layout: ClipLayout = .tchw) throws(TransformError) -> [Tensor] {
        var views: [Tensor] = []
        for index in 0..<3 {
            views.append(try uniformCrop(clip, size: size, spatialIndex: index, layout: layout, op: "threeCrop"))
        }
        return views
    }

    /// A `size` x `size` crop at an offset drawn uniformly from `[0, dim - size)` on each axis (0 when
    /// the side equals `size`), the same for every frame; SlowFast's `random_crop` (TIME §1.5 step 4).
    ///
    /// - Throws: ``TransformError/sizeTooLarge(op:requested:frame:)`` when `size` exceeds a side.
    public static func randomCrop(
        _ clip: Tensor, size: Int, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "randomCrop")
        try checkSquare(size, fits: g, op: "randomCrop")
        // numpy's randint(0, dim - size) excludes the last offset; kept for parity with the reference.
        let top = g.height > size ? generator.nextInt(below: g.height - size) : 0
        let left = g.width > size ? generator.nextInt(below: g.width - size) : 0
        return try crop(clip, top: top, left: left, height: size, width: size, layout: layout)
    }

    static func uniformCrop(
        _ clip: Tensor, size: Int, spatialIndex: Int, layout: ClipLayout, op: String
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: op)
        try checkSquare(size, fits: g, op: op)
        let origin = uniformCropOrigin(height: g.height, width: g.width, size: size, spatialIndex: spatialIndex)
        return try crop(clip, top: origin[0], left: origin[1], height: size, width: size, layout: layout)
    }

    static func checkSquare(_ size: Int, fits g: ClipGeometry, op: String) throws(TransformError) {
        guard size > 0 else {
            throw .invalidParameter(op: op, name: "size", value: "\(size)", requirement: "must be positive")
        }
        guard size <= g.height && size <= g.width else {
            throw .sizeTooLarge(op: op, requested: [size, size], frame: [g.height, g.width])
        }
    }
}

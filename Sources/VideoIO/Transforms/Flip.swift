import TensorCore

extension ClipTransforms {
    /// Mirrors every frame left to right. (Off in the SSv2 recipe, whose classes include left/right.)
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when the clip is not rank 4.
    public static func horizontalFlip(_ clip: Tensor, layout: ClipLayout = .tchw) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "horizontalFlip")
        return Tensor(shape: clip.shape) { dst in
            clip.withUnsafeBufferPointer { src in
                for p in 0..<g.planeCount {
                    let o = g.origin(plane: p)
                    for y in 0..<g.height {
                        let row = o + y * g.rowStride
                        for x in 0..<g.width {
                            dst[row + x * g.pixelStride] = src[row + (g.width - 1 - x) * g.pixelStride]
                        }
                    }
                }
            }
        }
    }
}

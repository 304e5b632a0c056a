import TensorCore

extension ClipTransforms {
    /// Per-channel `(x - mean[c]) / std[c]`; TIME uses mean 0.5 and std 0.5 on `[0, 1]` RGB, giving `[-1, 1]`.
    ///
    /// - Throws: ``TransformError`` when the clip is not rank 4, the counts differ from the channel
    ///   count, or a standard deviation is not positive.
    public static func normalize(
        _ clip: Tensor, mean: [Float], std: [Float], layout: ClipLayout = .tchw
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "normalize")
        guard mean.count == g.channels && std.count == g.channels else {
            throw .invalidParameter(op: "normalize", name: "mean/std counts", value: "\(mean.count)/\(std.count)",
                                    requirement: "need one value per channel (\(g.channels))")
        }
        guard std.allSatisfy({ $0 > 0 }) else {
            throw .invalidParameter(op: "normalize", name: "std", value: "\(std)", requirement: "every value must be positive")
        }
        return Tensor(shape: clip.shape) { dst in
            clip.withUnsafeBufferPointer { src in
                for p in 0..<g.planeCount {
                    let c = p % g.channels, o = g.origin(plane: p)
                    let m = mean[c], s = std[c]
                    for i in 0..<(g.height * g.width) {
                        let k = o + i * g.pixelStride
                        dst[k] = (src[k] - m) / s
                    }
                }
            }
        }
    }
}

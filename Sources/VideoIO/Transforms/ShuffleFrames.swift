import TensorCore

extension ClipTransforms {
    /// Reorders the frames: output frame `i` is input frame `permutation[i]` (TIME's shuffled
    /// evaluation applies one random permutation to every clip of a batch).
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when `permutation` is
    ///   not a permutation of `0..<T`.
    public static func shuffleFrames(
        _ clip: Tensor, permutation: [Int], layout: ClipLayout = .tchw
    ) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "shuffleFrames")
        guard permutation.count == g.frames, permutation.sorted() == Array(0..<g.frames) else {
            throw .invalidParameter(op: "shuffleFrames", name: "permutation", value: "\(permutation)",
                                    requirement: "must contain each of 0..<\(g.frames) exactly once")
        }
        let planeSize = g.height * g.width
        return Tensor(shape: clip.shape) { dst in
            clip.withUnsafeBufferPointer { src in
                switch layout {
                case .tchw, .thwc:
                    // Frames are contiguous blocks in both layouts.
                    let block = g.channels * planeSize
                    for (i, j) in permutation.enumerated() {
                        for k in 0..<block { dst[i * block + k] = src[j * block + k] }
                    }
                case .cthw:
                    for c in 0..<g.channels {
                        for (i, j) in permutation.enumerated() {
                            let d = g.origin(frame: i, channel: c), s = g.origin(frame: j, channel: c)
                            for k in 0..<planeSize { dst[d + k] = src[s + k] }
                        }
                    }
                }
            }
        }
    }
}

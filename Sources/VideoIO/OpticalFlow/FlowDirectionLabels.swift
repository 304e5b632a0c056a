import TensorCore

/// TIME's per-patch motion-direction labels (Time Is MattEr, ICML 2022, §1.3 of the reference).
///
/// For each consecutive frame pair the Farneback flow is averaged over every `patchSize`² patch,
/// turned into polar form, and each patch gets one of 9 classes: 0 when it is not moving, else
/// 1 + the 45° sector of its direction, measured clockwise on screen from "right" (y points down):
/// 1 right/down-right, 3 down, 5 left, 7 up. A patch moves when its magnitude, min–max normalised
/// over the pair's patches to [0, 100], floors to at least 1.
///
/// The arithmetic follows the released dataset code step by step — a Float32 pairwise patch mean
/// like numpy's, OpenCV's `cartToPolar` angle approximation, and `normalize(NORM_MINMAX)` — so
/// that labels at the bin edges agree too: a pure rightward shift gives {1, 8}, a pure downward
/// shift {2, 3}. Patches tile the frame from the top-left corner; a right or bottom remainder
/// narrower than a patch is ignored, as a strided patch embedding ignores it (the reference only
/// accepts sizes divisible by the patch size).
public struct FlowDirectionLabels: Sendable {
    /// The number of classes: static plus eight 45° directions.
    public static let classCount = 9

    /// The patch side in pixels (16 for the ViT-B/16 backbones).
    public var patchSize: Int
    /// The flow settings (TIME: ``FarnebackParameters/time``).
    public var parameters: FarnebackParameters

    /// Creates a labeller for a patch size and flow settings.
    public init(patchSize: Int = 16, parameters: FarnebackParameters = .time) {
        self.patchSize = patchSize
        self.parameters = parameters
    }

    /// The labels of one flow field, one per patch in row-major patch order.
    ///
    /// - Throws: ``OpticalFlowError/invalidParameter(name:value:requirement:)`` when the patch
    ///   size is not positive or larger than the field.
    public func labels(for flow: FlowField) throws(OpticalFlowError) -> [Int] {
        try checkPatchSize(width: flow.width, height: flow.height)
        let columns = flow.width / patchSize, rows = flow.height / patchSize
        var dx = [Float](repeating: 0, count: rows * columns)
        var dy = dx
        var patch = [Float](repeating: 0, count: patchSize * patchSize)
        let count = Float(patchSize * patchSize)
        for r in 0..<rows {
            for c in 0..<columns {
                for axis in 0..<2 {
                    for i in 0..<patchSize {
                        let base = 2 * ((r * patchSize + i) * flow.width + c * patchSize) + axis
                        for j in 0..<patchSize { patch[i * patchSize + j] = flow.vectors[base + 2 * j] }
                    }
                    let mean = patch.withUnsafeBufferPointer { FlowDirectionLabels.pairwiseSum($0[...]) } / count
                    if axis == 0 { dx[r * columns + c] = mean } else { dy[r * columns + c] = mean }
                }
            }
        }
        return FlowDirectionLabels.classify(dx: dx, dy: dy)
    }

    /// Labels for every consecutive pair of gray frames: `frames.count - 1` rows of `N` labels.
    ///
    /// Each frame's pyramid and polynomial expansion is computed once and shared by its two pairs.
    /// - Throws: ``OpticalFlowError`` for fewer than two frames, differing sizes, non-finite
    ///   pixels or an invalid patch size or flow setting.
    public func labels(frames: [GrayImage]) throws(OpticalFlowError) -> [[Int]] {
        guard frames.count >= 2 else {
            throw .invalidParameter(name: "frames.count", value: "\(frames.count)", requirement: "labels need at least two frames")
        }
        try parameters.validate()
        for t in 1..<frames.count { try OpticalFlow.validate(previous: frames[0], next: frames[t], initialFlow: nil) }
        try checkPatchSize(width: frames[0].width, height: frames[0].height)
        let pyramid = FarnebackPyramid(parameters: parameters, width: frames[0].width, height: frames[0].height)
        var previous = pyramid.expand(frames[0].pixels)
        var result: [[Int]] = []
        for t in 1..<frames.count {
            let next = pyramid.expand(frames[t].pixels)
            result.append(try labels(for: pyramid.flow(from: previous, to: next, initialFlow: nil)))
            previous = next
        }
        return result
    }

    /// Labels for a normalised RGB clip `[T, 3, H, W]` (values in [-1, 1] for TIME), as the TIME
    /// dataset computes them: gray = 0.299 R + 0.587 G + 0.114 B, times 128, then ``labels(frames:)``.
    ///
    /// - Returns: `T - 1` rows of `(H / patchSize) · (W / patchSize)` labels.
    /// - Throws: ``OpticalFlowError/invalidClip(shape:reason:)`` for another layout, and the errors
    ///   of ``labels(frames:)``.
    public func labels(clip: Tensor) throws(OpticalFlowError) -> [[Int]] {
        try labels(frames: FlowDirectionLabels.grayFrames(clip: clip))
    }

    /// TIME's Farneback input from a normalised clip `[T, 3, H, W]`: one ×128 gray image per frame.
    ///
    /// - Throws: ``OpticalFlowError/invalidClip(shape:reason:)`` unless the clip is `[T, 3, H, W]`
    ///   with at least one pixel.
    public static func grayFrames(clip: Tensor) throws(OpticalFlowError) -> [GrayImage] {
        let shape = clip.shape
        guard shape.count == 4, shape[1] == 3 else {
            throw .invalidClip(shape: shape, reason: "expected [T, 3, H, W] RGB frames")
        }
        let (frames, height, width) = (shape[0], shape[2], shape[3])
        guard height > 0, width > 0 else { throw .invalidClip(shape: shape, reason: "frames have no pixels") }
        let plane = height * width
        var result: [GrayImage] = []
        result.reserveCapacity(frames)
        for t in 0..<frames {
            let gray = clip.withUnsafeBufferPointer { p in
                let red = p.baseAddress! + 3 * t * plane, green = red + plane, blue = green + plane
                // Same Float32 operation order as the reference (three products, two sums, ×128).
                return (0..<plane).map { i in
                    let a: Float = 0.299 * red[i], b: Float = 0.587 * green[i], c: Float = 0.114 * blue[i]
                    let sum: Float = (a + b) + c
                    return sum * 128
                }
            }
            result.append(try GrayImage(width: width, height: height, pixels: gray))
        }
        return result
    }

    private func checkPatchSize(width: Int, height: Int) throws(OpticalFlowError) {
        guard patchSize > 0, patchSize <= width, patchSize <= height else {
            throw .invalidParameter(
                name: "patchSize", value: "\(patchSize)",
                requirement: "it must be positive and fit in the \(width)x\(height) frame")
        }
    }

    /// numpy's Float32 pairwise summation (what `ndarray.mean` does along a contiguous axis), so
    /// that patch means round exactly like the reference's.
    static func pairwiseSum(_ a: Slice<UnsafeBufferPointer<Float>>) -> Float {
        let n = a.count, s = a.startIndex
        if n < 8 {
            var total: Float = 0
            for v in a { total += v }
            return total
        }
        if n <= 128 {
            var r = (a[s], a[s + 1], a[s + 2], a[s + 3], a[s + 4], a[s + 5], a[s + 6], a[s + 7])
            var i = 8
            while i < n - n % 8 {
                r.0 += a[s + i]; r.1 += a[s + i + 1]; r.2 += a[s + i + 2]; r.3 += a[s + i + 3]
                r.4 += a[s + i + 4]; r.5 += a[s + i + 5]; r.6 += a[s + i + 6]; r.7 += a[s + i + 7]
                i += 8
            }
            var total = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n { total += a[s + i]; i += 1 }
            return total
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a[s..<(s + half)]) + pairwiseSum(a[(s + half)...])
    }

    /// Polar form, min–max moving mask and 45° bins for per-patch mean displacements.
    static func classify(dx: [Float], dy: [Float]) -> [Int] {
        let magnitude = zip(dx, dy).map { ($0 * $0 + $1 * $1).squareRoot() }
        // cv2.normalize(NORM_MINMAX, 0, 100): scale and shift in Float64, applied in Float32.
        let low = Double(magnitude.min() ?? 0), high = Double(magnitude.max() ?? 0)
        let scale = 100 * (high - low > Double.ulpOfOne ? 1 / (high - low) : 0)
        let shift = 0 - low * scale
        let fscale = Float(scale), fshift = Float(shift)
        return magnitude.indices.map { i in
            let normalised = fshift.addingProduct(magnitude[i], fscale)
            guard normalised.rounded(.down) > 0 else { return 0 }
            // Radians as cv2.cartToPolar returns them, then `ang * 180 / np.pi` in Float32.
            let radians = fastAtanDegrees(y: dy[i], x: dx[i]) * Float(Double.pi / 180)
            let degrees = (radians * 180) / Float(Double.pi)
            let sector = (degrees - degrees.truncatingRemainder(dividingBy: 45)) / 45
            return Int(Swift.min(Swift.max(sector, 0), 7)) + 1
        }
    }

    /// OpenCV's `fastAtan2` polynomial (used by `cartToPolar`), in degrees in [0, 360].
    static func fastAtanDegrees(y: Float, x: Float) -> Float {
        let toDegrees = Float(180 / Double.pi)
        let p1 = Float(0.9997878412794807) * toDegrees, p3 = Float(-0.3258083974640975) * toDegrees
        let p5 = Float(0.1555786518463281) * toDegrees, p7 = Float(-0.04432655554792128) * toDegrees
        let ax = Swift.abs(x), ay = Swift.abs(y)
        var a: Float
        if ax >= ay {
            let c = ay / (ax + Float(Double.ulpOfOne))
            let c2 = c * c
            a = (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
        } else {
            let c = ax / (ay + Float(Double.ulpOfOne))
            let c2 = c * c
            a = 90 - (((p7 * c2 + p5) * c2 + p3) * c2 + p1) * c
        }
        if x < 0 { a = 180 - a }
        if y < 0 { a = 360 - a }
        return a
    }
}

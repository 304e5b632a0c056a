/// A single-channel Float32 image in row-major order, the input of ``OpticalFlow``.
///
/// Values are used as given (no normalisation), exactly like OpenCV's `CV_32FC1` input.
public struct GrayImage: Sendable, Equatable {
    /// The number of columns.
    public let width: Int
    /// The number of rows.
    public let height: Int
    /// The pixels, `height` rows of `width` values.
    public let pixels: [Float]

    /// Creates an image from its size and row-major pixels.
    ///
    /// - Throws: ``OpticalFlowError/emptyImage(width:height:)`` when a side is not positive,
    ///   ``OpticalFlowError/bufferSizeMismatch(expected:actual:)`` when `pixels` has the wrong length.
    public init(width: Int, height: Int, pixels: [Float]) throws(OpticalFlowError) {
        guard width > 0, height > 0 else { throw .emptyImage(width: width, height: height) }
        guard pixels.count == width * height else {
            throw .bufferSizeMismatch(expected: width * height, actual: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The index of the first NaN or infinite pixel, if any.
    var firstNonFiniteIndex: Int? { pixels.firstIndex { !$0.isFinite } }
}

/// A dense displacement field: one `(dx, dy)` vector per pixel, in pixels, y pointing down.
///
/// The vector at `(x, y)` says where the content of the previous frame at that pixel moved to in
/// the next frame, matching OpenCV's `CV_32FC2` flow layout.
public struct FlowField: Sendable, Equatable {
    /// The number of columns.
    public let width: Int
    /// The number of rows.
    public let height: Int
    /// Interleaved `dx, dy` pairs, row-major: the vector at `(x, y)` starts at `2 * (y * width + x)`.
    public internal(set) var vectors: [Float]

    /// Creates a field from interleaved `dx, dy` pairs.
    ///
    /// - Throws: ``OpticalFlowError/emptyImage(width:height:)`` or
    ///   ``OpticalFlowError/bufferSizeMismatch(expected:actual:)``.
    public init(width: Int, height: Int, vectors: [Float]) throws(OpticalFlowError) {
        guard width > 0, height > 0 else { throw .emptyImage(width: width, height: height) }
        guard vectors.count == 2 * width * height else {
            throw .bufferSizeMismatch(expected: 2 * width * height, actual: vectors.count)
        }
        self.init(unchecked: width, height, vectors)
    }

    /// Creates a field with the same vector everywhere.
    ///
    /// - Precondition: both sides are positive.
    public init(width: Int, height: Int, dx: Float, dy: Float) {
        precondition(width > 0 && height > 0, "FlowField.init: size \(width)x\(height) is empty")
        var values = [Float](repeating: dx, count: 2 * width * height)
        for i in stride(from: 1, to: values.count, by: 2) { values[i] = dy }
        self.init(unchecked: width, height, values)
    }

    init(unchecked width: Int, _ height: Int, _ vectors: [Float]) {
        self.width = width
        self.height = height
        self.vectors = vectors
    }

    /// The displacement at column `x`, row `y`.
    public subscript(x x: Int, y y: Int) -> (dx: Float, dy: Float) {
        precondition(x >= 0 && x < width && y >= 0 && y < height,
                     "FlowField.subscript: (\(x), \(y)) outside \(width)x\(height)")
        let i = 2 * (y * width + x)
        return (vectors[i], vectors[i + 1])
    }
}

/// Why an optical-flow or flow-label computation refused its input.
///
/// Images and clips come from decoded files, so bad input is reported as a value rather than
/// stopping the process.
public enum OpticalFlowError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An image with no pixels (`width` or `height` is zero or negative).
    case emptyImage(width: Int, height: Int)
    /// A pixel or vector buffer whose length does not match the stated size.
    case bufferSizeMismatch(expected: Int, actual: Int)
    /// Two inputs that must have the same size do not.
    case sizeMismatch(previous: [Int], next: [Int])
    /// A NaN or infinite value at `index` (row-major) of the named input.
    case nonFinite(input: String, index: Int)
    /// A parameter outside the range the algorithm accepts.
    case invalidParameter(name: String, value: String, requirement: String)
    /// A clip tensor with the wrong layout for flow labels.
    case invalidClip(shape: [Int], reason: String)

    /// A one-line explanation naming the offending input and what is expected.
    public var description: String {
        switch self {
        case let .emptyImage(width, height):
            return "optical flow: empty image (\(width)x\(height)); frames need at least one pixel"
        case let .bufferSizeMismatch(expected, actual):
            return "optical flow: buffer holds \(actual) values but the size needs \(expected)"
        case let .sizeMismatch(previous, next):
            return "optical flow: sizes \(previous) and \(next) differ; both frames (and any initial flow) must match"
        case let .nonFinite(input, index):
            return "optical flow: non-finite value in \(input) at element \(index); check decoding and normalisation"
        case let .invalidParameter(name, value, requirement):
            return "optical flow: \(name) = \(value) is invalid; \(requirement)"
        case let .invalidClip(shape, reason):
            return "flow labels: clip of shape \(shape) is invalid: \(reason)"
        }
    }
}

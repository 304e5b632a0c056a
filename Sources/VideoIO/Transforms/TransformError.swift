/// Why a clip transform or a RandAugment configuration refused its input.
///
/// Frame sizes come from decoded files and configuration strings from users, so a crop that does not
/// fit or a malformed policy string is reported as a value rather than stopping the process.
public enum TransformError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The clip tensor does not have the rank or channel count the transform needs.
    case invalidClip(op: String, shape: [Int], reason: String)
    /// A requested crop or output size does not fit the frame.
    case sizeTooLarge(op: String, requested: [Int], frame: [Int])
    /// A numeric parameter outside the range the transform accepts.
    case invalidParameter(op: String, name: String, value: String, requirement: String)
    /// A RandAugment configuration string that cannot be parsed; `problem` names the bad section.
    case invalidRandAugmentConfig(config: String, problem: String)

    /// A one-line message naming the transform, the offending value and what is expected.
    public var description: String {
        switch self {
        case let .invalidClip(op, shape, reason):
            return "\(op): clip of shape \(shape) is invalid: \(reason)"
        case let .sizeTooLarge(op, requested, frame):
            return "\(op): requested size \(requested) does not fit frames of size \(frame) ([height, width])"
        case let .invalidParameter(op, name, value, requirement):
            return "\(op): \(name) = \(value) is invalid; \(requirement)"
        case let .invalidRandAugmentConfig(config, problem):
            return "RandAugment: cannot parse \"\(config)\": \(problem); expected e.g. \"rand-m9-n2-mstd0.5-inc1\""
        }
    }
}

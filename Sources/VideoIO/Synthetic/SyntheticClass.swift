/// One class of the synthetic dataset: a motion that only time reveals, or an appearance that a
/// single frame reveals.
///
/// Temporal classes come in time-reversed pairs (left/right, up/down, growing/shrinking) over the
/// same random shapes and colours, so a model that ignores frame order cannot tell them apart.
/// Static classes have a fixed shape and colour and move at random, so motion tells nothing.
public enum SyntheticClass: Sendable, Hashable, CustomStringConvertible {
    /// A textured object translating across the frame.
    case moving(Direction)
    /// A textured object whose size changes steadily.
    case scaling(growing: Bool)
    /// An object of fixed shape and colour with random, uninformative motion.
    case appearance(Shape, Colour)

    /// A direction of travel on screen (y points down).
    public enum Direction: String, Sendable, Hashable, CaseIterable {
        /// Towards smaller x.
        case left
        /// Towards larger x.
        case right
        /// Towards smaller y.
        case up
        /// Towards larger y.
        case down
    }

    /// The outline of the object.
    public enum Shape: String, Sendable, Hashable, CaseIterable {
        /// An axis-aligned square.
        case square
        /// A filled circle.
        case disk
        /// A square turned by 45°.
        case diamond
    }

    /// A saturated colour from a small palette.
    public enum Colour: String, Sendable, Hashable, CaseIterable {
        /// (220, 40, 40).
        case red
        /// (40, 200, 60).
        case green
        /// (50, 70, 230).
        case blue
        /// (230, 210, 40).
        case yellow
        /// (210, 50, 200).
        case magenta
        /// (40, 200, 210).
        case cyan

        /// The colour's RGB bytes.
        public var rgb: (UInt8, UInt8, UInt8) {
            switch self {
            case .red: return (220, 40, 40)
            case .green: return (40, 200, 60)
            case .blue: return (50, 70, 230)
            case .yellow: return (230, 210, 40)
            case .magenta: return (210, 50, 200)
            case .cyan: return (40, 200, 210)
            }
        }
    }

    /// Which subset a class belongs to.
    public enum Subset: String, Sendable, Hashable, Codable {
        /// Classes told apart only by the order of frames.
        case temporal
        /// Classes told apart by any single frame.
        case `static`
    }

    /// Whether the class needs time or appearance.
    public var subset: Subset {
        if case .appearance = self { return .static }
        return .temporal
    }

    /// A file-system friendly name such as `moving_left`, `growing` or `red_square`.
    public var name: String {
        switch self {
        case .moving(let direction): return "moving_\(direction.rawValue)"
        case .scaling(let growing): return growing ? "growing" : "shrinking"
        case .appearance(let shape, let colour): return "\(colour.rawValue)_\(shape.rawValue)"
        }
    }

    /// Same as ``name``.
    public var description: String { name }

    /// Four temporal and four static classes: left/right, growing/shrinking, and four
    /// shape–colour pairs.
    public static let standard: [SyntheticClass] = [
        .moving(.left), .moving(.right), .scaling(growing: true), .scaling(growing: false),
        .appearance(.square, .red), .appearance(.disk, .blue), .appearance(.diamond, .green),
        .appearance(.square, .yellow),
    ]
}

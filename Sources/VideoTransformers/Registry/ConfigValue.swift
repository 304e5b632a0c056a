import Foundation

/// One override value for ``Backbones/create(_:overrides:using:)``: a typed number, or text as it
/// comes from a command line or a YAML recipe (`"192"`, `"0.1"`).
///
/// Literals work directly: `["depth": 4, "drop_path_rate": 0.2, "embed_dim": "192"]`.
public enum ConfigValue: Sendable, Hashable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral
{
    /// A whole number.
    case int(Int)
    /// A real number.
    case double(Double)
    /// Text, parsed when the value is used.
    case string(String)

    /// Creates an integer value.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// Creates a real value.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Creates a text value.
    public init(stringLiteral value: String) { self = .string(value) }

    /// The value as written.
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .string(let v): v
        }
    }

    /// The value as a whole number, when it is one (a real with no fractional part counts).
    public var intValue: Int? {
        switch self {
        case .int(let v): v
        case .double(let v): v.rounded() == v && Swift.abs(v) < 1e15 ? Int(v) : nil
        case .string(let s): Int(s.trimmingCharacters(in: .whitespaces))
        }
    }

    /// The value as a finite real number, when it is one.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v.isFinite ? v : nil
        case .string(let s): Double(s.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        }
    }
}

/// Why a recipe could not be read: each case names the file, the dotted key or the path at fault.
public enum RecipeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The recipe file could not be read.
    case unreadable(path: String, reason: String)
    /// The text is not valid YAML, or its top level is not a mapping.
    case invalidYAML(path: String, reason: String)
    /// A key the recipe format does not define, with the keys valid at that place.
    case unknownKey(String, validKeys: [String])
    /// A value of the wrong kind, e.g. text where a number belongs.
    case wrongType(key: String, expected: String, found: String)
    /// A key that has no default and was not given.
    case missingKey(String)
    /// A value of the right kind outside its allowed range or set.
    case invalidValue(key: String, value: String, reason: String)
    /// A command-line override that is not `dotted.key=value`.
    case badOverride(String, reason: String)
    /// A file or folder the recipe names does not exist.
    case missingPath(key: String, path: String)

    /// The problem in words, naming the key or path and how to fix it.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "recipe \(path): cannot read (\(reason))"
        case .invalidYAML(let path, let reason):
            return "recipe \(path): not a YAML mapping (\(reason))"
        case .unknownKey(let key, let valid):
            return "recipe: unknown key `\(key)`; valid keys here: \(valid.joined(separator: ", "))"
        case .wrongType(let key, let expected, let found):
            return "recipe: `\(key)` must be \(expected), found \(found)"
        case .missingKey(let key):
            return "recipe: `\(key)` is required"
        case .invalidValue(let key, let value, let reason):
            return "recipe: `\(key)` = \(value) \(reason)"
        case .badOverride(let text, let reason):
            return "override `\(text)`: \(reason) (expected dotted.key=value, e.g. optimizer.lr=3e-4)"
        case .missingPath(let key, let path):
            return "recipe: `\(key)` names \(path), which does not exist"
        }
    }
}

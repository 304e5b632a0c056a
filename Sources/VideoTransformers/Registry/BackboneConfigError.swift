/// Why ``Backbones/create(_:overrides:using:)`` could not build a backbone. Configurations come
/// from recipes and command lines, so these are thrown, never trapped.
public enum BackboneConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No variant has this name.
    case unknownModel(String, available: [String])
    /// An override key the variant does not have.
    case unknownKey(String, validKeys: [String])
    /// An override value of the wrong kind or out of range.
    case invalidValue(key: String, value: String, reason: String)
    /// The values are individually valid but do not fit together (e.g. heads not dividing width).
    case inconsistent(model: String, reason: String)
    /// A variant of this name is already registered (by the family named).
    case duplicateModel(String, family: String)

    /// The problem in words, with the valid choices.
    public var description: String {
        switch self {
        case .unknownModel(let name, let available):
            "unknown backbone '\(name)'; available: \(available.joined(separator: ", "))"
        case .unknownKey(let key, let valid):
            "unknown backbone override '\(key)'; valid keys: \(valid.joined(separator: ", "))"
        case .invalidValue(let key, let value, let reason):
            "invalid value '\(value)' for backbone override '\(key)': \(reason)"
        case .inconsistent(let model, let reason):
            "backbone '\(model)' cannot be built with these overrides: \(reason)"
        case .duplicateModel(let name, let family):
            "a backbone named '\(name)' is already registered (family \(family)); choose another name"
        }
    }
}

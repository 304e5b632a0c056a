/// One key of a recipe section: its name, where its value lives in the section's type, and its
/// rule. The same declaration reads the key strictly, fills in its default and writes it back
/// into `config.yaml`, so a key is spelled once.
///
/// ```swift
/// struct MySettings: RecipeSection {
///     var temperature = 0.1
///     var weights = [1.0, 1.0]
///     static var fields: [RecipeField<MySettings>] {
///         [.double("temperature", \.temperature, .positive), .doubles("weights", \.weights, count: 2)]
///     }
/// }
/// ```
public struct RecipeField<Root> {
    /// The key within its section.
    public let key: String
    let read: (inout SectionReader, inout Root) throws(RecipeError) -> Void
    let write: (Root) -> ConfigTree

    /// An integer, at least `minimum` and at most `maximum` when given.
    public static func int(
        _ key: String, _ path: WritableKeyPath<Root, Int>, minimum: Int? = nil, maximum: Int? = nil
    ) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            let value = try r.int(key, default: root[keyPath: path], minimum: minimum)
            if let maximum, value > maximum {
                throw .invalidValue(key: r.full(key), value: "\(value)", reason: "must be at most \(maximum)")
            }
            root[keyPath: path] = value
        }, write: { .number($0[keyPath: path]) })
    }

    /// An optional integer (`null` or absent: nil), at least `minimum` when given.
    public static func int(_ key: String, _ path: WritableKeyPath<Root, Int?>, minimum: Int? = nil) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.int(key, minimum: minimum) ?? root[keyPath: path]
        }, write: { $0[keyPath: path].map(ConfigTree.number) ?? .null })
    }

    /// A number obeying `rule`.
    public static func double(_ key: String, _ path: WritableKeyPath<Root, Double>, _ rule: NumberRule = .any) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            guard let v = try r.double(key) else { return }
            try rule.check(v, key: r.full(key))
            root[keyPath: path] = v
        }, write: { .number($0[keyPath: path]) })
    }

    /// An optional number obeying `rule` when given.
    public static func double(_ key: String, _ path: WritableKeyPath<Root, Double?>, _ rule: NumberRule = .any) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            guard let v = try r.double(key) else { return }
            try rule.check(v, key: r.full(key))
            root[keyPath: path] = v
        }, write: { $0[keyPath: path].map(ConfigTree.number) ?? .null })
    }

    /// `true` or `false`.
    public static func bool(_ key: String, _ path: WritableKeyPath<Root, Bool>) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.bool(key, default: root[keyPath: path])
        }, write: { .scalar($0[keyPath: path] ? "true" : "false", quoted: false) })
    }

    /// Text.
    public static func string(_ key: String, _ path: WritableKeyPath<Root, String>) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.string(key, default: root[keyPath: path])
        }, write: { .scalar($0[keyPath: path], quoted: true) })
    }

    /// Optional text (`null` or absent: nil).
    public static func string(_ key: String, _ path: WritableKeyPath<Root, String?>) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.string(key) ?? root[keyPath: path]
        }, write: { $0[keyPath: path].map { .scalar($0, quoted: true) } ?? .null })
    }

    /// A list of texts.
    public static func strings(_ key: String, _ path: WritableKeyPath<Root, [String]>) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.strings(key) ?? root[keyPath: path]
        }, write: { .list($0[keyPath: path].map { .scalar($0, quoted: true) }) })
    }

    /// A list of numbers, each obeying `rule`, of exactly `count` items when given.
    public static func doubles(
        _ key: String, _ path: WritableKeyPath<Root, [Double]>, count: Int? = nil, _ rule: NumberRule = .any
    ) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            guard let values = try r.doubles(key, count: count) else { return }
            for v in values { try rule.check(v, key: r.full(key)) }
            root[keyPath: path] = values
        }, write: { .list($0[keyPath: path].map(ConfigTree.number)) })
    }

    /// A list of exactly `count` integers (at least one when `count` is nil), each at least
    /// `minimum` and at most `maximum` when given.
    public static func ints(
        _ key: String, _ path: WritableKeyPath<Root, [Int]>, count: Int?, minimum: Int? = nil, maximum: Int? = nil
    ) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            guard let values = try r.ints(key, count: count) else { return }
            if let minimum, let bad = values.first(where: { $0 < minimum }) {
                throw .invalidValue(key: r.full(key), value: "\(bad)", reason: "must be at least \(minimum)")
            }
            if let maximum, let bad = values.first(where: { $0 > maximum }) {
                throw .invalidValue(key: r.full(key), value: "\(bad)", reason: "must be at most \(maximum)")
            }
            root[keyPath: path] = values
        }, write: { .list($0[keyPath: path].map(ConfigTree.number)) })
    }

    /// One name from a fixed set.
    public static func choice<E: RawRepresentable<String> & CaseIterable>(
        _ key: String, _ path: WritableKeyPath<Root, E>
    ) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            root[keyPath: path] = try r.choice(key, default: root[keyPath: path])
        }, write: { .scalar($0[keyPath: path].rawValue, quoted: true) })
    }

    /// A nested mapping whose keys are `fields`.
    public static func section(_ key: String, _ fields: [RecipeField<Root>]) -> Self {
        Self(key: key, read: { r, root throws(RecipeError) in
            var inner = try r.section(key)
            for field in fields { try field.read(&inner, &root) }
            try inner.finish()
        }, write: { root in .map(fields.map { ($0.key, $0.write(root)) }) })
    }
}

/// The range a recipe number must lie in.
public struct NumberRule: Sendable {
    let accepts: @Sendable (Double) -> Bool
    let requirement: String

    /// Creates a rule; `requirement` completes "must be …" in the error.
    public init(_ requirement: String, accepts: @escaping @Sendable (Double) -> Bool) {
        self.requirement = requirement
        self.accepts = accepts
    }

    /// Any finite number.
    public static let any = NumberRule("finite") { $0.isFinite }
    /// `x ≥ 0`.
    public static let nonNegative = NumberRule("at least 0") { $0 >= 0 }
    /// `x > 0`.
    public static let positive = NumberRule("greater than 0") { $0 > 0 }
    /// `0 ≤ x < 1`.
    public static let fraction = NumberRule("in [0, 1)") { $0 >= 0 && $0 < 1 }
    /// `0 ≤ x ≤ 1`.
    public static let unitInterval = NumberRule("in [0, 1]") { $0 >= 0 && $0 <= 1 }
    /// In `(0, 1]`.
    public static let positiveUnitInterval = NumberRule("in (0, 1]") { $0 > 0 && $0 <= 1 }

    func check(_ value: Double, key: String) throws(RecipeError) {
        guard accepts(value) else { throw .invalidValue(key: key, value: "\(value)", reason: "must be \(requirement)") }
    }
}

/// A recipe section (or an objective's settings) described by its fields: defaults come from
/// `init()`, reading and writing from ``fields``, cross-key checks from ``validate(path:)``.
public protocol RecipeSection: Sendable, Equatable {
    /// The section with every default.
    init()
    /// The section's keys, in the order `config.yaml` lists them.
    static var fields: [RecipeField<Self>] { get }
    /// Checks that involve several keys; `path` is the section's dotted path for error messages.
    func validate(path: String) throws(RecipeError)
}

extension RecipeSection {
    /// No cross-key checks.
    public func validate(path: String) throws(RecipeError) {}

    /// Reads the section's fields from `reader` (which the caller finishes) and validates them.
    static func read(from reader: inout SectionReader) throws(RecipeError) -> Self {
        var section = Self()
        for field in fields { try field.read(&reader, &section) }
        try section.validate(path: reader.path)
        return section
    }

    /// Reads a whole section strictly: unknown keys are errors.
    static func read(_ tree: ConfigTree?, path: String) throws(RecipeError) -> Self {
        var reader = try SectionReader(tree, path: path)
        let section = try read(from: &reader)
        try reader.finish()
        return section
    }

    /// The section's keys and values, defaults included.
    var pairs: [(String, ConfigTree)] { Self.fields.map { ($0.key, $0.write(self)) } }
}

extension ConfigTree {
    static func number(_ v: Int) -> ConfigTree { .scalar("\(v)", quoted: false) }
    static func number(_ v: Double) -> ConfigTree { .scalar("\(v)", quoted: false) }
}

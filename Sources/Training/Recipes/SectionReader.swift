/// Reads one mapping of a recipe strictly: every key read is remembered, and ``finish()`` rejects
/// any key that was never asked for, naming it with its full dotted path.
struct SectionReader {
    let path: String
    private let values: [(String, ConfigTree)]
    private var known: [String] = []
    /// When set, ``finish()`` accepts keys nobody read (used to carry shared keys from one
    /// objective's section to another's); nested sections inherit it.
    var lenient = false

    init(_ tree: ConfigTree?, path: String) throws(RecipeError) {
        self.path = path
        switch tree {
        case .map(let pairs)?: values = pairs
        case .null?, nil: values = []
        case let other?: throw .wrongType(key: path, expected: "a mapping", found: other.kindDescription)
        }
        var seen = Set<String>()
        for (key, _) in values where !seen.insert(key).inserted {
            throw .invalidValue(key: full(key), value: "(twice)", reason: "appears more than once")
        }
    }

    func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key` (nil when absent or null), recording the key as valid.
    mutating func raw(_ key: String) -> ConfigTree? {
        known.append(key)
        guard let value = values.first(where: { $0.0 == key })?.1, value != .null else { return nil }
        return value
    }

    mutating func section(_ key: String) throws(RecipeError) -> SectionReader {
        var reader = try SectionReader(raw(key), path: full(key))
        reader.lenient = lenient
        return reader
    }

    mutating func string(_ key: String) throws(RecipeError) -> String? {
        guard let value = raw(key) else { return nil }
        guard case .scalar(let s, _) = value else {
            throw .wrongType(key: full(key), expected: "text", found: value.kindDescription)
        }
        return s
    }

    mutating func string(_ key: String, default fallback: String) throws(RecipeError) -> String {
        try string(key) ?? fallback
    }

    mutating func int(_ key: String, minimum: Int? = nil) throws(RecipeError) -> Int? {
        guard let value = raw(key) else { return nil }
        let parsed = try SectionReader.int(value, key: full(key))
        if let minimum, parsed < minimum {
            throw .invalidValue(key: full(key), value: "\(parsed)", reason: "must be at least \(minimum)")
        }
        return parsed
    }

    mutating func int(_ key: String, default fallback: Int, minimum: Int? = nil) throws(RecipeError) -> Int {
        try int(key, minimum: minimum) ?? fallback
    }

    mutating func double(_ key: String) throws(RecipeError) -> Double? {
        guard let value = raw(key) else { return nil }
        return try SectionReader.double(value, key: full(key))
    }

    mutating func double(_ key: String, default fallback: Double) throws(RecipeError) -> Double {
        try double(key) ?? fallback
    }

    mutating func bool(_ key: String, default fallback: Bool) throws(RecipeError) -> Bool {
        guard let value = raw(key) else { return fallback }
        guard case .scalar(let s, false) = value, let b = ["true": true, "false": false][s.lowercased()] else {
            throw .wrongType(key: full(key), expected: "true or false", found: value.kindDescription)
        }
        return b
    }

    mutating func doubles(_ key: String, count: Int? = nil) throws(RecipeError) -> [Double]? {
        guard let value = raw(key) else { return nil }
        guard case .list(let items) = value else {
            throw .wrongType(key: full(key), expected: "a list of numbers", found: value.kindDescription)
        }
        var result: [Double] = []
        for item in items { result.append(try SectionReader.double(item, key: full(key))) }
        if let count, result.count != count {
            throw .invalidValue(key: full(key), value: "\(result)", reason: "must hold \(count) numbers")
        }
        return result
    }

    mutating func strings(_ key: String) throws(RecipeError) -> [String]? {
        guard let value = raw(key) else { return nil }
        guard case .list(let items) = value else {
            throw .wrongType(key: full(key), expected: "a list of texts", found: value.kindDescription)
        }
        var result: [String] = []
        for item in items {
            guard case .scalar(let s, _) = item else {
                throw .wrongType(key: full(key), expected: "a list of texts", found: item.kindDescription)
            }
            result.append(s)
        }
        return result
    }

    mutating func ints(_ key: String, count: Int?) throws(RecipeError) -> [Int]? {
        guard let value = raw(key) else { return nil }
        guard case .list(let items) = value else {
            throw .wrongType(key: full(key), expected: "a list of integers", found: value.kindDescription)
        }
        var result: [Int] = []
        for item in items { result.append(try SectionReader.int(item, key: full(key))) }
        if let count, result.count != count {
            throw .invalidValue(key: full(key), value: "\(result)", reason: "must hold \(count) integers")
        }
        if count == nil && result.isEmpty {
            throw .invalidValue(key: full(key), value: "[]", reason: "must hold at least one integer")
        }
        return result
    }

    /// A value from a fixed set of names.
    mutating func choice<T: RawRepresentable<String> & CaseIterable>(
        _ key: String, default fallback: T
    ) throws(RecipeError) -> T {
        guard let s = try string(key) else { return fallback }
        guard let v = T(rawValue: s) else {
            throw .invalidValue(key: full(key), value: s,
                                reason: "is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    /// Rejects keys that were never read.
    func finish() throws(RecipeError) {
        guard !lenient else { return }
        for (key, _) in values where !known.contains(key) {
            throw .unknownKey(full(key), validKeys: known.sorted())
        }
    }

    static func int(_ value: ConfigTree, key: String) throws(RecipeError) -> Int {
        guard case .scalar(let s, false) = value, let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw .wrongType(key: key, expected: "an integer", found: value.kindDescription)
        }
        return v
    }

    static func double(_ value: ConfigTree, key: String) throws(RecipeError) -> Double {
        guard case .scalar(let s, false) = value, let v = Double(s), v.isFinite else {
            throw .wrongType(key: key, expected: "a number", found: value.kindDescription)
        }
        return v
    }
}

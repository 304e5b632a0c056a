import Foundation
import Yams

/// A parsed YAML document kept as plain values, in file order, so that overrides can be applied and
/// every key can be checked before anything is built.
indirect enum ConfigTree: Equatable, Sendable {
    /// A scalar as written; `quoted` scalars are always text.
    case scalar(String, quoted: Bool)
    /// A list.
    case list([ConfigTree])
    /// A mapping, keys in file order.
    case map([(String, ConfigTree)])
    /// `null`, `~` or an empty value.
    case null

    static func == (a: ConfigTree, b: ConfigTree) -> Bool {
        switch (a, b) {
        case let (.scalar(x, qx), .scalar(y, qy)): return x == y && qx == qy
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        case (.null, .null): return true
        default: return false
        }
    }

    /// The deepest nesting a recipe may use. Recipes nest four levels; the YAML parser recurses once
    /// per level, so a crafted file of thousands of `[`/`{` or indented levels would overflow the
    /// stack before any error could be reported.
    static let maximumNesting = 64

    /// Parses YAML text; `path` labels errors.
    static func parse(_ text: String, path: String) throws(RecipeError) -> ConfigTree {
        try checkNesting(text, path: path)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw .invalidYAML(path: path, reason: "\(error)")
        }
        guard let node else { return .map([]) }
        return try tree(node, path: path)
    }

    /// Refuses text nested deeper than ``maximumNesting`` levels before the parser sees it: flow
    /// brackets outside quotes and comments, and block levels (leading spaces and `- ` markers).
    static func checkNesting(_ text: String, path: String) throws(RecipeError) {
        let limit = maximumNesting
        func refuse(_ line: Int) -> RecipeError {
            .invalidYAML(path: path, reason: "line \(line) nests deeper than \(limit) levels")
        }
        var depth = 0, line = 1, quote: UInt8? = nil, atLineStart = true, indent = 0, dashes = 0
        var previous: UInt8 = 0x0A
        var bytes = Array(text.utf8).makeIterator()
        while let c = bytes.next() {
            defer { previous = c }
            if c == 0x0A {
                line += 1
                (atLineStart, indent, dashes) = (true, 0, 0)
                if quote == 0x27 || quote == 0x22 { continue }
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            if atLineStart {
                if c == 0x20 { indent += 1; if indent > 4 * limit { throw refuse(line) }; continue }
                if c == 0x2D, let next = bytes.next() {  // "- " opens one more block level
                    defer { previous = next }
                    if next == 0x20 || next == 0x0A {
                        dashes += 1
                        if dashes > limit { throw refuse(line) }
                        if next == 0x0A { line += 1; (indent, dashes) = (0, 0) }
                        continue
                    }
                }
                atLineStart = false
            }
            switch c {
            case 0x23 where previous == 0x20 || previous == 0x0A || previous == 0x09:  // a comment to the line end
                while let d = bytes.next(), d != 0x0A {}
                line += 1
                (atLineStart, indent, dashes) = (true, 0, 0)
            case 0x27, 0x22: quote = c
            case 0x5B, 0x7B:
                depth += 1
                if depth > limit { throw refuse(line) }
            case 0x5D, 0x7D: depth = max(0, depth - 1)
            default: break
            }
        }
    }

    private static func tree(_ node: Node, path: String) throws(RecipeError) -> ConfigTree {
        if case .scalar(let s) = node {
            let plain = s.style == .plain || s.style == .any
            if plain && ["", "~", "null", "Null", "NULL"].contains(s.string) { return .null }
            return .scalar(s.string, quoted: !plain)
        }
        if case .sequence(let seq) = node {
            var items: [ConfigTree] = []
            for item in seq { items.append(try tree(item, path: path)) }
            return .list(items)
        }
        if case .mapping(let map) = node {
            var pairs: [(String, ConfigTree)] = []
            for (key, value) in map {
                guard let name = key.string else {
                    throw .invalidYAML(path: path, reason: "a mapping key is not text")
                }
                pairs.append((name, try tree(value, path: path)))
            }
            return .map(pairs)
        }
        // Newer Yams versions also return aliases, which recipes do not use.
        throw .invalidYAML(path: path, reason: "aliases are not supported")
    }

    /// The value at a dotted key set to `value`, creating mappings on the way.
    func setting(_ keys: ArraySlice<String>, to value: ConfigTree) -> ConfigTree {
        guard let first = keys.first else { return value }
        var pairs: [(String, ConfigTree)] = []
        if case .map(let existing) = self { pairs = existing }
        if let i = pairs.firstIndex(where: { $0.0 == first }) {
            pairs[i].1 = pairs[i].1.setting(keys.dropFirst(), to: value)
        } else {
            pairs.append((first, ConfigTree.null.setting(keys.dropFirst(), to: value)))
        }
        return .map(pairs)
    }

    /// Applies `dotted.key=value` overrides; the value is read as YAML (`[1, 2]`, `3e-4`, `true`).
    func applying(overrides: [String]) throws(RecipeError) -> ConfigTree {
        var result = self
        for text in overrides {
            guard let eq = text.firstIndex(of: "=") else { throw .badOverride(text, reason: "no `=`") }
            let key = String(text[..<eq]), valueText = String(text[text.index(after: eq)...])
            let keys = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !key.isEmpty, keys.allSatisfy({ !$0.isEmpty }) else {
                throw .badOverride(text, reason: "empty key")
            }
            guard !valueText.trimmingCharacters(in: .whitespaces).isEmpty else {
                // An empty value would otherwise read as null and fall back to the built-in default,
                // silently replacing the recipe's own value.
                throw .badOverride(text, reason: "empty value (write `\(key)=null` to clear an optional key)")
            }
            let value: ConfigTree
            do {
                value = try ConfigTree.parse(valueText, path: "override")
            } catch {
                throw .badOverride(text, reason: "the value is not YAML")
            }
            // A lone scalar document parses as itself.
            result = result.setting(keys[...], to: value)
        }
        return result
    }

    /// The YAML node for writing this tree back out.
    var node: Node {
        switch self {
        case .scalar(let s, let quoted):
            return Node(s, .implicit, quoted ? .doubleQuoted : .plain)
        case .null:
            return Node("null", .implicit, .plain)
        case .list(let items):
            let flat = items.allSatisfy { if case .scalar = $0 { return true } else { return false } }
            return Node(items.map(\.node), .implicit, flat ? .flow : .block)
        case .map(let pairs):
            return Node(pairs.map { (Node($0.0), $0.1.node) }, .implicit, pairs.isEmpty ? .flow : .block)
        }
    }

    /// The tree as YAML text.
    func yaml() -> String {
        (try? Yams.serialize(node: node)) ?? ""
    }

    /// A short description of what a value is, for type errors.
    var kindDescription: String {
        switch self {
        case .scalar(let s, let quoted): return quoted ? "text \"\(s)\"" : "`\(s)`"
        case .list: return "a list"
        case .map: return "a mapping"
        case .null: return "null"
        }
    }
}

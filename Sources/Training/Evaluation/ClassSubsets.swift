import Foundation

/// Which named subset each class belongs to, e.g. SSv2's "temporal" and "static" classes
/// (`reference/TIME.md` §1.6); classes left out belong to no subset.
public struct ClassSubsets: Sendable, Equatable {
    /// The subset name of each listed class index.
    public var subsetOfClass: [Int: String]

    /// Creates a mapping from class index to subset name.
    public init(_ subsetOfClass: [Int: String]) {
        self.subsetOfClass = subsetOfClass
    }

    /// The subset names, sorted.
    public var names: [String] { Set(subsetOfClass.values).sorted() }

    /// The class indices in `subset`.
    public func classes(in subset: String) -> Set<Int> {
        Set(subsetOfClass.compactMap { $0.value == subset ? $0.key : nil })
    }

    /// Reads a JSON object mapping class to subset name, the `subsets.json` that
    /// `SyntheticDataset.write` produces: `{"moving_left": "temporal", "red_square": "static"}`.
    ///
    /// Keys are class names looked up in `classNames`; a key that is not a known name but a whole
    /// number is taken as a class index (for datasets without names).
    /// - Throws: ``EvaluationError/unreadable(path:reason:)``,
    ///   ``EvaluationError/malformedSubsets(path:reason:)`` or ``EvaluationError/unknownClass(path:name:known:)``.
    public static func load(from path: String, classNames: [String]?) throws(EvaluationError) -> ClassSubsets {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or a directory" : "no such file")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .malformedSubsets(path: path, reason: "not valid JSON")
        }
        guard let entries = object as? [String: Any] else {
            throw .malformedSubsets(path: path, reason: "the top level is not an object")
        }
        let names = classNames ?? []
        let indexOfName = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var mapping: [Int: String] = [:]
        for key in entries.keys.sorted() {
            guard let subset = entries[key] as? String else {
                throw .malformedSubsets(path: path, reason: "the value of `\(key)` is not a string")
            }
            if let index = indexOfName[key] ?? Int(key).flatMap({ $0 >= 0 && (names.isEmpty || $0 < names.count) ? $0 : nil }) {
                mapping[index] = subset
            } else {
                throw .unknownClass(path: path, name: key, known: names)
            }
        }
        return ClassSubsets(mapping)
    }
}

import Foundation

extension VideoDataset {
    /// Reads a class-names file: one name per line in label order; surrounding spaces are
    /// trimmed and blank lines ignored. The one parser every command and the trainer use.
    ///
    /// - Throws: ``DatasetError/unreadable(path:reason:)`` for a missing, unreadable or non-UTF-8
    ///   file, ``DatasetError/empty(path:)`` when it names no class, and
    ///   ``DatasetError/malformedLine(path:line:content:reason:)`` for a name given twice.
    public static func readClassNames(at path: String) throws(DatasetError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadable(path: path, reason: exists ? "permission denied or a directory" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: path, reason: "not UTF-8 text") }
        var names: [String] = [], seen: [String: Int] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let name = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else { continue }
            if let first = seen[name] {
                throw .malformedLine(path: path, line: number + 1, content: name,
                                     reason: "class name already given on line \(first)")
            }
            seen[name] = number + 1
            names.append(name)
        }
        guard !names.isEmpty else { throw .empty(path: path) }
        return names
    }

    /// The dataset with ``classNames`` read from `path` (see ``readClassNames(at:)``).
    ///
    /// - Throws: as ``readClassNames(at:)``, and
    ///   ``DatasetError/malformedLine(path:line:content:reason:)`` when a label of the dataset has
    ///   no name.
    public func withClassNames(from path: String) throws(DatasetError) -> VideoDataset {
        let names = try VideoDataset.readClassNames(at: path)
        if let item = items.first(where: { $0.label >= names.count }) {
            throw .malformedLine(path: path, line: names.count, content: item.path,
                                 reason: "label \(item.label) of \(item.path) has no name: the file names \(names.count) classes")
        }
        var copy = self
        copy.classNames = names
        return copy
    }
}

import Foundation

extension VideoDataset {
    /// Reads a VideoMAE-style `path label` list: one video (or image) per line, the class index last.
    ///
    /// The path is everything before the last run of spaces, so paths with spaces survive; blank
    /// lines are ignored. A line may end in a third field after the label, `path label companion`,
    /// naming the item's ``DatasetItem/companion`` (image TIME's background-only image); it is
    /// recognised because a label is an integer and a companion path is not, and it may not contain
    /// spaces. Relative paths resolve against `root` (the list's own text otherwise).
    /// With a `root`, a path that leaves it (absolute, or climbing out with `..`) is refused unless
    /// `allowingPathsOutsideRoot`: a list is data, and should not reach files elsewhere by accident.
    /// - Throws: ``DatasetError/unreadable(path:reason:)``,
    ///   ``DatasetError/malformedLine(path:line:content:reason:)`` with the 1-based line number, or
    ///   ``DatasetError/empty(path:)``.
    public static func pathLabelList(
        at listPath: String, root: String? = nil, badItemPolicy: BadItemPolicy = .skip,
        allowingPathsOutsideRoot: Bool = false
    ) throws(DatasetError) -> VideoDataset {
        let items = try parseList(at: listPath, fieldName: "path label") { fields, fail throws(DatasetError) in
            guard fields.count >= 2 else { throw fail("expected a path and a label") }
            var fields = fields
            var companion: String?
            if fields.count >= 3, Int(fields[fields.count - 1]) == nil, Int(fields[fields.count - 2]) != nil {
                companion = fields.removeLast()
            }
            let label = try integer(fields[fields.count - 1], name: "label", minimum: 0, fail: fail)
            let path = fields.dropLast().joined(separator: " ")
            try checkContained(path, root: root, allowed: allowingPathsOutsideRoot, fail: fail)
            if let companion {
                try checkContained(companion, root: root, allowed: allowingPathsOutsideRoot, fail: fail)
            }
            return DatasetItem(path: resolve(path, root: root), label: label,
                               companion: companion.map { resolve($0, root: root) })
        }
        return VideoDataset(items: items, badItemPolicy: badItemPolicy)
    }

    /// Reads an mmaction2-style frame list, `directory frame_count label` per line.
    ///
    /// Each directory holds the frames as images named by `pattern` (FFmpeg decodes PNG and JPEG).
    /// - Throws: as ``pathLabelList(at:root:badItemPolicy:)``; a frame count below 1 is malformed.
    public static func frameList(
        at listPath: String, root: String? = nil, pattern: FrameNamePattern = .mmaction,
        badItemPolicy: BadItemPolicy = .skip, allowingPathsOutsideRoot: Bool = false
    ) throws(DatasetError) -> VideoDataset {
        let items = try parseList(at: listPath, fieldName: "directory frame_count label") {
            fields, fail throws(DatasetError) in
            guard fields.count >= 3 else { throw fail("expected a directory, a frame count and a label") }
            let frames = try integer(fields[fields.count - 2], name: "frame count", minimum: 1, fail: fail)
            let label = try integer(fields[fields.count - 1], name: "label", minimum: 0, fail: fail)
            let directory = fields.dropLast(2).joined(separator: " ")
            try checkContained(directory, root: root, allowed: allowingPathsOutsideRoot, fail: fail)
            return DatasetItem(
                path: resolve(directory, root: root), label: label,
                media: .frameFolder(frameCount: frames, pattern: pattern))
        }
        return VideoDataset(items: items, badItemPolicy: badItemPolicy)
    }

    /// Splits a list file into lines of space-separated fields and parses each non-blank one.
    private static func parseList(
        at listPath: String, fieldName: String,
        item: ([String], (String) -> DatasetError) throws(DatasetError) -> DatasetItem
    ) throws(DatasetError) -> [DatasetItem] {
        let text = try readText(listPath)
        var items: [DatasetItem] = []
        // `\r\n` is one Character in Swift, so Windows line ends split here too.
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            let fail = { (reason: String) in
                DatasetError.malformedLine(path: listPath, line: offset + 1, content: String(line), reason: reason)
            }
            items.append(try item(fields, fail))
        }
        guard !items.isEmpty else { throw .empty(path: listPath) }
        return items
    }

    /// Refuses an entry that leaves `root`: absolute, or with more `..` than the folders before it.
    private static func checkContained(
        _ entry: String, root: String?, allowed: Bool, fail: (String) -> DatasetError
    ) throws(DatasetError) {
        guard let root, !root.isEmpty, !allowed else { return }
        if entry.hasPrefix("/") {
            throw fail("absolute path outside the data root \(root) (allow it with data.allow_outside_root)")
        }
        var depth = 0
        for part in entry.split(separator: "/") {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            if depth < 0 {
                throw fail("`..` leaves the data root \(root) (allow it with data.allow_outside_root)")
            }
        }
    }

    private static func integer(
        _ field: String, name: String, minimum: Int, fail: (String) -> DatasetError
    ) throws(DatasetError) -> Int {
        guard let value = Int(field), value >= minimum else {
            throw fail("\(name) `\(field)` is not an integer ≥ \(minimum)")
        }
        return value
    }
}

/// The UTF-8 text of a file, or ``DatasetError/unreadable(path:reason:)``.
func readText(_ path: String) throws(DatasetError) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        let exists = FileManager.default.fileExists(atPath: path)
        throw .unreadable(path: path, reason: exists ? "permission denied or a directory" : "no such file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw .unreadable(path: path, reason: "not UTF-8 text")
    }
    return text
}

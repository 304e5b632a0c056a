import Foundation

extension VideoDataset {
    /// Reads a Something-Something v2 split: the label file (template → class index) and an
    /// annotation file (a list of `{id, template, ...}`), with videos at `<videoRoot>/<id>.<ext>`.
    ///
    /// As in the official loaders, an annotation's template has its `[` and `]` removed
    /// (`"Putting [something] on a surface"` → `"Putting something on a surface"`) before the
    /// lookup. Class names are the label file's keys in index order.
    /// - Throws: ``DatasetError/unreadable(path:reason:)``, ``DatasetError/malformedJSON(path:reason:)``,
    ///   ``DatasetError/unknownTemplate(path:id:template:)`` or ``DatasetError/empty(path:)``.
    public static func somethingSomethingV2(
        labels labelsPath: String, annotations annotationsPath: String, videoRoot: String,
        fileExtension: String = "webm", badItemPolicy: BadItemPolicy = .skip
    ) throws(DatasetError) -> VideoDataset {
        let classes = try ssv2Labels(at: labelsPath)
        let annotations = try json(at: annotationsPath)
        guard let entries = annotations as? [[String: Any]] else {
            throw .malformedJSON(path: annotationsPath, reason: "expected a list of objects")
        }
        var items: [DatasetItem] = []
        items.reserveCapacity(entries.count)
        for (n, entry) in entries.enumerated() {
            guard let id = scalarText(entry["id"]), let template = entry["template"] as? String else {
                throw .malformedJSON(path: annotationsPath, reason: "entry \(n) lacks a string `id` or `template`")
            }
            let key = SSv2.className(template: template)
            guard let label = classes[key] else {
                throw .unknownTemplate(path: annotationsPath, id: id, template: template)
            }
            items.append(DatasetItem(path: resolve("\(id).\(fileExtension)", root: videoRoot), label: label))
        }
        guard !items.isEmpty else { throw .empty(path: annotationsPath) }
        var names = [String](repeating: "", count: (classes.values.max() ?? -1) + 1)
        for (name, index) in classes { names[index] = name }
        return VideoDataset(items: items, classNames: names, badItemPolicy: badItemPolicy)
    }

    /// The SSv2 label file as class name → index (the indices are strings in the release).
    private static func ssv2Labels(at path: String) throws(DatasetError) -> [String: Int] {
        guard let object = try json(at: path) as? [String: Any] else {
            throw .malformedJSON(path: path, reason: "expected an object of template → index")
        }
        var result: [String: Int] = [:]
        for (name, value) in object {
            guard let text = scalarText(value), let index = Int(text), index >= 0 else {
                throw .malformedJSON(path: path, reason: "index of `\(name)` is not a non-negative integer")
            }
            result[name] = index
        }
        return result
    }

    private static func json(at path: String) throws(DatasetError) -> Any {
        let text = try readText(path)
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw .malformedJSON(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// A JSON string or integer as text (SSv2 ids and indices appear as both across releases).
    private static func scalarText(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let i = value as? Int { return String(i) }
        return nil
    }
}

/// Something-Something v2 naming rules.
public enum SSv2 {
    /// The class name of an annotation template: the template with `[` and `]` removed.
    public static func className(template: String) -> String {
        template.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
    }
}

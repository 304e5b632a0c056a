/// An error from reading a dataset description (list file, label JSON, folder layout) or one of its
/// items: what went wrong, the file, the line where there is one, and a hint.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The list, JSON file or root directory does not exist or cannot be read.
    case unreadable(path: String, reason: String)
    /// A line of a list file does not have the expected fields (1-based `line`).
    case malformedLine(path: String, line: Int, content: String, reason: String)
    /// A JSON file is not valid JSON or lacks a field the format requires.
    case malformedJSON(path: String, reason: String)
    /// An SSv2 annotation names a template that the label file does not list.
    case unknownTemplate(path: String, id: String, template: String)
    /// The description names no items at all.
    case empty(path: String)
    /// An item could not be decoded (raised under ``BadItemPolicy/throw``; `index` is the item's
    /// position in the dataset).
    case unreadableItem(path: String, index: Int, reason: String)
    /// A dataset file (list, JSON) could not be written.
    case writeFailed(path: String, reason: String)
    /// Under ``BadItemPolicy/skip``, every item of the dataset failed to decode.
    case noReadableItems(count: Int)
    /// A class folder whose name is not among the classes the dataset is read with (`known`).
    case unknownClass(path: String, name: String, known: [String])
    /// The companion file of `item` (image TIME's background-only image) is absent, or the item
    /// names none although the loader needs one (`path` is then the list or empty).
    case missingCompanion(path: String, item: String)
    /// A folder a dataset layout requires (a Backgrounds Challenge variant) does not exist.
    case missingFolder(path: String, expected: String)

    /// The file or directory the error is about (empty for ``noReadableItems(count:)``).
    public var path: String {
        switch self {
        case .unreadable(let path, _), .malformedLine(let path, _, _, _), .malformedJSON(let path, _),
            .unknownTemplate(let path, _, _), .empty(let path), .unreadableItem(let path, _, _),
            .writeFailed(let path, _), .unknownClass(let path, _, _), .missingCompanion(let path, _),
            .missingFolder(let path, _):
            return path
        case .noReadableItems:
            return ""
        }
    }

    /// The 1-based line number for errors about one line of a list file.
    public var line: Int? {
        if case .malformedLine(_, let line, _, _) = self { return line }
        return nil
    }

    /// A short suggestion of what to check or change.
    public var hint: String {
        switch self {
        case .unreadable:
            return "check the path and its permissions"
        case .malformedLine:
            return "expected fields separated by spaces, the last ones integers (e.g. `videos/a.mp4 3`)"
        case .malformedJSON:
            return "check the file is the format's JSON (SSv2: labels object, list of {id, template})"
        case .unknownTemplate:
            return "the label file and the annotation file may come from different releases"
        case .empty:
            return "the file or folder lists no items"
        case .unreadableItem:
            return "fix or remove the file, or load the dataset with the .skip policy"
        case .writeFailed:
            return "check the directory exists and is writable"
        case .noReadableItems:
            return "check the dataset root: relative paths resolve against it"
        case .unknownClass:
            return "every split must use the training split's class folder names"
        case .missingCompanion:
            return "write a companion for every item (list: `path label companion`; folders: same relative path)"
        case .missingFolder:
            return "check the dataset root and its layout"
        }
    }

    /// A one-line message naming the problem, the file (and line) and the hint.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read (\(reason)); \(hint)"
        case .malformedLine(let path, let line, let content, let reason):
            return "\(path):\(line): \(reason) in `\(content)`; \(hint)"
        case .malformedJSON(let path, let reason):
            return "\(path): malformed JSON (\(reason)); \(hint)"
        case .unknownTemplate(let path, let id, let template):
            return "\(path): video \(id) has template `\(template)` missing from the labels; \(hint)"
        case .empty(let path):
            return "\(path): no items; \(hint)"
        case .unreadableItem(let path, let index, let reason):
            return "\(path): item \(index) unreadable (\(reason)); \(hint)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write (\(reason)); \(hint)"
        case .noReadableItems(let count):
            return "none of the \(count) items could be decoded; \(hint)"
        case .unknownClass(let path, let name, let known):
            return "\(path): class `\(name)` is not one of \(known.joined(separator: ", ")); \(hint)"
        case .missingCompanion(let path, let item):
            return "\(path.isEmpty ? item : path): no companion file for item \(item); \(hint)"
        case .missingFolder(let path, let expected):
            return "\(path): missing (expected \(expected)); \(hint)"
        }
    }
}

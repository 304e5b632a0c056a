import Foundation

extension VideoDataset {
    /// The video files ``classFolders(root:extensions:badItemPolicy:)`` accepts by default.
    public static let videoExtensions: Set<String> = ["mp4", "avi", "mkv", "webm", "mov", "m4v", "mpg", "mpeg"]

    /// Reads a `root/<class>/<video>` tree: one class per subdirectory, labels in sorted name order
    /// (as torchvision's `ImageFolder` and PyTorchVideo's `LabeledVideoPaths` assign them).
    ///
    /// Files are taken in sorted order and filtered by extension (case-insensitive); hidden entries
    /// are ignored. A class folder with no videos keeps its label.
    /// - Throws: ``DatasetError/unreadable(path:reason:)`` or ``DatasetError/empty(path:)``.
    public static func classFolders(
        root: String, extensions: Set<String> = videoExtensions, badItemPolicy: BadItemPolicy = .skip
    ) throws(DatasetError) -> VideoDataset {
        let classes = try visibleEntries(root).filter { isDirectory(resolve($0, root: root)) }
        var items: [DatasetItem] = []
        for (label, name) in classes.enumerated() {
            let folder = resolve(name, root: root)
            for file in try visibleEntries(folder) {
                let ext = (file as NSString).pathExtension.lowercased()
                let path = resolve(file, root: folder)
                if extensions.contains(ext) && !isDirectory(path) {
                    items.append(DatasetItem(path: path, label: label))
                }
            }
        }
        guard !items.isEmpty else { throw .empty(path: root) }
        return VideoDataset(items: items, classNames: classes, badItemPolicy: badItemPolicy)
    }

    private static func visibleEntries(_ directory: String) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .unreadable(path: directory, reason: "not a readable directory")
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}

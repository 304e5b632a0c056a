import Foundation

extension VideoDataset {
    /// The video files ``classFolders(root:extensions:badItemPolicy:)`` accepts by default.
    public static let videoExtensions: Set<String> = ["mp4", "avi", "mkv", "webm", "mov", "m4v", "mpg", "mpeg"]

    /// The still-image files FFmpeg's image decoders read, for image datasets
    /// (`classFolders(root:extensions: VideoDataset.imageExtensions)`).
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "webp", "ppm"]

    /// Reads a `root/<class>/<video>` tree: one class per subdirectory, labels in sorted name order
    /// (as torchvision's `ImageFolder` and PyTorchVideo's `LabeledVideoPaths` assign them).
    ///
    /// Files are taken in sorted order and filtered by extension (case-insensitive); hidden entries
    /// are ignored. A class folder with no videos keeps its label.
    ///
    /// With `classNames` the labels are positions in that list instead (a test split read with
    /// the training split's classes); a folder not in it is ``DatasetError/unknownClass(path:name:known:)``.
    /// With `companionRoot` every item gets the file at the same relative path under it as its
    /// ``DatasetItem/companion`` (image TIME: `train/<class>/x.png` pairs with
    /// `train_bg/<class>/x.png`); a missing one is ``DatasetError/missingCompanion(path:item:)``.
    /// - Throws: ``DatasetError/unreadable(path:reason:)`` or ``DatasetError/empty(path:)``, and
    ///   the two errors above.
    public static func classFolders(
        root: String, extensions: Set<String> = videoExtensions, classNames: [String]? = nil,
        companionRoot: String? = nil, badItemPolicy: BadItemPolicy = .skip
    ) throws(DatasetError) -> VideoDataset {
        let classes = try visibleEntries(root).filter { isDirectory(resolve($0, root: root)) }
        var items: [DatasetItem] = []
        for (position, name) in classes.enumerated() {
            let folder = resolve(name, root: root)
            var label = position
            if let classNames {
                guard let known = classNames.firstIndex(of: name) else {
                    throw .unknownClass(path: folder, name: name, known: classNames)
                }
                label = known
            }
            for file in try visibleEntries(folder) {
                let ext = (file as NSString).pathExtension.lowercased()
                let path = resolve(file, root: folder)
                guard extensions.contains(ext) && !isDirectory(path) else { continue }
                var companion: String?
                if let companionRoot {
                    let pair = resolve(file, root: resolve(name, root: companionRoot))
                    guard FileManager.default.fileExists(atPath: pair) else {
                        throw .missingCompanion(path: pair, item: path)
                    }
                    companion = pair
                }
                items.append(DatasetItem(path: path, label: label, companion: companion))
            }
        }
        guard !items.isEmpty else { throw .empty(path: root) }
        return VideoDataset(items: items, classNames: classNames ?? classes, badItemPolicy: badItemPolicy)
    }

    static func visibleEntries(_ directory: String) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .unreadable(path: directory, reason: "not a readable directory")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}

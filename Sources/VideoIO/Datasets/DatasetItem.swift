/// One labelled video of a dataset: where its frames are and how many there are.
public struct DatasetItem: Sendable, Hashable {
    /// How an item's frames are stored.
    public enum Media: Sendable, Hashable {
        /// A video file, or a still image (PNG, JPEG: FFmpeg decodes it as a one-frame video); the
        /// frame count comes from the container index when it is opened.
        case video
        /// A directory of numbered images whose count the list file states.
        case frameFolder(frameCount: Int, pattern: FrameNamePattern)
    }

    /// The video file or frame directory (already joined with the dataset root).
    public var path: String
    /// The class index.
    public var label: Int
    /// Whether `path` is a video or a frame folder.
    public var media: Media
    /// A second file paired with the item, of the same kind as `path` (image TIME: the same
    /// picture with its foreground removed), decoded beside it when the loader asks
    /// (``DataLoaderConfiguration/decodesCompanions``); nil when there is none.
    public var companion: String?

    /// Creates an item.
    public init(path: String, label: Int, media: Media = .video, companion: String? = nil) {
        self.path = path
        self.label = label
        self.media = media
        self.companion = companion
    }
}

/// What a loader does with an item that cannot be decoded.
public enum BadItemPolicy: Sendable, Hashable {
    /// Replace it by the next readable item, count it and log its path (the training default).
    case skip
    /// Stop with ``DatasetError/unreadableItem(path:index:reason:)``.
    case `throw`
}

/// A list of labelled videos with the policy for unreadable ones.
///
/// Build one from a `path label` list, a frame list, an SSv2 annotation pair or a class-folder
/// tree (see the static constructors), or directly from items.
public struct VideoDataset: Sendable {
    /// The items in file order.
    public var items: [DatasetItem]
    /// Class names by label, when the source names its classes (class folders, SSv2).
    public var classNames: [String]?
    /// What loading does with an item that cannot be decoded.
    public var badItemPolicy: BadItemPolicy

    /// Creates a dataset from items.
    public init(items: [DatasetItem], classNames: [String]? = nil, badItemPolicy: BadItemPolicy = .skip) {
        self.items = items
        self.classNames = classNames
        self.badItemPolicy = badItemPolicy
    }

    /// The number of items.
    public var count: Int { items.count }

    /// The number of classes: the named classes, else one more than the largest label.
    public var classCount: Int { classNames?.count ?? ((items.map(\.label).max() ?? -1) + 1) }
}

/// Joins a list entry to the dataset root; absolute entries stay as they are.
func resolve(_ entry: String, root: String?) -> String {
    guard let root, !root.isEmpty, !entry.hasPrefix("/") else { return entry }
    return root.hasSuffix("/") ? root + entry : root + "/" + entry
}

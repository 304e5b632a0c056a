import Foundation

/// The Backgrounds Challenge layout (Xiao et al. 2021, ImageNet-9): one folder per test variant
/// over the same class folders, `<root>/<variant>/val/<class>/<image>` or
/// `<root>/<variant>/<class>/<image>`.
///
/// Class labels are the sorted class folders of `original`, so every variant is read with the
/// same labels (ImageNet-9's `00_dog`, `01_bird`, … sort into label order).
///
/// ```swift
/// let challenge = try BackgroundsChallenge(root: "/data/bg_challenge")
/// let mixedRand = try challenge.dataset(.mixedRand)
/// ```
public struct BackgroundsChallenge: Sendable {
    /// One test variant: what is kept of the image's foreground and background.
    public enum Variant: String, Sendable, Hashable, CaseIterable, Codable {
        /// The unmodified images.
        case original
        /// The foreground on a black background.
        case onlyFG = "only_fg"
        /// The foreground replaced by a black box (background only).
        case onlyBGB = "only_bg_b"
        /// The foreground box filled with background texture (background only).
        case onlyBGT = "only_bg_t"
        /// The foreground removed, background kept, no fill.
        case noFG = "no_fg"
        /// The foreground on the background of another image of the same class.
        case mixedSame = "mixed_same"
        /// The foreground on the background of a random image of any class.
        case mixedRand = "mixed_rand"
        /// The foreground on the background of an image of the next class.
        case mixedNext = "mixed_next"
    }

    /// The challenge's root folder.
    public let root: String
    /// The class folder names of `original`, in label order.
    public let classNames: [String]
    /// Image file extensions read (``VideoDataset/imageExtensions``, which includes `JPEG`).
    public let extensions: Set<String>

    /// Opens the challenge at `root`, reading the classes from its `original` variant.
    ///
    /// - Throws: ``DatasetError/missingFolder(path:expected:)`` when `original` is absent, or what
    ///   reading its class folders throws.
    public init(root: String, extensions: Set<String> = VideoDataset.imageExtensions) throws(DatasetError) {
        self.root = root
        self.extensions = extensions
        guard let original = BackgroundsChallenge.folder(of: .original, in: root) else {
            throw .missingFolder(path: resolve(Variant.original.rawValue, root: root),
                                 expected: "<root>/original[/val]/<class>/<image>")
        }
        classNames = try VideoDataset.visibleEntries(original).filter { VideoDataset.isDirectory(resolve($0, root: original)) }
        guard !classNames.isEmpty else { throw .empty(path: original) }
    }

    /// The class-folder parent of `variant`: `<root>/<variant>/val` when it exists, else
    /// `<root>/<variant>`; nil when neither is a folder.
    public static func folder(of variant: Variant, in root: String) -> String? {
        let base = resolve(variant.rawValue, root: root)
        let val = resolve("val", root: base)
        if VideoDataset.isDirectory(val) { return val }
        return VideoDataset.isDirectory(base) ? base : nil
    }

    /// The variants present under ``root``, in declaration order.
    public var availableVariants: [Variant] {
        Variant.allCases.filter { BackgroundsChallenge.folder(of: $0, in: root) != nil }
    }

    /// The images of `variant`, labelled with ``classNames``.
    ///
    /// - Throws: ``DatasetError/missingFolder(path:expected:)`` for an absent variant,
    ///   ``DatasetError/unknownClass(path:name:known:)`` for a class folder `original` lacks, or
    ///   ``DatasetError/empty(path:)``.
    public func dataset(_ variant: Variant, badItemPolicy: BadItemPolicy = .throw) throws(DatasetError) -> VideoDataset {
        guard let folder = BackgroundsChallenge.folder(of: variant, in: root) else {
            throw .missingFolder(path: resolve(variant.rawValue, root: root),
                                 expected: "<root>/\(variant.rawValue)[/val]/<class>/<image>")
        }
        return try VideoDataset.classFolders(root: folder, extensions: extensions, classNames: classNames,
                                             badItemPolicy: badItemPolicy)
    }

    /// The BG-Gap: accuracy on Mixed-Same minus accuracy on Mixed-Rand (same units as the inputs).
    /// A small gap means the prediction depends little on whether the background fits the class.
    public static func backgroundGap(mixedSame: Double, mixedRand: Double) -> Double {
        mixedSame - mixedRand
    }
}

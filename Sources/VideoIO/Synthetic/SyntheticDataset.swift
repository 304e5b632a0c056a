import Foundation
import TensorCore

/// Writes a small labelled video dataset whose classes need either time or appearance.
///
/// The layout a call produces under its root:
/// ```
/// videos/train/<class>/<class>_0000.mp4 ...   videos/val/<class>/...
/// train.txt, val.txt     `path label` lists, paths relative to the root
/// classes.txt            class names, one per line in label order
/// subsets.json           class name → "temporal" or "static"
/// ```
/// Everything is a pure function of the configuration (the seed included); with a lossless codec
/// the files themselves are reproducible byte for byte.
public enum SyntheticDataset {
    /// Sizes, counts, classes, codec and seed.
    public struct Configuration: Sendable {
        /// Frame width in pixels (even for 4:2:0 codecs).
        public var width: Int
        /// Frame height in pixels (even for 4:2:0 codecs).
        public var height: Int
        /// Frames per video.
        public var frameCount: Int
        /// Frame rate stored in the files.
        public var fps: Int
        /// Training videos written per class.
        public var trainVideosPerClass: Int
        /// Validation videos written per class.
        public var valVideosPerClass: Int
        /// The classes, in label order.
        public var classes: [SyntheticClass]
        /// The encoder; the file extension follows it (`.mkv` for FFV1, else `.mp4`).
        public var codec: VideoCodecChoice
        /// The seed every video derives from.
        public var seed: UInt64
        /// What lies behind the object.
        public var background: Background = .noise

        /// The static backdrop of every video.
        public enum Background: String, Sendable, Hashable, CaseIterable {
            /// Gray pixel noise (values 100–139), independent per pixel: a single frame shows no
            /// structure behind the object.
            case noise
            /// A smooth gray wave (a random low-frequency plane wave of amplitude 24 around 120):
            /// masked regions of the background can be inferred from their neighbours, so
            /// reconstruction objectives spend their effort on the object.
            case smooth
            /// A flat gray (120): nothing behind the object to reconstruct or to learn, so
            /// pixel-reconstruction objectives learn only the object, its place and its motion.
            case plain
        }

        /// Creates a configuration; the default codec is H.264 at CRF 18 where libx264 exists,
        /// else MPEG-4 at quantiser 2.
        public init(
            width: Int = 64, height: Int = 64, frameCount: Int = 16, fps: Int = 8,
            trainVideosPerClass: Int = 16, valVideosPerClass: Int = 4,
            classes: [SyntheticClass] = SyntheticClass.standard, codec: VideoCodecChoice? = nil, seed: UInt64 = 0
        ) {
            precondition(width >= 8 && height >= 8, "SyntheticDataset: frame size [\(height), \(width)] below 8")
            precondition(frameCount >= 2, "SyntheticDataset: \(frameCount) frames cannot show motion")
            precondition(Set(classes).count == classes.count && !classes.isEmpty,
                         "SyntheticDataset: classes \(classes) must be distinct and not empty")
            precondition(trainVideosPerClass >= 0 && valVideosPerClass >= 0,
                         "SyntheticDataset: negative video count")
            (self.width, self.height, self.frameCount, self.fps) = (width, height, frameCount, fps)
            self.trainVideosPerClass = trainVideosPerClass
            self.valVideosPerClass = valVideosPerClass
            self.classes = classes
            self.codec = codec ?? (VideoCodecChoice.isAvailable(.h264(crf: 18)) ? .h264(crf: 18) : .mpeg4(quantizer: 2))
            self.seed = seed
        }
    }

    /// Where a written dataset's files are.
    public struct Summary: Sendable {
        /// The root directory.
        public var root: String
        /// The training `path label` list.
        public var trainList: String
        /// The validation `path label` list.
        public var valList: String
        /// The class names in label order.
        public var classNames: [String]
        /// Each class name's subset.
        public var subsets: [String: SyntheticClass.Subset]
    }

    /// Writes the dataset under `root` (created if missing).
    ///
    /// - Throws: ``VideoIOError`` from the encoder, or ``DatasetError/writeFailed(path:reason:)``.
    @discardableResult
    public static func write(to root: String, configuration c: Configuration) throws -> Summary {
        let ext = c.codec == .ffv1 ? "mkv" : "mp4"
        var lists: [String: String] = [:]
        for (split, count) in [("train", c.trainVideosPerClass), ("val", c.valVideosPerClass)] {
            var lines = ""
            for (label, cls) in c.classes.enumerated() {
                let folder = "videos/\(split)/\(cls.name)"
                try makeDirectory(root + "/" + folder)
                for v in 0..<count {
                    let relative = "\(folder)/\(cls.name)_\(String(format: "%04d", v)).\(ext)"
                    var generator = RandomGenerator(seed: videoSeed(c.seed, split: split, label: label, index: v))
                    let frames = render(cls, configuration: c, using: &generator)
                    let writer = try VideoWriter(
                        path: root + "/" + relative, width: c.width, height: c.height, fps: c.fps, codec: c.codec)
                    for frame in frames { try writer.append(rgb: frame) }
                    try writer.finish()
                    lines += "\(relative) \(label)\n"
                }
            }
            lists[split] = lines
        }
        let names = c.classes.map(\.name)
        var subsets: [String: SyntheticClass.Subset] = [:]
        for cls in c.classes { subsets[cls.name] = cls.subset }
        let subsetLines = names.sorted().map { "  \"\($0)\": \"\(subsets[$0]!.rawValue)\"" }
        try writeText(lists["train"]!, to: root + "/train.txt")
        try writeText(lists["val"]!, to: root + "/val.txt")
        try writeText(names.joined(separator: "\n") + "\n", to: root + "/classes.txt")
        try writeText("{\n" + subsetLines.joined(separator: ",\n") + "\n}\n", to: root + "/subsets.json")
        return Summary(
            root: root, trainList: root + "/train.txt", valList: root + "/val.txt", classNames: names,
            subsets: subsets)
    }

    /// The seed of one video: distinct for every (split, label, index).
    static func videoSeed(_ seed: UInt64, split: String, label: Int, index: Int) -> UInt64 {
        DataLoader.derivedSeed(seed, split == "train" ? 2 * label : 2 * label + 1, index)
    }

    static func makeDirectory(_ path: String) throws(DatasetError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: path, reason: "cannot create the directory")
        }
    }

    static func writeText(_ text: String, to path: String) throws(DatasetError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw .writeFailed(path: path, reason: "cannot create the file")
        }
    }
}

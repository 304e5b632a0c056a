import Foundation
import TensorCore

/// Frozen features of a set of videos, one row per video or per view, as `videossl
/// extract-features` writes them: the input of ``KNNClassifier``, ``RidgeProbe`` and ``LinearProbe``.
///
/// On disk it is a safetensors file with `features` `[R, C]` (F32), `labels` `[R]` and `indices`
/// `[R]` (I64: each row's video, its line in the list) and, in the metadata, `paths`: a JSON array
/// of one video path per row. Rows that share an index are views of one video (`extract-features
/// --per-view`); the probes sum their scores, as SVT's 3-crop test sums logits. Other metadata
/// (`model`, `list`, `views`, `per_view`) is kept in ``metadata``.
///
/// ```swift
/// let train = try FeatureSet(contentsOf: "train_features.safetensors")
/// print(train.count, train.width, train.videos.count)
/// ```
public struct FeatureSet: Sendable {
    /// The features, `[R, C]`.
    public let features: Tensor
    /// The class label of each row.
    public let labels: [Int]
    /// The video of each row (rows with the same index are views of one video).
    public let indices: [Int]
    /// The video path of each row, when known.
    public let paths: [String]?
    /// The file's other metadata (everything but `paths`).
    public var metadata: [String: String]
    /// The rows of each video, in order of their first row.
    public let videos: [Video]

    /// The rows of one video.
    public struct Video: Sendable, Hashable {
        /// The video's index (the `indices` value its rows share).
        public var index: Int
        /// The video's label.
        public var label: Int
        /// Its rows in the feature matrix, in file order.
        public var rows: [Int]

        /// Creates a video's entry.
        public init(index: Int, label: Int, rows: [Int]) {
            self.index = index
            self.label = label
            self.rows = rows
        }
    }

    /// Rows, `R`.
    public var count: Int { labels.count }
    /// Feature width, `C`.
    public var width: Int { features.shape[1] }
    /// Whether some video has more than one row.
    public var hasSeveralViews: Bool { videos.count < count }
    /// The label of each video of ``videos``.
    public var videoLabels: [Int] { videos.map(\.label) }
    /// The index of each video of ``videos``.
    public var videoIndices: [Int] { videos.map(\.index) }

    /// The metadata key holding the JSON array of paths.
    public static let pathsKey = "paths"

    /// Validates and groups rows into videos; `source` names the set in errors.
    ///
    /// - Throws: ``FeatureSetError`` when `features` is not `[R, C]` with `C > 0`, when `labels`,
    ///   `indices` or `paths` do not have `R` entries, when a label or index is negative, or when
    ///   rows of one video disagree on their label.
    public init(
        features: Tensor, labels: [Int], indices: [Int]? = nil, paths: [String]? = nil,
        metadata: [String: String] = [:], source: String = "<memory>"
    ) throws(FeatureSetError) {
        guard features.rank == 2, features.shape[1] > 0 else {
            throw .wrongShape(path: source, key: "features", shape: features.shape, expected: "[N, C] with C > 0")
        }
        let rows = features.shape[0], indices = indices ?? Array(0..<rows)
        for (key, count) in [("labels", labels.count), ("indices", indices.count), ("paths", paths?.count ?? rows)] where count != rows {
            throw .lengthMismatch(path: source, key: key, count: count, rows: rows)
        }
        if let row = labels.firstIndex(where: { $0 < 0 }) { throw .negativeValue(path: source, key: "labels", row: row) }
        if let row = indices.firstIndex(where: { $0 < 0 }) { throw .negativeValue(path: source, key: "indices", row: row) }
        var position: [Int: Int] = [:], videos: [Video] = []
        for row in 0..<rows {
            if let at = position[indices[row]] {
                guard videos[at].label == labels[row] else {
                    throw .inconsistentVideo(path: source, index: indices[row], labels: [videos[at].label, labels[row]])
                }
                videos[at].rows.append(row)
            } else {
                position[indices[row]] = videos.count
                videos.append(Video(index: indices[row], label: labels[row], rows: [row]))
            }
        }
        self.features = features
        self.labels = labels
        self.indices = indices
        self.paths = paths
        self.metadata = metadata
        self.videos = videos
    }

    /// Reads a feature file.
    ///
    /// `indices` and `paths` are optional (a file without indices has one row per video); `features`
    /// and `labels` are required.
    /// - Throws: ``FeatureSetError``: ``FeatureSetError/unreadable(path:reason:)`` for a missing or
    ///   damaged safetensors file, ``FeatureSetError/missingKey(path:key:)``,
    ///   ``FeatureSetError/wrongDType(path:key:dtype:expected:)`` and
    ///   ``FeatureSetError/wrongShape(path:key:shape:expected:)`` for arrays that are not as above,
    ///   ``FeatureSetError/malformedPaths(path:reason:)`` when `paths` is not a JSON array of
    ///   strings, and what ``init(features:labels:indices:paths:metadata:source:)`` checks.
    public init(contentsOf path: String) throws(FeatureSetError) {
        let file: SafeTensorsFile
        do {
            file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        guard let featureEntry = file.entry(named: "features") else { throw .missingKey(path: path, key: "features") }
        guard featureEntry.dtype == .float32 else {
            throw .wrongDType(path: path, key: "features", dtype: featureEntry.dtype.rawValue, expected: "F32")
        }
        guard featureEntry.shape.count == 2 else {
            throw .wrongShape(path: path, key: "features", shape: featureEntry.shape, expected: "[N, C]")
        }
        let labels = try Self.integers(file, "labels", path: path, required: true)!
        let indices = try Self.integers(file, "indices", path: path, required: false)
        var metadata = file.metadata
        var paths: [String]? = nil
        if let json = metadata.removeValue(forKey: Self.pathsKey) {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8)), let strings = parsed as? [String] else {
                throw .malformedPaths(path: path, reason: "`\(Self.pathsKey)` is not a JSON array of strings")
            }
            paths = strings
        }
        let features: Tensor
        do {
            features = try file.tensor(named: "features")
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        try self.init(features: features, labels: labels, indices: indices, paths: paths, metadata: metadata, source: path)
    }

    /// Writes the set as a feature file (atomically), with ``metadata`` and the paths.
    public func write(to path: String) throws(FeatureSetError) {
        var metadata = self.metadata
        if let paths {
            // JSONSerialization escapes as JSON requires; a [String] always encodes.
            let data = try! JSONSerialization.data(withJSONObject: paths, options: [.withoutEscapingSlashes])
            metadata[Self.pathsKey] = String(decoding: data, as: UTF8.self)
        }
        do {
            try SafeTensors.write(
                arrays: [
                    ("features", .float32(features)),
                    ("labels", .int64(labels, shape: [count])),
                    ("indices", .int64(indices, shape: [count])),
                ],
                metadata: metadata, to: URL(fileURLWithPath: path))
        } catch {
            throw .writeFailed(path: path, reason: error.description)
        }
    }

    /// The rows of each video summed: `[videos.count, D]` from per-row scores `[R, D]`, as SVT's
    /// multi-view test adds the logits of a video's views.
    public func sumOverViews(_ rowScores: Tensor) -> Tensor {
        precondition(rowScores.rank == 2 && rowScores.shape[0] == count,
                     "FeatureSet.sumOverViews: scores \(rowScores.shape) for \(count) rows")
        // One row per video: the videos are the rows, in order.
        if !hasSeveralViews { return rowScores }
        var accumulator = ViewAccumulator(videoCount: videos.count, width: rowScores.shape[1])
        var owner = [Int](repeating: 0, count: count)
        for (v, video) in videos.enumerated() { for row in video.rows { owner[row] = v } }
        accumulator.add(rowScores, videos: owner)
        return accumulator.result(.sum).outputs
    }

    private static func integers(_ file: SafeTensorsFile, _ key: String, path: String, required: Bool) throws(FeatureSetError) -> [Int]? {
        guard let entry = file.entry(named: key) else {
            if required { throw .missingKey(path: path, key: key) }
            return nil
        }
        guard !entry.dtype.isFloatingPoint, entry.dtype != .bool else {
            throw .wrongDType(path: path, key: key, dtype: entry.dtype.rawValue, expected: "an integer type (I64)")
        }
        guard entry.shape.count == 1 else { throw .wrongShape(path: path, key: key, shape: entry.shape, expected: "[N]") }
        do {
            return try file.integers(named: key).values
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
    }
}

/// Problems with a feature file or with the arrays a ``FeatureSet`` is built from.
public enum FeatureSetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is missing or is not a valid safetensors file.
    case unreadable(path: String, reason: String)
    /// A required array is absent.
    case missingKey(path: String, key: String)
    /// An array has the wrong element type.
    case wrongDType(path: String, key: String, dtype: String, expected: String)
    /// An array has the wrong rank or shape.
    case wrongShape(path: String, key: String, shape: [Int], expected: String)
    /// An array's length differs from the number of feature rows.
    case lengthMismatch(path: String, key: String, count: Int, rows: Int)
    /// A label or video index is negative.
    case negativeValue(path: String, key: String, row: Int)
    /// Rows of one video carry different labels.
    case inconsistentVideo(path: String, index: Int, labels: [Int])
    /// The `paths` metadata is not a JSON array of strings.
    case malformedPaths(path: String, reason: String)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)

    /// A one-line explanation with the path and a hint.
    public var description: String {
        let hint = "write feature files with `videossl extract-features`"
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read the feature file (\(reason))"
        case let .missingKey(path, key):
            return "\(path): no `\(key)` array; a feature file holds features [N, C], labels [N] and indices [N]; \(hint)"
        case let .wrongDType(path, key, dtype, expected):
            return "\(path): `\(key)` is \(dtype), expected \(expected); \(hint)"
        case let .wrongShape(path, key, shape, expected):
            return "\(path): `\(key)` has shape \(shape), expected \(expected); \(hint)"
        case let .lengthMismatch(path, key, count, rows):
            return "\(path): `\(key)` has \(count) entries for \(rows) feature rows; \(hint)"
        case let .negativeValue(path, key, row):
            return "\(path): `\(key)` is negative at row \(row); labels and video indices start at 0"
        case let .inconsistentVideo(path, index, labels):
            return "\(path): rows of video \(index) carry different labels (\(labels.map(String.init).joined(separator: ", "))); "
                + "rows with one index must be views of one video"
        case let .malformedPaths(path, reason):
            return "\(path): \(reason); expected metadata `paths` = [\"video0.mp4\", …], one per row"
        case let .writeFailed(path, reason):
            return "\(path): cannot write the feature file (\(reason))"
        }
    }
}

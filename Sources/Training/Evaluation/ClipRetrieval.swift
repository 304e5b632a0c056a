import Foundation
import TensorCore

/// Nearest-neighbour video retrieval: each query video looks for its class among its `k` most
/// similar gallery videos (IIC's protocol, `reference/SVT-VideoMS-IIC.md` §3.8,
/// `retrieve_clips.py`).
///
/// A video's feature is the mean of its rows (IIC: its 10 clips' features); similarity is the
/// cosine. A query is a hit at `k` when **any** of its `k` nearest gallery videos has its label;
/// `R@k` is hits over queries. Ranking is by descending similarity, equal similarities in gallery
/// order, so the result does not depend on sorting details; no full sort is made (a query hits at
/// `k` exactly when fewer than `k` gallery videos rank above its best same-class video).
///
/// ```swift
/// let gallery = try FeatureSet(contentsOf: "train.safetensors")
/// let queries = try FeatureSet(contentsOf: "test.safetensors")
/// let results = try ClipRetrieval(gallery: gallery).evaluate(queries)
/// ```
public struct ClipRetrieval: Sendable {
    /// IIC's `k` values.
    public static let defaultKs = [1, 5, 10, 20, 50]

    /// One `R@k`.
    public struct Result: Sendable, Codable, Equatable {
        /// Neighbours considered.
        public var k: Int
        /// Queries with a same-class video among their `k` nearest.
        public var hits: Int
        /// Queries.
        public var queries: Int
        /// `hits / queries`.
        public var accuracy: Double { queries > 0 ? Double(hits) / Double(queries) : 0 }

        /// Creates a result.
        public init(k: Int, hits: Int, queries: Int) {
            self.k = k
            self.hits = hits
            self.queries = queries
        }

        enum CodingKeys: String, CodingKey { case k, hits, queries, accuracy }

        /// Encodes `k`, `hits`, `queries` and `accuracy`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(k, forKey: .k)
            try c.encode(hits, forKey: .hits)
            try c.encode(queries, forKey: .queries)
            try c.encode(accuracy, forKey: .accuracy)
        }

        /// Decodes `k`, `hits` and `queries`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(k: try c.decode(Int.self, forKey: .k), hits: try c.decode(Int.self, forKey: .hits),
                      queries: try c.decode(Int.self, forKey: .queries))
        }
    }

    /// The gallery's video features, L2-normalised, `[V, C]`.
    public let galleryFeatures: Tensor
    /// The gallery's video labels.
    public let galleryLabels: [Int]

    /// Prepares a gallery (one feature per video: the mean of its rows).
    ///
    /// - Throws: ``RetrievalError/empty(_:)`` for a set without videos.
    public init(gallery: FeatureSet) throws(RetrievalError) {
        guard !gallery.videos.isEmpty else { throw .empty("gallery") }
        galleryFeatures = ClipRetrieval.normalizedRows(ClipRetrieval.videoMeans(gallery))
        galleryLabels = gallery.videoLabels
    }

    /// `R@k` of every query video for each of `ks`.
    ///
    /// - Throws: ``RetrievalError`` when the query set is empty, its width differs from the
    ///   gallery's, or a `k` is not positive.
    public func evaluate(_ queries: FeatureSet, ks: [Int] = ClipRetrieval.defaultKs) throws(RetrievalError) -> [Result] {
        guard !queries.videos.isEmpty else { throw .empty("queries") }
        guard queries.width == galleryFeatures.shape[1] else {
            throw .widthMismatch(gallery: galleryFeatures.shape[1], queries: queries.width)
        }
        if let bad = ks.first(where: { $0 < 1 }) { throw .invalidK(bad) }
        let ranks = firstHitRanks(ClipRetrieval.normalizedRows(ClipRetrieval.videoMeans(queries)), labels: queries.videoLabels)
        return ks.map { k in Result(k: k, hits: ranks.filter { $0 < k }.count, queries: ranks.count) }
    }

    /// For each query, the 0-based rank of its best-ranked same-class gallery video (`Int.max`
    /// when the gallery has none of its class).
    public func firstHitRanks(_ queries: Tensor, labels: [Int]) -> [Int] {
        let v = galleryFeatures.shape[0]
        let similarity = Tensor.matmul(queries, galleryFeatures, transposeB: true)
        return similarity.withUnsafeBufferPointer { s in
            labels.enumerated().map { q, label in
                let row = q * v
                var best = -Float.infinity, bestIndex = -1
                for j in 0..<v where galleryLabels[j] == label && s[row + j] > best {
                    best = s[row + j]
                    bestIndex = j
                }
                guard bestIndex >= 0 else { return Int.max }
                var rank = 0
                for j in 0..<v where s[row + j] > best || (s[row + j] == best && j < bestIndex) { rank += 1 }
                return rank
            }
        }
    }

    /// The mean of each video's rows, `[V, C]`, videos in ``FeatureSet/videos`` order.
    public static func videoMeans(_ set: FeatureSet) -> Tensor {
        if !set.hasSeveralViews { return set.features }
        var accumulator = ViewAccumulator(videoCount: set.videos.count, width: set.width)
        var owner = [Int](repeating: 0, count: set.count)
        for (v, video) in set.videos.enumerated() { for row in video.rows { owner[row] = v } }
        accumulator.add(set.features, videos: owner)
        return accumulator.result(.mean).outputs
    }

    /// Rows divided by their L2 norm (a zero row stays zero).
    static func normalizedRows(_ x: Tensor) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1])
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { v in
                for i in 0..<n {
                    var sum: Double = 0
                    for j in 0..<c { sum += Double(v[i * c + j]) * Double(v[i * c + j]) }
                    let scale = sum > 0 ? Float(1 / sum.squareRoot()) : 0
                    for j in 0..<c { out[i * c + j] = v[i * c + j] * scale }
                }
            }
        }
    }

    /// The set without its trailing videos beyond a whole number of `batchSize` batches: IIC's
    /// retrieval loaders use `drop_last` with batch 8, so they drop the last `V mod 8` videos of each
    /// list (UCF101 split 1: 1 training and 7 test videos).
    public static func droppingLastPartialBatch(_ set: FeatureSet, batchSize: Int) throws(RetrievalError) -> FeatureSet {
        guard batchSize > 0 else { throw .invalidK(batchSize) }
        let keep = set.videos.count / batchSize * batchSize
        guard keep > 0 else { throw .empty("the first \(batchSize)-video batch") }
        let rows = set.videos.prefix(keep).flatMap(\.rows)
        return try subset(set, rows: rows)
    }

    /// Several feature sets of the same videos side by side (IIC's `--merge`: RGB then residual
    /// features), one row per video (each set's video means), columns concatenated in order.
    ///
    /// - Throws: ``RetrievalError/differentVideos`` when the sets do not hold the same videos in
    ///   the same order.
    public static func merged(_ sets: [FeatureSet]) throws(RetrievalError) -> FeatureSet {
        guard let first = sets.first else { throw .empty("the merged sets") }
        for set in sets.dropFirst() where set.videoIndices != first.videoIndices || set.videoLabels != first.videoLabels {
            throw .differentVideos
        }
        let means = sets.map(videoMeans)
        let merged = means.count == 1 ? means[0] : Tensor.concat(means, axis: 1)
        do {
            return try FeatureSet(features: merged, labels: first.videoLabels, indices: first.videoIndices,
                                  paths: first.paths.map { paths in first.videos.map { paths[$0.rows[0]] } },
                                  metadata: first.metadata)
        } catch {
            throw .invalidSet(error.description)
        }
    }

    private static func subset(_ set: FeatureSet, rows: [Int]) throws(RetrievalError) -> FeatureSet {
        do {
            return try FeatureSet(features: set.features.indexSelect(axis: 0, indices: rows), labels: rows.map { set.labels[$0] },
                                  indices: rows.map { set.indices[$0] }, paths: set.paths.map { p in rows.map { p[$0] } },
                                  metadata: set.metadata)
        } catch {
            throw .invalidSet(error.description)
        }
    }
}

/// Why a retrieval could not be computed.
public enum RetrievalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A set has no videos.
    case empty(String)
    /// Query and gallery features differ in width.
    case widthMismatch(gallery: Int, queries: Int)
    /// A `k` or batch size is not positive.
    case invalidK(Int)
    /// Merged sets do not list the same videos.
    case differentVideos
    /// A derived feature set was refused.
    case invalidSet(String)

    /// The problem and a hint.
    public var description: String {
        switch self {
        case .empty(let what): "\(what) has no videos"
        case .widthMismatch(let gallery, let queries):
            "the gallery's features are \(gallery) wide and the queries' \(queries); extract both with the same model and options"
        case .invalidK(let k): "k and batch sizes must be positive, got \(k)"
        case .differentVideos:
            "merged feature files must hold the same videos in the same order (extract them from one list)"
        case .invalidSet(let reason): "invalid feature set: \(reason)"
        }
    }
}

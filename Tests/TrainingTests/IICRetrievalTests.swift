import Foundation
import Testing
import _TestSupport
import TensorCore
import Training

/// Clip retrieval R@k against IIC's `topk_retrieval` restated in NumPy
/// (`Scripts/reference/make_iic_fixtures.py`, `iic_retrieval.safetensors`).
@Suite struct IICRetrievalTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "iic_retrieval", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func ints(_ name: String) -> [Int] { try! file.integers(named: name).values }

    static func set(_ name: String) throws -> FeatureSet {
        try FeatureSet(features: try file.tensor(named: "\(name).features"), labels: ints("\(name).labels"),
                       indices: ints("\(name).indices"))
    }

    @Test func recallAtKEqualsTheReference() throws {
        let gallery = try Self.set("gallery"), queries = try Self.set("queries")
        let ks = Self.ints("results.ks")
        #expect(ks == ClipRetrieval.defaultKs)
        let results = try ClipRetrieval(gallery: gallery).evaluate(queries, ks: ks)
        #expect(results.map(\.hits) == Self.ints("results.all"))
        #expect(results.allSatisfy { $0.queries == 19 })
        #expect(results[0].hits > 0 && results[0].hits < 19)  // the fixture is not trivial

        let keptGallery = try ClipRetrieval.droppingLastPartialBatch(gallery, batchSize: 8)
        let keptQueries = try ClipRetrieval.droppingLastPartialBatch(queries, batchSize: 8)
        #expect(keptGallery.videos.count == 40 && keptQueries.videos.count == 16)
        #expect(keptGallery.count == 400)
        let dropped = try ClipRetrieval(gallery: keptGallery).evaluate(keptQueries, ks: ks)
        #expect(dropped.map(\.hits) == Self.ints("results.drop_last"))
        #expect(abs(dropped[0].accuracy - Double(dropped[0].hits) / 16) < 1e-12)
    }

    @Test func mergingConcatenatesEachVideosMeanFeatures() throws {
        let gallery = try Self.set("gallery")
        let merged = try ClipRetrieval.merged([gallery, gallery])
        #expect(merged.count == 43 && merged.width == 24 && !merged.hasSeveralViews)
        let means = ClipRetrieval.videoMeans(gallery)
        #expect(Array(merged.features.scalars[0..<12]) == Array(means.scalars[0..<12]))
        #expect(Array(merged.features.scalars[12..<24]) == Array(means.scalars[0..<12]))
        // Concatenating a set with itself scales every cosine alike: the same retrieval.
        let queries = try Self.set("queries")
        let one = try ClipRetrieval(gallery: gallery).evaluate(queries)
        let two = try ClipRetrieval(gallery: merged).evaluate(try ClipRetrieval.merged([queries, queries]))
        #expect(one.map(\.hits) == two.map(\.hits))
        #expect(throws: RetrievalError.differentVideos) { try ClipRetrieval.merged([gallery, queries]) }
    }

    @Test func aQueryHitsWhenAnyOfItsKNearestSharesItsClass() throws {
        // Gallery: video 0 (class 1) is nearest to the query, video 2 (class 0) third.
        let gallery = try FeatureSet(features: Tensor(shape: [3, 2], scalars: [1, 0, 0.9, 0.5, 0, 1]), labels: [1, 2, 0])
        let queries = try FeatureSet(features: Tensor(shape: [1, 2], scalars: [1, 0.1]), labels: [0])
        let results = try ClipRetrieval(gallery: gallery).evaluate(queries, ks: [1, 2, 3, 50])
        #expect(results.map(\.hits) == [0, 0, 1, 1])
        #expect(throws: RetrievalError.widthMismatch(gallery: 2, queries: 3)) {
            try ClipRetrieval(gallery: gallery).evaluate(try FeatureSet(features: Tensor(zeros: [1, 3]), labels: [0]))
        }
        #expect(throws: RetrievalError.invalidK(0)) { try ClipRetrieval(gallery: gallery).evaluate(queries, ks: [0]) }
        // A query whose class the gallery lacks never hits.
        let stranger = try FeatureSet(features: Tensor(shape: [1, 2], scalars: [1, 0]), labels: [7])
        #expect(try ClipRetrieval(gallery: gallery).evaluate(stranger, ks: [3]).map(\.hits) == [0])
    }
}

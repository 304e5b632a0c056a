import Foundation
import TensorCore
import Testing
import Training
import _TestSupport

/// Feature files (`videossl extract-features`): round trip, grouping of views, and a typed error
/// for each way a file can be malformed.
@Suite struct FeatureSetTests {
    let folder = Scratch.directory("feature-set")

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func write(_ name: String, _ arrays: [(String, SafeTensorsArray)], metadata: [String: String] = [:]) throws -> String {
        try SafeTensors.write(arrays: arrays, metadata: metadata, to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    private static let features = SafeTensorsArray.float32(Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))
    private static let labels = SafeTensorsArray.int64([0, 1, 1], shape: [3])

    @Test func roundTripKeepsRowsPathsMetadataAndGroupsViews() throws {
        let paths = ["a/b.mp4", "a/b.mp4", "vidéo \"ü\"\\x.mp4", "vidéo \"ü\"\\x.mp4", "vidéo \"ü\"\\x.mp4"]
        let set = try FeatureSet(
            features: Tensor(shape: [5, 2], scalars: (0..<10).map(Float.init)), labels: [1, 1, 0, 0, 0],
            indices: [4, 4, 2, 2, 2], paths: paths, metadata: ["model": "m", "views": "3"])
        #expect(set.videos == [FeatureSet.Video(index: 4, label: 1, rows: [0, 1]), FeatureSet.Video(index: 2, label: 0, rows: [2, 3, 4])])
        #expect(set.hasSeveralViews && set.videoLabels == [1, 0] && set.videoIndices == [4, 2] && set.width == 2)
        try set.write(to: path("set.safetensors"))
        let read = try FeatureSet(contentsOf: path("set.safetensors"))
        #expect(read.features == set.features && read.labels == set.labels && read.indices == set.indices)
        #expect(read.paths == paths && read.metadata == ["model": "m", "views": "3"] && read.videos == set.videos)
        // Python reads the paths as plain JSON.
        let raw = try SafeTensors.read(contentsOf: URL(fileURLWithPath: path("set.safetensors")))
        let json = try JSONSerialization.jsonObject(with: Data(try #require(raw.metadata["paths"]).utf8))
        #expect(json as? [String] == paths)
    }

    @Test func sumOverViewsAddsTheRowsOfEachVideo() throws {
        let set = try FeatureSet(features: Tensor(zeros: [3, 1]), labels: [0, 1, 0], indices: [7, 3, 7])
        let summed = set.sumOverViews(Tensor(shape: [3, 2], scalars: [1, 2, 10, 20, 100, 200]))
        #expect(summed.shape == [2, 2] && summed.scalars == [101, 202, 10, 20])
    }

    @Test func aFileWithoutIndicesOrPathsHasOneRowPerVideo() throws {
        let file = try write("plain.safetensors", [("features", Self.features), ("labels", Self.labels)])
        let set = try FeatureSet(contentsOf: file)
        #expect(set.indices == [0, 1, 2] && set.paths == nil && !set.hasSeveralViews)
    }

    @Test func eachMalformedFileIsATypedError() throws {
        let f = Self.features, l = Self.labels
        var file = path("missing.safetensors")
        #expect { try FeatureSet(contentsOf: file) } throws: { error in
            guard case .unreadable(let p, _) = error as? FeatureSetError else { return false }
            return p == file
        }
        file = path("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: FeatureSetError.self) { try FeatureSet(contentsOf: file) }

        file = try write("nofeatures.safetensors", [("labels", l)])
        #expect(throws: FeatureSetError.missingKey(path: file, key: "features")) { try FeatureSet(contentsOf: file) }
        file = try write("nolabels.safetensors", [("features", f)])
        #expect(throws: FeatureSetError.missingKey(path: file, key: "labels")) { try FeatureSet(contentsOf: file) }

        let doubles = SafeTensorsArray(dtype: .float64, shape: [3, 1], bytes: Data(count: 24))
        file = try write("f64.safetensors", [("features", doubles), ("labels", l)])
        #expect(throws: FeatureSetError.wrongDType(path: file, key: "features", dtype: "F64", expected: "F32")) {
            try FeatureSet(contentsOf: file)
        }
        file = try write("rank3.safetensors", [("features", .float32(Tensor(zeros: [3, 1, 2]))), ("labels", l)])
        #expect(throws: FeatureSetError.wrongShape(path: file, key: "features", shape: [3, 1, 2], expected: "[N, C]")) {
            try FeatureSet(contentsOf: file)
        }
        file = try write("floatlabels.safetensors", [("features", f), ("labels", .float32(Tensor([0, 1, 1])))])
        #expect(throws: FeatureSetError.wrongDType(path: file, key: "labels", dtype: "F32", expected: "an integer type (I64)")) {
            try FeatureSet(contentsOf: file)
        }
        file = try write("labels2d.safetensors", [("features", f), ("labels", .int64([0, 1, 1], shape: [3, 1]))])
        #expect(throws: FeatureSetError.wrongShape(path: file, key: "labels", shape: [3, 1], expected: "[N]")) {
            try FeatureSet(contentsOf: file)
        }
        file = try write("short.safetensors", [("features", f), ("labels", .int64([0, 1], shape: [2]))])
        #expect(throws: FeatureSetError.lengthMismatch(path: file, key: "labels", count: 2, rows: 3)) { try FeatureSet(contentsOf: file) }
        file = try write("indices.safetensors", [("features", f), ("labels", l), ("indices", .int64([0, 1, 2, 3], shape: [4]))])
        #expect(throws: FeatureSetError.lengthMismatch(path: file, key: "indices", count: 4, rows: 3)) { try FeatureSet(contentsOf: file) }
        file = try write("paths.safetensors", [("features", f), ("labels", l)], metadata: ["paths": "{\"a\": 1}"])
        #expect(throws: FeatureSetError.malformedPaths(path: file, reason: "`paths` is not a JSON array of strings")) {
            try FeatureSet(contentsOf: file)
        }
        file = try write("pathcount.safetensors", [("features", f), ("labels", l)], metadata: ["paths": "[\"a.mp4\"]"])
        #expect(throws: FeatureSetError.lengthMismatch(path: file, key: "paths", count: 1, rows: 3)) { try FeatureSet(contentsOf: file) }
        file = try write("negative.safetensors", [("features", f), ("labels", .int64([0, -1, 1], shape: [3]))])
        #expect(throws: FeatureSetError.negativeValue(path: file, key: "labels", row: 1)) { try FeatureSet(contentsOf: file) }
        file = try write("views.safetensors", [("features", f), ("labels", l), ("indices", .int64([5, 5, 5], shape: [3]))])
        #expect(throws: FeatureSetError.inconsistentVideo(path: file, index: 5, labels: [0, 1])) { try FeatureSet(contentsOf: file) }

        #expect(FeatureSetError.missingKey(path: "x", key: "labels").description.contains("extract-features"))
    }
}

import Foundation
import TensorCore
import Testing
import _TestSupport

/// `videossl knn` and `videossl linear-probe` on small feature files: tables, JSON, and clear
/// errors (never a trap) for inputs that do not fit.
@Suite("videossl knn and linear-probe")
struct ProbeCommandTests {
    let folder = Scratch.directory("videossl-probes")

    /// Three well-separated classes in 8 dimensions; `views` rows per video.
    private func features(_ name: String, videos: Int, width: Int = 8, views: Int = 1, seed: UInt64) throws -> String {
        var g = RandomGenerator(seed: seed)
        var values: [Float] = [], labels: [Int] = [], indices: [Int] = []
        for video in 0..<videos {
            let label = video % 3
            for _ in 0..<views {
                values += (0..<width).map { (j: Int) -> Float in (j % 3 == label ? 4 : 0) + g.nextNormal() }
                labels.append(label)
                indices.append(video)
            }
        }
        let path = folder.appendingPathComponent(name).path
        try SafeTensors.write(arrays: [
            ("features", .float32(Tensor(shape: [labels.count, width], scalars: values))),
            ("labels", .int64(labels, shape: [labels.count])),
            ("indices", .int64(indices, shape: [labels.count])),
        ], to: URL(fileURLWithPath: path))
        return path
    }

    private func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test func knnPrintsATableAndWritesJSONForSeveralK() throws {
        let train = try features("train.safetensors", videos: 60, seed: 1)
        let val = try features("val.safetensors", videos: 30, views: 3, seed: 2)
        let out = folder.appendingPathComponent("knn.json").path
        let result = try runVideoSSL(["knn", "--train", train, "--val", val, "--k", "1,5", "--json", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("top-1") && result.output.contains("90 rows of 30 videos"), "\(result.output)")
        let record = try json(out)
        let results = try #require(record["results"] as? [[String: Any]])
        #expect(results.map { $0["k"] as? Int } == [1, 5])
        #expect(results.allSatisfy { ($0["count"] as? Int) == 30 && (($0["top1"] as? Double) ?? 0) > 0.9 })
    }

    @Test func linearProbeRunsSGDAndRidge() throws {
        let train = try features("train.safetensors", videos: 60, seed: 1)
        let val = try features("val.safetensors", videos: 30, views: 3, seed: 2)
        let out = folder.appendingPathComponent("sgd.json").path
        let sgd = try runVideoSSL(["linear-probe", "--train", train, "--val", val, "--epochs", "3", "--lr", "0.05", "--json", out])
        #expect(sgd.status == 0, "\(sgd.output)")
        #expect(sgd.output.contains("best top-1"), "\(sgd.output)")
        let record = try json(out)
        #expect((record["epochs"] as? [Any])?.count == 3 && record["method"] as? String == "sgd")
        #expect(((record["final"] as? [String: Any])?["count"] as? Int) == 30)

        let ridgeOut = folder.appendingPathComponent("ridge.json").path
        let ridge = try runVideoSSL(["linear-probe", "--train", train, "--val", val, "--method", "ridge", "--alpha", "0.1", "--json", ridgeOut])
        #expect(ridge.status == 0, "\(ridge.output)")
        let ridgeRecord = try json(ridgeOut)
        #expect(ridgeRecord["alpha"] as? Double == 0.1)
        #expect((((ridgeRecord["final"] as? [String: Any])?["top1"] as? Double) ?? 0) > 0.9)
    }

    @Test func badInputsGiveClearErrors() throws {
        let train = try features("train.safetensors", videos: 12, seed: 1)
        let wide = try features("wide.safetensors", videos: 6, width: 5, seed: 2)
        let cases: [([String], String)] = [
            (["knn", "--train", train, "--val", wide], "width 8 but validation features 5"),
            (["linear-probe", "--train", train, "--val", wide], "width 8 but validation features 5"),
            (["linear-probe", "--train", train, "--val", wide, "--method", "ridge"], "width 8 but validation features 5"),
            (["knn", "--train", train, "--val", train, "--k", "0"], "choose k in 1…12"),
            (["knn", "--train", train, "--val", train, "--k", "5,13"], "choose k in 1…12"),
            (["knn", "--train", train, "--val", train, "--k", "3", "--temperature=-1"], "--temperature -1.0 is invalid"),
            (["linear-probe", "--train", train, "--val", train, "--epochs", "0"], "--epochs 0 is invalid"),
            (["linear-probe", "--train", train, "--val", train, "--method", "ridge", "--alpha=-2"], "--alpha -2.0 is invalid"),
            (["knn", "--train", folder.appendingPathComponent("none.safetensors").path, "--val", train], "cannot read"),
        ]
        for (arguments, message) in cases {
            let result = try runVideoSSL(arguments)
            #expect(result.status == 1, "\(arguments): status \(result.status)\n\(result.output)")
            #expect(result.output.contains(message), "\(arguments):\n\(result.output)")
        }
        let labelsOnly = folder.appendingPathComponent("labels.safetensors").path
        try SafeTensors.write(arrays: [("labels", .int64([0], shape: [1]))], to: URL(fileURLWithPath: labelsOnly))
        let missing = try runVideoSSL(["knn", "--train", labelsOnly, "--val", train])
        #expect(missing.status == 1 && missing.output.contains("no `features` array"), "\(missing.output)")
    }
}

/// `videossl retrieve`: the R@k table, JSON, merging and IIC's drop-last option.
@Suite("videossl retrieve")
struct RetrieveCommandTests {
    let folder = Scratch.directory("videossl-retrieve")

    /// Three classes in 6 dimensions, `views` rows per video.
    private func features(_ name: String, videos: Int, views: Int, seed: UInt64) throws -> String {
        var g = RandomGenerator(seed: seed)
        var values: [Float] = [], labels: [Int] = [], indices: [Int] = []
        for video in 0..<videos {
            for _ in 0..<views {
                values += (0..<6).map { (j: Int) -> Float in (j % 3 == video % 3 ? 3 : 0) + g.nextNormal() }
                labels.append(video % 3)
                indices.append(video)
            }
        }
        let path = folder.appendingPathComponent(name).path
        try SafeTensors.write(arrays: [
            ("features", .float32(Tensor(shape: [labels.count, 6], scalars: values))),
            ("labels", .int64(labels, shape: [labels.count])),
            ("indices", .int64(indices, shape: [labels.count])),
        ], to: URL(fileURLWithPath: path))
        return path
    }

    @Test func retrievePrintsRecallAtKAndWritesJSON() throws {
        let train = try features("train.safetensors", videos: 21, views: 10, seed: 1)
        let val = try features("val.safetensors", videos: 13, views: 10, seed: 2)
        let out = folder.appendingPathComponent("retrieval.json").path
        let result = try runVideoSSL(["retrieve", "--train", train, "--val", val, "--json", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("gallery: 21 videos; queries: 13 videos; width 6"), "\(result.output)")
        let record = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let results = try #require(record["results"] as? [[String: Any]])
        #expect(results.map { $0["k"] as? Int } == [1, 5, 10, 20, 50])
        #expect(results.allSatisfy { ($0["queries"] as? Int) == 13 && (($0["accuracy"] as? Double) ?? 0) > 0.8 })

        let dropped = try runVideoSSL(["retrieve", "--train", train, "--train", train, "--val", val, "--val", val,
                                       "--merge", "--drop-last", "8", "--k", "1,5"])
        #expect(dropped.status == 0, "\(dropped.output)")
        #expect(dropped.output.contains("gallery: 16 videos; queries: 8 videos; width 12"), "\(dropped.output)")

        let unmerged = try runVideoSSL(["retrieve", "--train", train, "--train", train, "--val", val, "--val", val])
        #expect(unmerged.status != 0 && unmerged.output.contains("--merge"), "\(unmerged.output)")
        let missing = try runVideoSSL(["retrieve", "--train", folder.appendingPathComponent("none.safetensors").path, "--val", val])
        #expect(missing.status != 0 && missing.output.contains("none.safetensors"), "\(missing.output)")
    }
}

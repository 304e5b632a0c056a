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

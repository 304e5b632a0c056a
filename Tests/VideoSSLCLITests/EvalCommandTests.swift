import Foundation
import _TestSupport
import Testing
import TensorCore
import VideoIO

/// Runs `videossl eval` and `videossl extract-features` on a generated 8-class dataset with a
/// one-block TimeSformer.
@Suite("videossl eval and extract-features")
final class EvalCommandTests {
    let folder = Scratch.directory("videossl-eval")
    let model = ["--model", "timesformer_tiny_8x112", "--set", "depth=1", "--set", "img_size=32",
                 "--set", "num_frames=4", "--set", "num_classes=8"]

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SyntheticDataset.write(to: folder.path, configuration: .init(
            width: 32, height: 32, frameCount: 4, fps: 4, trainVideosPerClass: 0, valVideosPerClass: 1, seed: 2))
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runVideoSSL(arguments)
    }

    @Test func evalPrintsTheGapTableAndWritesReportAndConfusionMatrix() throws {
        let out = folder.appendingPathComponent("eval").path
        let result = try run(["eval"] + model + [
            "--list", folder.path + "/val.txt", "--root", folder.path, "--crops", "1", "--shuffled",
            "--subsets", folder.path + "/subsets.json", "--output", out, "--workers", "1"])
        #expect(result.status == 0, "\(result.output)")
        for word in ["top-5", "mean class", "original", "shuffled", "Gap", "temporal", "static"] {
            #expect(result.output.contains(word), "missing \(word) in\n\(result.output)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let report = try #require(json as? [String: Any])
        let original = try #require(report["original"] as? [String: Any])
        let shuffled = try #require(report["shuffled"] as? [String: Any])
        let gap = try #require(report["gap"] as? [String: Any])
        #expect(original["count"] as? Int == 8)
        let top1 = try #require(original["top1"] as? Double), shuffledTop1 = try #require(shuffled["top1"] as? Double)
        let gapValue = try #require(gap["gap"] as? Double)
        #expect(Swift.abs(gapValue - (top1 - shuffledTop1)) < 1e-12)
        let subsets = try #require(original["subsets"] as? [String: Any])
        #expect(subsets.keys.sorted() == ["static", "temporal"])

        let csv = try String(contentsOfFile: out + "/confusion.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines.first?.hasPrefix("true\\predicted,moving_left,moving_right") == true, "\(csv)")
        let counted = lines.dropFirst().flatMap { $0.split(separator: ",").dropFirst().compactMap { Int($0) } }
        #expect(counted.count == 64 && counted.reduce(0, +) == 8)
        #expect(FileManager.default.fileExists(atPath: out + "/confusion_shuffled.csv"))
    }

    @Test func evalTakesModelDataAndViewsFromARecipe() throws {
        let recipe = folder.appendingPathComponent("recipe.yaml").path
        try """
            model:
              name: timesformer_tiny_8x112
              overrides: {depth: 1, img_size: 32, num_frames: 4, num_classes: 8}
            data:
              root: \(folder.path)
              train: val.txt
              val: val.txt
              subsets: subsets.json
              frames: 4
              crop: 32
            """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let fromRecipe = try run(["eval", "--config", recipe, "--crops", "1", "--shuffled", "--workers", "1"])
        #expect(fromRecipe.status == 0, "\(fromRecipe.output)")
        let explicit = try run(["eval"] + model + [
            "--list", folder.path + "/val.txt", "--root", folder.path, "--crops", "1", "--shuffled",
            "--subsets", folder.path + "/subsets.json", "--workers", "1"])
        #expect(explicit.status == 0, "\(explicit.output)")
        // Same model (seed 0), data and views: the same tables.
        let tables = { (text: String) in text.split(separator: "\n").filter { $0.contains("temporal") || $0.contains("static") } }
        #expect(tables(fromRecipe.output) == tables(explicit.output) && !tables(explicit.output).isEmpty,
                "\(fromRecipe.output)\n---\n\(explicit.output)")
        let missing = try run(["eval", "--crops", "1"])
        #expect(missing.status != 0 && missing.output.contains("--model"), "\(missing.output)")
    }

    @Test func evalRejectsSeveralSegmentClips() throws {
        let result = try run(["eval"] + model + ["--list", folder.path + "/val.txt", "--root", folder.path, "--clips", "2"])
        #expect(result.status != 0)
        #expect(result.output.contains("--sampling dense"), "\(result.output)")
    }

    @Test func extractFeaturesWritesOneEmbeddingAndLabelPerVideo() throws {
        let out = folder.appendingPathComponent("features.safetensors").path
        let result = try run(["extract-features"] + model + [
            "--list", folder.path + "/val.txt", "--root", folder.path, "--output", out])
        #expect(result.status == 0, "\(result.output)")
        let file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: out))
        let features = try file.tensor(named: "features")
        #expect(features.shape == [8, 192])
        #expect(features.scalars.allSatisfy { $0.isFinite })
        let labels = try file.integers(named: "labels")
        #expect(labels.shape == [8] && labels.values == Array(0..<8))
        #expect(file.entry(named: "labels")?.dtype == .int64)
        let paths = try JSONSerialization.jsonObject(with: Data(try #require(file.metadata["paths"]).utf8)) as? [String]
        #expect(paths?.count == 8 && paths?.first?.hasSuffix(".mp4") == true, "\(paths ?? [])")
        #expect(file.metadata["per_view"] == "false")
    }

    @Test func extractFeaturesPerViewKeepsEachCropAsARow() throws {
        let out = folder.appendingPathComponent("views.safetensors").path
        let result = try run(["extract-features"] + model + [
            "--list", folder.path + "/val.txt", "--root", folder.path, "--crops", "3", "--decode-size", "48x32", "--per-view",
            "--output", out])
        #expect(result.status == 0, "\(result.output)")
        let file = try SafeTensors.read(contentsOf: URL(fileURLWithPath: out))
        #expect(try file.tensor(named: "features").shape == [24, 192])
        #expect(try file.integers(named: "indices").values == (0..<8).flatMap { [$0, $0, $0] })
        #expect(try file.integers(named: "labels").values == (0..<8).flatMap { [$0, $0, $0] })
        let paths = try JSONSerialization.jsonObject(with: Data(try #require(file.metadata["paths"]).utf8)) as? [String]
        #expect(paths?.count == 24 && paths?[0] == paths?[2] && paths?[2] != paths?[3])
        #expect(file.metadata["per_view"] == "true" && file.metadata["views"] == "3")

        // The views of a video differ (three crops) and their mean is the averaged default.
        let mean = folder.appendingPathComponent("mean.safetensors").path
        #expect(try run(["extract-features"] + model + [
            "--list", folder.path + "/val.txt", "--root", folder.path, "--crops", "3", "--decode-size", "48x32",
            "--output", mean]).status == 0)
        let views = try file.tensor(named: "features").scalars
        let averaged = try SafeTensors.read(contentsOf: URL(fileURLWithPath: mean)).tensor(named: "features").scalars
        #expect(views[0..<192] != views[192..<384])
        let worst = (0..<(8 * 192)).map { i -> Float in
            let (v, j) = (i / 192, i % 192)
            let m = (views[(3 * v) * 192 + j] + views[(3 * v + 1) * 192 + j] + views[(3 * v + 2) * 192 + j]) / 3
            return Swift.abs(m - averaged[i])
        }.max()!
        #expect(worst < 1e-4)
    }
}

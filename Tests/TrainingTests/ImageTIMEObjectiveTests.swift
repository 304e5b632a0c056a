import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training
import VideoIO

/// A tiny synthetic Backgrounds Challenge (3 classes, 16² images) written once per test process.
private enum TinyChallenge {
    static let data: String = {
        FFmpegLogLevel.set(.error)
        let root = Scratch.directory("image-time-data").path
        _ = try! SyntheticBackgrounds.write(to: root, configuration: .init(
            size: 16, classCount: 3, trainImagesPerClass: 4, testImagesPerClass: 2, correlation: 1, seed: 2))
        return root
    }()

    static func yaml(output: String, kind: String = "image_time") -> String {
        """
        model:
          name: vit_tiny_patch8_32
          overrides: {img_size: 16, patch_size: 4, embed_dim: 16, depth: 1, num_heads: 2, num_classes: 3}
        data:
          root: \(data)
          train: train.txt
          frames: 1
          decode_size: [16, 16]
          scale_jitter: [16, 20]
          crop: 16
          flip: true
          workers: 1
        objective:
          kind: \(kind)
          weights: {cls: 1, order: 0.5, debias: 2}
        optimizer:
          lr: 1.0e-3
        schedule:
          policy: constant
        train:
          epochs: 1
          batch_size: 4
          checkpoint_every: 100
        seed: 5
        output_dir: \(output)
        """
    }
}

@Suite("Image TIME objective in training")
struct ImageTIMEObjectiveTests {
    static let configs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs").path

    @Test func isRegisteredAndReadsItsWeights() throws {
        #expect(Objectives.kinds.contains("image_time"))
        let recipe = try Recipe(yaml: TinyChallenge.yaml(output: "/tmp/unused"))
        let s = try recipe.objective.settings(as: ImageTIMETrainingObjective.Settings.self)
        #expect(s.classificationWeight == 1 && s.orderWeight == 0.5 && s.debiasWeight == 2 && s.labelSmoothing == 0.2)
        #expect(throws: RecipeError.self) {
            _ = try Recipe(yaml: TinyChallenge.yaml(output: "/tmp/unused"), overrides: ["objective.weights.flow=1"])
        }
        // The baseline keeps the shared keys (weights.cls, label_smoothing) and drops the rest.
        let baseline = try recipe.withObjective("supervised")
        #expect(baseline.objective.kind == "supervised")
        for file in ["synthetic_tiny", "in9_vitb16"] {
            let r = try Recipe(contentsOf: "\(Self.configs)/image_time/\(file).yaml")
            #expect(r.objective.kind == "image_time" && r.data.frames == 1, "\(file)")
        }
    }

    @Test func oneTrainingStepUsesImagesBackgroundsAndThePatchHead() throws {
        let trainer = try Trainer(recipe: try Recipe(yaml: TinyChallenge.yaml(output: Scratch.directory("image-time-run").path)),
                                  overwrite: true)
        let objective = try #require(trainer.setup.objective as? ImageTIMETrainingObjective)
        #expect(objective.decodesCompanions && objective.time.configuration.patchCount == 16)
        let keys = trainer.model.namedParameters().map(\.0)
        #expect(keys.contains("patch_head.weight") && keys.contains("head.weight"))

        let batches = trainer.loader.batches(from: .init(epoch: 0))
        let batch = try #require(try batches.next())
        batches.close()
        #expect(batch.clips.shape == [4, 1, 3, 16, 16] && batch.views.count == 2 && batch.views[1].shape == batch.clips.shape)
        // Backgrounds equal their images wherever the shape is not: the same crop and flip reached both.
        let same = zip(batch.clips.scalars, batch.views[1].scalars).filter { $0 == $1 }.count
        #expect(same > batch.clips.count / 2 && same < batch.clips.count)

        var terms: [String: Double] = [:]
        trainer.onEvent = { event in
            if case .step(let progress) = event { terms = Dictionary(uniqueKeysWithValues: progress.terms) }
        }
        let before = trainer.model.namedParameters().first { $0.0 == "patch_head.weight" }!.1.value.scalars
        try trainer.run(stopAfter: 1)
        #expect(Set(terms.keys) == ["cls", "order", "debias"])
        // At the start the debias term is near 2·ln 3 and the order term near 0.5·ln 16.
        #expect(abs(terms["debias"]! - 2 * log(3.0)) < 0.5, "\(terms)")
        #expect(abs(terms["order"]! - 0.5 * log(16.0)) < 0.5, "\(terms)")
        let after = trainer.model.namedParameters().first { $0.0 == "patch_head.weight" }!.1.value.scalars
        #expect(before != after)
    }

    @Test func aListWithoutBackgroundsIsRefusedBeforeTraining() throws {
        let root = Scratch.directory("image-time-bare").path
        let text = try String(contentsOfFile: TinyChallenge.data + "/train.txt", encoding: .utf8)
        let bare = text.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
        try (bare.joined(separator: "\n") + "\n").write(toFile: root + "/bare.txt", atomically: true, encoding: .utf8)
        let recipe = try Recipe(yaml: TinyChallenge.yaml(output: root + "/run"), overrides: ["data.train=\(root)/bare.txt"])
        let first = try VideoDataset.pathLabelList(at: root + "/bare.txt", root: TinyChallenge.data).items[0].path
        #expect(throws: DatasetError.missingCompanion(path: root + "/bare.txt", item: first)) {
            _ = try Trainer(recipe: recipe, overwrite: true)
        }
        // Without the debias term no background is needed.
        let orderOnly = try Recipe(yaml: TinyChallenge.yaml(output: root + "/run2"),
                                   overrides: ["data.train=\(root)/bare.txt", "objective.weights.debias=0"])
        let trainer = try Trainer(recipe: orderOnly, overwrite: true)
        #expect(!trainer.setup.objective.decodesCompanions)
        try trainer.run(stopAfter: 1)
    }

    @Test func backgroundsChallengeReportScoresEveryVariant() throws {
        let trainer = try Trainer(recipe: try Recipe(yaml: TinyChallenge.yaml(output: Scratch.directory("image-time-eval").path)),
                                  overwrite: true)
        let challenge = try BackgroundsChallenge(root: TinyChallenge.data + "/bg_challenge")
        let report = try BackgroundsChallengeReport.evaluate(trainer.backbone, on: challenge, cropSize: 16)
        #expect(report.entries.map(\.variant) == SyntheticBackgrounds.variants.map(\.rawValue))
        #expect(report.entries.allSatisfy { $0.count == 6 && (0...1).contains($0.top1) })
        // Each accuracy is a multiple of 1/6 and the gap is their difference.
        for e in report.entries { #expect(abs(e.top1 * 6 - (e.top1 * 6).rounded()) < 1e-9) }
        #expect(report.backgroundGap == report.top1(.mixedSame)! - report.top1(.mixedRand)!)
        let json = try JSONSerialization.jsonObject(with: report.json()) as? [String: Any]
        #expect((json?["entries"] as? [Any])?.count == 8 && json?["bg_gap"] is Double)
        #expect(report.table.contains("mixed_rand") && report.table.contains("BG-Gap"))

        // Hand-made entries: the gap is Mixed-Same minus Mixed-Rand, absent without either.
        let manual = BackgroundsChallengeReport(entries: [.init(variant: "mixed_same", count: 10, top1: 0.7),
                                                          .init(variant: "mixed_rand", count: 10, top1: 0.4)])
        #expect(abs(manual.backgroundGap! - 0.3) < 1e-12)
        #expect(BackgroundsChallengeReport(entries: [.init(variant: "original", count: 1, top1: 1)]).backgroundGap == nil)
    }
}

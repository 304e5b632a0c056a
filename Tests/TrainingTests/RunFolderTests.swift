import Foundation
import Testing
import TensorCore
import Training
import _TestSupport

/// A run folder belongs to one run: a second run is refused, a resume writes where it resumed
/// from, and damaged checkpoints are found by their manifest and passed over.
@Suite("Run folders")
struct RunFolderTests {
    static func recipe(_ folder: String, _ overrides: [String] = []) throws -> Recipe {
        try TinyRun.recipe(output: folder, overrides: ["train.checkpoint_every=2", "train.eval_every=0"] + overrides)
    }

    static func flipByte(in path: String, at offset: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data([byte ^ 0x10]))
    }

    @Test func aSecondRunIntoTheSameFolderIsRefusedUnlessOverwritten() throws {
        let folder = TinyRun.folder("second")
        try Trainer(recipe: Self.recipe(folder)).run(stopAfter: 4)
        #expect(throws: RunFolderError.self) { _ = try Trainer(recipe: Self.recipe(folder)) }
        do {
            _ = try Trainer(recipe: Self.recipe(folder))
        } catch let error as RunFolderError {
            #expect(error.evidence.contains("checkpoints") && error.description.contains("--resume"))
        }
        // --overwrite replaces the earlier run: its step-4 checkpoint does not outlive the new one.
        let again = try Trainer(recipe: Self.recipe(folder), overwrite: true)
        try again.run(stopAfter: 2)
        #expect(again.checkpoints.completeSteps() == [2])
        #expect(try CheckpointStore.resolve(folder).hasSuffix("checkpoint-00000002"))
    }

    @Test func resumingACopiedRunWritesIntoTheCopy() throws {
        let original = TinyRun.folder("original")
        try Trainer(recipe: Self.recipe(original)).run(stopAfter: 4)
        let before = try FileManager.default.contentsOfDirectory(atPath: original + "/checkpoints").sorted()
        let copy = TinyRun.folder("copy") + "/run"
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        // The recipe still names the original folder; the resume writes into the copy regardless.
        let resumed = try Trainer(recipe: Self.recipe(original), resume: copy)
        #expect(resumed.runDirectory == URL(fileURLWithPath: copy).standardized.path && resumed.step == 4)
        try resumed.run(stopAfter: 6)
        #expect(try FileManager.default.contentsOfDirectory(atPath: original + "/checkpoints").sorted() == before)
        #expect(resumed.checkpoints.completeSteps() == [2, 4, 6])
        #expect(try String(contentsOfFile: copy + "/config.yaml", encoding: .utf8).contains("output_dir: \"\(resumed.runDirectory)\""))
    }

    @Test func aDamagedLatestCheckpointFallsBackToThePreviousIntactOne() throws {
        let folder = TinyRun.folder("damaged")
        try Trainer(recipe: Self.recipe(folder)).run(stopAfter: 4)
        let store = CheckpointStore(directory: folder + "/checkpoints")
        #expect(store.completeSteps() == [2, 4])
        let weights = store.folder(step: 4) + "/model.safetensors"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int)
        // Truncation changes the size.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: weights))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let point = try CheckpointStore.resolveForResume(folder)
        #expect(point.checkpoint == store.folder(step: 2))
        guard case .damaged(let path, let reason)? = point.passedOver.first else {
            Issue.record("expected a damaged checkpoint, got \(point.passedOver)")
            return
        }
        #expect(path == store.folder(step: 4) && reason.contains("model.safetensors"))
        let resumed = try Trainer(recipe: Self.recipe(folder), resume: folder)
        #expect(resumed.step == 2)
        #expect(resumed.resumeNotes.count == 1 && resumed.resumeNotes[0].contains("checkpoint-00000004"))
        // Training on replaces the damaged folder.
        try resumed.run(stopAfter: 4)
        try CheckpointStore.verify(store.folder(step: 4))
    }

    @Test func aSameSizeBitFlipIsCaughtByTheChecksum() throws {
        let folder = TinyRun.folder("bitflip")
        try Trainer(recipe: Self.recipe(folder)).run(stopAfter: 2)
        let checkpoint = CheckpointStore(directory: folder + "/checkpoints").folder(step: 2)
        let weights = checkpoint + "/model.safetensors"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int)
        try Self.flipByte(in: weights, at: size - 3)
        #expect(try FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int == size)
        let error = #expect(throws: TrainingCheckpointError.self) { _ = try CheckpointStore.read(checkpoint) }
        if case .damaged(_, let reason)? = error {
            #expect(reason.contains("SHA-256"))
        } else {
            Issue.record("expected a damaged checkpoint, got \(String(describing: error))")
        }
        // No intact checkpoint is left: resuming names the damage instead of starting over.
        #expect(throws: TrainingCheckpointError.self) { _ = try Trainer(recipe: Self.recipe(folder), resume: folder) }
    }

    @Test func validationWritesCurvesAndTheBestCheckpoint() throws {
        let folder = TinyRun.folder("validation")
        let trainer = try Trainer(recipe: TinyRun.recipe(output: folder, overrides: [
            "train.epochs=3", "eval.shuffled=true", "eval.crops=1", "train.eval_every=2",
        ]))
        var epochMetrics: [[String: Double]] = []
        trainer.onEvent = { if case .epochEnded(_, let m) = $0 { epochMetrics.append(m) } }
        try trainer.run()
        // Epoch 1 (every second) and epoch 2 (the last).
        #expect(trainer.validations.map(\.epoch) == [1, 2] && trainer.validations.first?.isBest == true)
        #expect(epochMetrics.map { $0["val_top1"] != nil && $0["val_gap"] != nil } == [false, true, true])
        // The first row has no validation; the CSV header still lists every column, and the first
        // row's validation cells are empty.
        let csv = try String(contentsOfFile: folder + "/epochs.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.first)
        #expect(lines.count == 5 && lines[1].split(separator: ",", omittingEmptySubsequences: false).count
                == header.split(separator: ",").count)
        #expect(header.contains("val_top1") && header.contains("val_gap") && header.contains("val_top1_shuffled"))
        #expect(try String(contentsOfFile: folder + "/curves.svg", encoding: .utf8).contains("validation top-1"))
        let best = try #require(trainer.checkpoints.bestRecord())
        #expect(best.metric == "val_top1")
        let bestValue = trainer.validations.map { $0.metrics["val_top1"]! }.max()!
        #expect(best.value == bestValue)
        let bestCheckpoint = try CheckpointStore.read(trainer.checkpoints.bestFolder)
        #expect(bestCheckpoint.state.step == trainer.validations.first { $0.metrics["val_top1"] == bestValue }!.step)
        // Pruning keeps `best` apart from the step checkpoints.
        #expect(FileManager.default.fileExists(atPath: trainer.checkpoints.bestFolder + "/COMPLETE"))
    }
}

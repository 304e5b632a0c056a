import Foundation
import Testing
import TensorCore
import Training
import VideoIO

@Suite("Checkpoints")
struct CheckpointTests {
    private func checkpoint(step: Int) -> TrainingCheckpoint {
        var g = RandomGenerator(seed: UInt64(step))
        _ = g.next()
        return TrainingCheckpoint(
            weights: [("w", Tensor(shape: [2], scalars: [Float(step), -1]))],
            optimizerState: ["w.step": Tensor(shape: [], scalars: [Float(step)])], emaState: [:],
            state: TrainerState(step: step, position: .init(epoch: 1, batchIndex: step), generator: g,
                                randomLayers: ["blocks.0.drop_path": RandomGenerator(seed: .max)]),
            recipeYAML: "seed: \(step)\n")
    }

    @Test func aCheckpointRoundTripsEveryPart() throws {
        let store = CheckpointStore(directory: TinyRun.folder("store"))
        let path = try store.write(checkpoint(step: 5))
        let read = try CheckpointStore.read(path)
        #expect(read.weights.map(\.0) == ["w"] && read.weights[0].1.scalars == [5, -1])
        #expect(read.optimizerState["w.step"]?.scalars == [5])
        #expect(read.state == checkpoint(step: 5).state)
        #expect(read.state.randomLayerGenerators?["blocks.0.drop_path"] == RandomGenerator(seed: .max))
        #expect(read.recipeYAML == "seed: 5\n")
    }

    @Test func aPartialCheckpointIsNeverLoaded() throws {
        let root = TinyRun.folder("partial")
        let store = CheckpointStore(directory: root + "/checkpoints")
        try store.write(checkpoint(step: 1))
        try store.write(checkpoint(step: 2))
        // What a writer killed mid-checkpoint leaves: a newer folder without its marker.
        let partial = store.folder(step: 3)
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: partial + "/model.safetensors"))
        #expect(store.completeSteps() == [1, 2])
        #expect(try CheckpointStore.resolve(root) == store.folder(step: 2))
        #expect(throws: TrainingCheckpointError.incomplete(path: partial)) { try CheckpointStore.read(partial) }
        #expect(throws: TrainingCheckpointError.incomplete(path: partial)) { try CheckpointStore.resolve(partial) }
        // A `latest` pointer naming the partial folder is not trusted either.
        try Data("checkpoint-00000003\n".utf8).write(to: URL(fileURLWithPath: store.directory + "/latest"))
        #expect(try store.latest() == store.folder(step: 2))
    }

    @Test func onlyTheNewestCheckpointsAreKept() throws {
        let store = CheckpointStore(directory: TinyRun.folder("keep"))
        for step in 1...4 { try store.write(checkpoint(step: step), keep: 2) }
        #expect(store.completeSteps() == [3, 4])
        #expect(try store.latest() == store.folder(step: 4))
        #expect(throws: TrainingCheckpointError.noCompleteCheckpoint(directory: "/nonexistent")) {
            try CheckpointStore.resolve("/nonexistent")
        }
    }
}

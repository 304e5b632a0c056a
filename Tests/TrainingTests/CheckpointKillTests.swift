import Foundation
import Testing
import TensorCore
import Training
import _TestSupport

/// Kills a `videossl train` process (the built executable) with SIGKILL while it writes a
/// checkpoint every step, resumes it, and checks the result against an uninterrupted run.
@Suite("Checkpoints survive SIGKILL")
struct CheckpointKillTests {
    private func executable() throws -> URL {
        try #require(builtExecutable(named: "videossl"), "videossl not found; build it with `swift build --build-tests`")
    }

    private func start(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    @Test func aKilledRunResumesFromItsLastCompleteCheckpoint() throws {
        let run = TinyRun.folder("killed")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let overrides = ["train.checkpoint_every=1", "train.keep_checkpoints=2", "train.epochs=4"]
        let config = run + "/recipe.yaml"
        try TinyRun.yaml(output: run).write(toFile: config, atomically: true, encoding: .utf8)

        let store = CheckpointStore(directory: run + "/checkpoints")
        let first = try start(["train", "--config", config] + overrides, log: run + "/first.log")
        let deadline = Date().addingTimeInterval(120)
        while first.isRunning && (store.completeSteps().last ?? 0) < 3 && Date() < deadline {
            usleep(2_000)
        }
        #expect(first.isRunning, "the run ended before it could be killed")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)
        let completeAtKill = store.completeSteps()
        let resumeStep = try #require(completeAtKill.last)
        // A newer folder without its marker, as a kill during writing leaves: it must be ignored.
        let partial = store.folder(step: resumeStep + 1000)
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: partial + "/model.safetensors"))

        let second = try start(["train", "--resume", run] + overrides, log: run + "/second.log")
        second.waitUntilExit()
        let log = try String(contentsOfFile: run + "/second.log", encoding: .utf8)
        #expect(second.terminationStatus == 0, "\(log)")
        #expect(log.contains("resumed from \(store.folder(step: resumeStep)) at step \(resumeStep)"), "\(log)")

        let whole = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("unkilled"), overrides: overrides))
        try whole.run()
        let final = try CheckpointStore.read(CheckpointStore.resolve(run))
        #expect(final.state.step == whole.step)
        let resumed = Dictionary(uniqueKeysWithValues: final.weights.map { ($0.0, $0.1.scalars.map(\.bitPattern)) })
        #expect(resumed == TinyRun.bits(whole))
    }
}

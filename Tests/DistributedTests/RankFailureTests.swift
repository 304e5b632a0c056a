import Foundation
import XCTest
import _TestSupport

/// A rank that dies or hangs stops the whole job with a message, and a two-rank run resumes
/// exactly from the checkpoint rank 0 wrote.
final class RankFailureTests: XCTestCase {
    /// The pid of the `videossl` rank `rank` whose command line contains `marker`.
    static func rankProcess(_ rank: Int, marker: String) -> pid_t? {
        let proc = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for name in proc {
            guard let pid = pid_t(name),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"),
                  String(decoding: cmdline, as: UTF8.self).contains(marker),
                  let environ = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { continue }
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    /// Starts a long two-rank run and waits until rank 0 logged `steps` steps and wrote a checkpoint.
    static func startLongRun(folder: String, run: String, extra: [String] = []) throws -> MPIRun.Running {
        let recipe = try DataParallelEquivalenceTests.recipe(kind: "supervised", folder: folder)
        let command = try MPIRun.launch(2) + [try MPIRun.videossl(), "train", "--config", recipe, "--threads", "1"] + extra
            + ["train.epochs=200", "train.max_steps=800", "train.checkpoint_every=2", "schedule.policy=constant",
               "output_dir=\(run)"]
        let running = try MPIRun.Running(command)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let rows = (try? String(contentsOfFile: run + "/steps.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
            let checkpoints = (try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")) ?? []
            if rows >= 4 && checkpoints.contains(where: { $0.hasPrefix("checkpoint-") }) { break }
            if !running.process.isRunning { break }
            usleep(5_000)
        }
        XCTAssertTrue(running.process.isRunning, "the run ended before it could be interrupted:\n\(running.output)")
        return running
    }

    func testKillingOneRankStopsTheJobAndTwoRanksResumeExactly() throws {
        let folder = Scratch.directory("mpi-kill").path
        let run = folder + "/ranks"
        let running = try Self.startLongRun(folder: folder, run: run)
        let victim = try XCTUnwrap(Self.rankProcess(1, marker: "output_dir=\(run)"), "rank 1 not found")
        XCTAssertEqual(kill(victim, SIGKILL), 0)
        let stopped = running.wait(seconds: 60)
        XCTAssertFalse(stopped.timedOut, "the job hung after rank 1 was killed:\n\(stopped.output)")
        XCTAssertNotEqual(stopped.status, 0)
        // mpirun names the rank and the signal.
        XCTAssertTrue(stopped.output.contains("rank 1") && stopped.output.contains("signal 9"), stopped.output)

        let resumedFrom = try MPIRun.finalWeights(run).step
        XCTAssertGreaterThanOrEqual(resumedFrom, 2)
        let end = resumedFrom + 6
        let videossl = try MPIRun.videossl()
        let output = try MPIRun.run(try MPIRun.launch(2) + [videossl, "train", "--resume", run, "--threads", "1",
                                                            "train.max_steps=\(end)"])
        XCTAssertTrue(output.contains("resumed from"), output)

        // The same steps in one process with accumulation 2, never interrupted.
        let recipe = folder + "/supervised.yaml"
        let single = folder + "/single"
        try MPIRun.run([videossl, "train", "--config", recipe, "--distributed", "off", "--threads", "1",
                        "train.epochs=200", "train.max_steps=\(end)", "train.checkpoint_every=2", "schedule.policy=constant",
                        "train.accumulation=2", "output_dir=\(single)"])
        let a = try MPIRun.losses(single), b = try MPIRun.losses(run)
        for step in (resumedFrom + 1)...end {
            let x = try XCTUnwrap(a[step]), y = try XCTUnwrap(b[step], "step \(step) missing after resume")
            XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x)), "loss at step \(step)")
        }
        let difference = try MPIRun.weightDifference(single, run)
        XCTAssertEqual(difference.steps.0, end)
        XCTAssertEqual(difference.steps.1, end)
        XCTAssertLessThanOrEqual(difference.maxDifference, 1e-5)
    }

    func testAHangingRankMakesTheOthersAbortWithAMessage() throws {
        let folder = Scratch.directory("mpi-hang").path
        let run = folder + "/ranks"
        let running = try Self.startLongRun(folder: folder, run: run, extra: ["--collective-timeout", "3"])
        let victim = try XCTUnwrap(Self.rankProcess(1, marker: "output_dir=\(run)"), "rank 1 not found")
        XCTAssertEqual(kill(victim, SIGSTOP), 0)
        defer { kill(victim, SIGKILL) }
        let stopped = running.wait(seconds: 60)
        XCTAssertFalse(stopped.timedOut, "the job hung:\n\(stopped.output)")
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.output.contains("rank 0: all-reduce of"), stopped.output)
        XCTAssertTrue(stopped.output.contains("did not complete within 3.0 s"), stopped.output)
    }
}

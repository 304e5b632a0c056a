import Foundation
import TensorCore
import Training
import VideoIO
import XCTest
import _TestSupport

/// Runs the built `videossl` alone or under `mpirun`, and reads what the runs wrote.
enum MPIRun {
    /// `mpirun` on the PATH or in /usr/bin, if Open MPI is installed.
    static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/bin"])
            .map { $0 + "/mpirun" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func videossl() throws -> String {
        try XCTUnwrap(builtExecutable(named: "videossl"), "videossl not found; build it with `swift build --build-tests`").path
    }

    /// Arguments that let `mpirun` start `ranks` processes here whatever the core count or user.
    static func launch(_ ranks: Int) throws -> [String] {
        guard let mpirun else { throw XCTSkip("mpirun not installed (apt-get install openmpi-bin libopenmpi-dev)") }
        return [mpirun, "--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-np", "\(ranks)"]
    }

    /// A started process whose combined output is collected in the background.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var data = Data()
        private let finished = DispatchSemaphore(value: 0)

        init(_ command: [String]) throws {
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            var environment = ProcessInfo.processInfo.environment
            environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let handle = pipe.fileHandleForReading
            try process.run()
            Thread { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { data.append(chunk) }
                }
                finished.signal()
            }.start()
        }

        var output: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

        /// Waits up to `seconds`; kills the process group and fails when it is still running.
        func wait(seconds: Double) -> (status: Int32, output: String, timedOut: Bool) {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            let timedOut = process.isRunning
            if timedOut {
                process.terminate()
                usleep(500_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
            }
            process.waitUntilExit()
            _ = finished.wait(timeout: .now() + 5)
            return (process.terminationStatus, output, timedOut)
        }
    }

    /// Runs `command` to its end (at most `seconds`).
    @discardableResult
    static func run(_ command: [String], seconds: Double = 300) throws -> String {
        let result = try Running(command).wait(seconds: seconds)
        XCTAssertFalse(result.timedOut, "\(command.joined(separator: " ")) did not finish in \(seconds) s:\n\(result.output)")
        XCTAssertEqual(result.status, 0, "\(command.joined(separator: " ")) failed:\n\(result.output)")
        return result.output
    }

    /// The `loss` of every row of a run's `steps.jsonl`, by step.
    static func losses(_ run: String) throws -> [Int: Double] {
        let text = try String(contentsOfFile: run + "/steps.jsonl", encoding: .utf8)
        var out: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let step = try XCTUnwrap(object["step"] as? Double), loss = try XCTUnwrap(object["loss"] as? Double)
            out[Int(step)] = loss
        }
        return out
    }

    /// The weights of a run's newest checkpoint and its step.
    static func finalWeights(_ run: String) throws -> (step: Int, weights: [String: [Float]]) {
        let point = try CheckpointStore.resolveForResume(run)
        let checkpoint = try CheckpointStore.read(point.checkpoint)
        return (checkpoint.state.step,
                Dictionary(checkpoint.weights.map { ($0.0, $0.1.scalars) }, uniquingKeysWith: { a, _ in a }))
    }

    /// The largest absolute difference between two runs' final weights (keys must agree).
    static func weightDifference(_ a: String, _ b: String) throws -> (steps: (Int, Int), maxDifference: Float, count: Int) {
        let (sa, wa) = try finalWeights(a), (sb, wb) = try finalWeights(b)
        XCTAssertEqual(Set(wa.keys), Set(wb.keys))
        var worst: Float = 0, count = 0
        for (key, x) in wa {
            guard let y = wb[key] else { continue }
            XCTAssertEqual(x.count, y.count, key)
            for (u, v) in zip(x, y) {
                worst = max(worst, abs(u - v))
                count += 1
            }
        }
        return ((sa, sb), worst, count)
    }

    /// The eight-class synthetic dataset (16 training clips of 4 frames of 32×32), written once.
    static let data: String = {
        FFmpegLogLevel.set(.error)
        let root = Scratch.directory("mpi-data").path
        _ = try! SyntheticDataset.write(to: root, configuration: SyntheticDataset.Configuration(
            width: 32, height: 32, frameCount: 8, trainVideosPerClass: 2, valVideosPerClass: 0, codec: .ffv1, seed: 5))
        return root
    }()
}

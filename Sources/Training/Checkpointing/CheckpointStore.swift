import Foundation
import TensorCore

/// Everything a checkpoint holds: weights, optimizer and EMA state, the loop state and the
/// resolved recipe.
public struct TrainingCheckpoint {
    /// Model and objective-head parameters by key (`model.safetensors`).
    public var weights: [(String, Tensor)]
    /// The optimizer's state dict (`optimizer.*` in `trainer_state.safetensors`).
    public var optimizerState: [String: Tensor]
    /// The weight average's state dict (`ema.*` in `trainer_state.safetensors`), empty without EMA.
    public var emaState: [String: Tensor]
    /// Step, data position and generators (`trainer_state.json`).
    public var state: TrainerState
    /// The resolved recipe (`config.yaml`).
    public var recipeYAML: String

    /// Bundles the parts of a checkpoint.
    public init(weights: [(String, Tensor)], optimizerState: [String: Tensor], emaState: [String: Tensor],
                state: TrainerState, recipeYAML: String) {
        self.weights = weights
        self.optimizerState = optimizerState
        self.emaState = emaState
        self.state = state
        self.recipeYAML = recipeYAML
    }
}

/// The checkpoints of one run, as folders `checkpoint-<step>/` under ``directory``.
///
/// A folder's files are each written atomically and the marker file `COMPLETE` is written last;
/// only then does the `latest` pointer (a one-line file, replaced by rename) move to it. Readers
/// only ever accept folders with the marker, so a process killed mid-write leaves at worst a
/// partial folder that is ignored and later removed.
public struct CheckpointStore: Sendable {
    /// The folder holding the checkpoint folders and the `latest` pointer.
    public let directory: String
    /// The marker file that makes a checkpoint folder complete.
    public static let markerName = "COMPLETE"
    /// The pointer file naming the newest complete checkpoint folder.
    public static let latestName = "latest"

    /// A store in `directory` (created on the first write).
    public init(directory: String) {
        self.directory = directory
    }

    /// The folder of the checkpoint after `step` optimizer steps.
    public func folder(step: Int) -> String {
        directory + "/checkpoint-" + String(format: "%08d", step)
    }

    /// Writes a checkpoint, moves `latest` to it and deletes all but the newest `keep` complete ones.
    ///
    /// - Returns: the checkpoint folder.
    @discardableResult
    public func write(_ checkpoint: TrainingCheckpoint, keep: Int = 3) throws(CheckpointError) -> String {
        let target = folder(step: checkpoint.state.step)
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: target, reason: "\(error)")
        }
        let stateArrays = checkpoint.optimizerState.sorted { $0.key < $1.key }.map { ("optimizer." + $0.key, $0.value) }
            + checkpoint.emaState.sorted { $0.key < $1.key }.map { ("ema." + $0.key, $0.value) }
        let json: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            json = try encoder.encode(checkpoint.state)
            try AtomicFile.write(
                SafeTensors.encode(arrays: checkpoint.weights.map { ($0.0, .float32($0.1)) },
                                   metadata: ["format": "pt", "step": "\(checkpoint.state.step)"],
                                   path: target + "/model.safetensors"),
                to: target + "/model.safetensors")
            try AtomicFile.write(
                SafeTensors.encode(arrays: stateArrays.map { ($0.0, .float32($0.1)) }, metadata: [:],
                                   path: target + "/trainer_state.safetensors"),
                to: target + "/trainer_state.safetensors")
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .writeFailed(path: target, reason: "\(error)")
        }
        try AtomicFile.write(json, to: target + "/trainer_state.json")
        try AtomicFile.write(Data(checkpoint.recipeYAML.utf8), to: target + "/config.yaml")
        try AtomicFile.write(Data("step \(checkpoint.state.step)\n".utf8), to: target + "/" + Self.markerName)
        try AtomicFile.write(Data((URL(fileURLWithPath: target).lastPathComponent + "\n").utf8),
                             to: directory + "/" + Self.latestName)
        prune(keep: keep, newest: checkpoint.state.step)
        return target
    }

    /// The steps of the complete checkpoints, ascending.
    public func completeSteps() -> [Int] {
        folders().filter { CheckpointStore.isComplete($0.path) }.map(\.step)
    }

    /// The newest complete checkpoint folder.
    ///
    /// The complete folder with the highest step wins even over the `latest` pointer: a writer
    /// killed between a folder's marker and the pointer's rename leaves the pointer one behind.
    ///
    /// - Throws: ``CheckpointError/noCompleteCheckpoint(directory:)``.
    public func latest() throws(CheckpointError) -> String {
        guard let step = completeSteps().last else { throw .noCompleteCheckpoint(directory: directory) }
        return folder(step: step)
    }

    /// Whether `path` is a checkpoint folder whose marker exists.
    public static func isComplete(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + markerName)
    }

    /// Reads a complete checkpoint folder.
    ///
    /// - Throws: ``CheckpointError/incomplete(path:)`` without the marker, or
    ///   ``CheckpointError/unreadable(path:reason:)``.
    public static func read(_ path: String) throws(CheckpointError) -> TrainingCheckpoint {
        guard isComplete(path) else { throw .incomplete(path: path) }
        func file(_ name: String) throws(CheckpointError) -> Data {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw .unreadable(path: path + "/" + name, reason: "missing")
            }
            return data
        }
        let weights: [(String, Tensor)]
        var optimizer: [String: Tensor] = [:], ema: [String: Tensor] = [:]
        do {
            weights = try SafeTensors.parse(file("model.safetensors"), path: path + "/model.safetensors").floatTensors()
            let stateFile = try SafeTensors.parse(file("trainer_state.safetensors"), path: path + "/trainer_state.safetensors")
            for (key, tensor) in try stateFile.floatTensors() {
                if key.hasPrefix("optimizer.") { optimizer[String(key.dropFirst(10))] = tensor }
                else if key.hasPrefix("ema.") { ema[String(key.dropFirst(4))] = tensor }
                else { throw CheckpointError.unreadable(path: path + "/trainer_state.safetensors", reason: "unexpected key \(key)") }
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: try file("trainer_state.json"))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .unreadable(path: path + "/trainer_state.json", reason: "\(error)")
        }
        guard let yaml = String(data: try file("config.yaml"), encoding: .utf8) else {
            throw .unreadable(path: path + "/config.yaml", reason: "not UTF-8 text")
        }
        return TrainingCheckpoint(weights: weights, optimizerState: optimizer, emaState: ema, state: state,
                                  recipeYAML: yaml)
    }

    /// The checkpoint folder a `--resume` argument means: a complete checkpoint folder itself, or
    /// the newest complete one in a run folder (its `checkpoints/`) or a checkpoints folder.
    ///
    /// - Throws: ``CheckpointError/incomplete(path:)`` for a checkpoint folder without its marker,
    ///   or ``CheckpointError/noCompleteCheckpoint(directory:)``.
    public static func resolve(_ path: String) throws(CheckpointError) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        if isComplete(trimmed) { return trimmed }
        if URL(fileURLWithPath: trimmed).lastPathComponent.hasPrefix("checkpoint-") {
            throw .incomplete(path: trimmed)
        }
        let nested = trimmed + "/checkpoints"
        if FileManager.default.fileExists(atPath: nested) { return try CheckpointStore(directory: nested).latest() }
        return try CheckpointStore(directory: trimmed).latest()
    }

    private func folders() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, directory + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// Deletes complete checkpoints beyond the newest `keep` and partial ones older than `newest`
    /// (left by an interrupted writer).
    private func prune(keep: Int, newest: Int) {
        let all = folders()
        let complete = all.filter { CheckpointStore.isComplete($0.path) }
        let keepSteps = Set(complete.suffix(keep).map(\.step))
        for entry in all where !keepSteps.contains(entry.step) && entry.step <= newest {
            // The marker goes first, so a crash while deleting leaves a folder no reader accepts.
            try? FileManager.default.removeItem(atPath: entry.path + "/" + CheckpointStore.markerName)
            try? FileManager.default.removeItem(atPath: entry.path)
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TensorCore

/// Everything a checkpoint holds: weights, optimizer, EMA and objective state, the loop state and
/// the resolved recipe.
public struct TrainingCheckpoint {
    /// Model and objective-head parameters and buffers by key (`model.safetensors`).
    public var weights: [(String, Tensor)]
    /// The optimizer's state dict (`optimizer.*` in `trainer_state.safetensors`).
    public var optimizerState: [String: Tensor]
    /// The weight average's state dict (`ema.*` in `trainer_state.safetensors`), empty without EMA.
    public var emaState: [String: Tensor]
    /// The objective's state outside the module tree (`objective.*` in `trainer_state.safetensors`).
    public var objectiveState: [String: Tensor]
    /// Step, data position and generators (`trainer_state.json`).
    public var state: TrainerState
    /// The resolved recipe (`config.yaml`).
    public var recipeYAML: String

    /// Bundles the parts of a checkpoint.
    public init(weights: [(String, Tensor)], optimizerState: [String: Tensor], emaState: [String: Tensor],
                objectiveState: [String: Tensor] = [:], state: TrainerState, recipeYAML: String) {
        self.weights = weights
        self.optimizerState = optimizerState
        self.emaState = emaState
        self.objectiveState = objectiveState
        self.state = state
        self.recipeYAML = recipeYAML
    }
}

/// The per-file sizes and SHA-256 digests of a checkpoint folder (`manifest.json`), written before
/// its `COMPLETE` marker and checked on every read, so a damaged file (truncated, or with a bit
/// flipped at the same size) is found before it is trained from.
public struct CheckpointManifest: Sendable, Equatable, Codable {
    /// One file of the folder.
    public struct File: Sendable, Equatable, Codable {
        /// The file name inside the folder.
        public var name: String
        /// Its size in bytes.
        public var bytes: Int
        /// Its SHA-256, lower-case hexadecimal.
        public var sha256: String
    }

    /// The files, in writing order.
    public var files: [File]

    /// The manifest's own name.
    public static let fileName = "manifest.json"

    /// Checks every listed file of the folder at `path`.
    ///
    /// - Throws: ``TrainingCheckpointError/damaged(path:reason:)`` naming the first file that is
    ///   missing or differs.
    public func verify(folder path: String) throws(TrainingCheckpointError) {
        for file in files {
            let full = path + "/" + file.name
            let size = (try? FileManager.default.attributesOfItem(atPath: full)[.size] as? Int) ?? nil
            guard let size else { throw .damaged(path: path, reason: "\(file.name) is missing") }
            guard size == file.bytes else {
                throw .damaged(path: path, reason: "\(file.name) holds \(size) bytes, the manifest says \(file.bytes)")
            }
            let digest: String
            do { digest = try SHA256.hexOfFile(atPath: full) } catch {
                throw .damaged(path: path, reason: "\(file.name) cannot be read (\(error))")
            }
            guard digest == file.sha256 else {
                throw .damaged(path: path, reason: "\(file.name) has SHA-256 \(digest.prefix(16))…, the manifest says \(file.sha256.prefix(16))…")
            }
        }
    }
}

/// The checkpoints of one run, as folders `checkpoint-<step>/` under ``directory``.
///
/// A folder's files are each written atomically, then `manifest.json` with every file's size and
/// SHA-256, and the marker file `COMPLETE` last; only then does the `latest` pointer (a one-line
/// file, replaced by rename) move to it. Readers only ever accept folders with the marker and
/// check the manifest, so a process killed mid-write leaves at worst a partial folder that is
/// ignored and later removed, and a damaged file is reported rather than trained from.
///
/// `best/` beside the step folders holds the checkpoint with the best validation metric so far
/// (``writeBest(_:metric:value:)``); pruning never touches it.
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

    /// Writes a checkpoint, moves `latest` to it and deletes all but the newest `keep` complete ones
    /// up to its step (and the step `protecting`, the trainer's last checkpoint of sane loss); folders of later steps (left by the run's own abandoned continuation, or
    /// damaged ones a resume fell back past) are removed too, so `latest` is always this run's.
    ///
    /// - Returns: the checkpoint folder.
    @discardableResult
    public func write(
        _ checkpoint: TrainingCheckpoint, keep: Int = 3, protecting protected: Int? = nil
    ) throws(TrainingCheckpointError) -> String {
        let target = folder(step: checkpoint.state.step)
        try writeFolder(checkpoint, to: target)
        try AtomicFile.write(Data((URL(fileURLWithPath: target).lastPathComponent + "\n").utf8),
                             to: directory + "/" + Self.latestName)
        prune(keep: keep, newest: checkpoint.state.step, protecting: protected)
        return target
    }

    /// The folder of the best checkpoint so far.
    public var bestFolder: String { directory + "/" + Self.bestName }

    /// The name of the best checkpoint's folder.
    public static let bestName = "best"

    /// Replaces `best/` with `checkpoint`, recording the metric that chose it in `best.json`
    /// inside the folder. The new folder is complete before it is renamed into place.
    @discardableResult
    public func writeBest(_ checkpoint: TrainingCheckpoint, metric: String, value: Double) throws(TrainingCheckpointError) -> String {
        // Staging folders of a writer that died mid-way are removed first.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".best-") { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        let staging = directory + "/.best-\(UUID().uuidString)"
        try writeFolder(checkpoint, to: staging, extra: [
            ("best.json", Data("{\"metric\": \"\(metric)\", \"value\": \(value), \"step\": \(checkpoint.state.step)}\n".utf8)),
        ])
        let fm = FileManager.default
        let retired = directory + "/.best-old-\(UUID().uuidString)"
        if fm.fileExists(atPath: bestFolder) {
            guard rename(bestFolder, retired) == 0 else {
                throw .writeFailed(path: bestFolder, reason: String(cString: strerror(errno)))
            }
        }
        guard rename(staging, bestFolder) == 0 else {
            throw .writeFailed(path: bestFolder, reason: String(cString: strerror(errno)))
        }
        AtomicFile.syncDirectory(directory)
        try? fm.removeItem(atPath: retired)
        return bestFolder
    }

    private func writeFolder(
        _ checkpoint: TrainingCheckpoint, to target: String, extra: [(String, Data)] = []
    ) throws(TrainingCheckpointError) {
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: target, reason: "\(error)")
        }
        func sorted(_ d: [String: Tensor], _ prefix: String) -> [(String, Tensor)] {
            d.sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value) }
        }
        let stateArrays = sorted(checkpoint.optimizerState, "optimizer.") + sorted(checkpoint.emaState, "ema.")
            + sorted(checkpoint.objectiveState, "objective.")
        var files: [(String, Data)] = []
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            files.append(("model.safetensors", try SafeTensors.encode(
                arrays: checkpoint.weights.map { ($0.0, .float32($0.1)) },
                metadata: ["format": "pt", "step": "\(checkpoint.state.step)"], path: target + "/model.safetensors")))
            files.append(("trainer_state.safetensors", try SafeTensors.encode(
                arrays: stateArrays.map { ($0.0, .float32($0.1)) }, metadata: [:],
                path: target + "/trainer_state.safetensors")))
            files.append(("trainer_state.json", try encoder.encode(checkpoint.state)))
        } catch {
            throw .writeFailed(path: target, reason: "\(error)")
        }
        files.append(("config.yaml", Data(checkpoint.recipeYAML.utf8)))
        files += extra
        var manifest = CheckpointManifest(files: [])
        for (name, data) in files {
            try AtomicFile.write(data, to: target + "/" + name)
            manifest.files.append(.init(name: name, bytes: data.count, sha256: SHA256.hex(of: data)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let manifestData = try? encoder.encode(manifest) else {
            throw .writeFailed(path: target + "/" + CheckpointManifest.fileName, reason: "cannot encode the manifest")
        }
        try AtomicFile.write(manifestData, to: target + "/" + CheckpointManifest.fileName)
        try AtomicFile.write(Data("step \(checkpoint.state.step)\n".utf8), to: target + "/" + Self.markerName)
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
    /// - Throws: ``TrainingCheckpointError/noCompleteCheckpoint(directory:)``.
    public func latest() throws(TrainingCheckpointError) -> String {
        guard let step = completeSteps().last else { throw .noCompleteCheckpoint(directory: directory) }
        return folder(step: step)
    }

    /// The newest complete checkpoint whose files match its manifest, and the newer complete ones
    /// passed over with the reason each was refused.
    ///
    /// - Throws: ``TrainingCheckpointError/noCompleteCheckpoint(directory:)`` when none is intact
    ///   (the last refusal is in the message of ``TrainingCheckpointError/damaged(path:reason:)``
    ///   when every one was damaged).
    public func latestIntact() throws(TrainingCheckpointError) -> (path: String, passedOver: [TrainingCheckpointError]) {
        var refused: [TrainingCheckpointError] = []
        for step in completeSteps().reversed() {
            let path = folder(step: step)
            do {
                try CheckpointStore.verify(path)
                return (path, refused)
            } catch {
                refused.append(error)
            }
        }
        if let last = refused.last { throw last }
        throw .noCompleteCheckpoint(directory: directory)
    }

    /// Checks a checkpoint folder's files against its manifest (folders written before manifests
    /// existed pass unchecked).
    ///
    /// - Throws: ``TrainingCheckpointError/damaged(path:reason:)`` or
    ///   ``TrainingCheckpointError/unreadable(path:reason:)`` for an unreadable manifest.
    public static func verify(_ path: String) throws(TrainingCheckpointError) {
        let manifestPath = path + "/" + CheckpointManifest.fileName
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            if FileManager.default.fileExists(atPath: manifestPath) {
                throw .damaged(path: path, reason: "\(CheckpointManifest.fileName) cannot be read")
            }
            return
        }
        let manifest: CheckpointManifest
        do { manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data) } catch {
            throw .damaged(path: path, reason: "\(CheckpointManifest.fileName) is malformed")
        }
        try manifest.verify(folder: path)
    }

    /// Whether `path` is a checkpoint folder whose marker exists.
    public static func isComplete(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + markerName)
    }

    /// Reads a complete checkpoint folder, checking its files against the manifest unless the
    /// caller already did (``resolveForResume(_:)`` verifies the checkpoint it returns).
    ///
    /// - Throws: ``TrainingCheckpointError/damaged(path:reason:)`` for a file that differs from the
    ///   manifest, ``TrainingCheckpointError/incomplete(path:)`` without the marker, or
    ///   ``TrainingCheckpointError/unreadable(path:reason:)``.
    public static func read(_ path: String, verifying: Bool = true) throws(TrainingCheckpointError) -> TrainingCheckpoint {
        guard isComplete(path) else { throw .incomplete(path: path) }
        if verifying { try verify(path) }
        func file(_ name: String) throws(TrainingCheckpointError) -> Data {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw .unreadable(path: path + "/" + name, reason: "missing")
            }
            return data
        }
        let weights: [(String, Tensor)]
        var optimizer: [String: Tensor] = [:], ema: [String: Tensor] = [:], objective: [String: Tensor] = [:]
        do {
            weights = try SafeTensors.parse(file("model.safetensors"), path: path + "/model.safetensors").floatTensors()
            let stateFile = try SafeTensors.parse(file("trainer_state.safetensors"), path: path + "/trainer_state.safetensors")
            for (key, tensor) in try stateFile.floatTensors() {
                if key.hasPrefix("optimizer.") { optimizer[String(key.dropFirst(10))] = tensor }
                else if key.hasPrefix("ema.") { ema[String(key.dropFirst(4))] = tensor }
                else if key.hasPrefix("objective.") { objective[String(key.dropFirst(10))] = tensor }
                else { throw TrainingCheckpointError.unreadable(path: path + "/trainer_state.safetensors", reason: "unexpected key \(key)") }
            }
        } catch let error as TrainingCheckpointError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: try file("trainer_state.json"))
        } catch let error as TrainingCheckpointError {
            throw error
        } catch {
            throw .unreadable(path: path + "/trainer_state.json", reason: "\(error)")
        }
        guard let yaml = String(data: try file("config.yaml"), encoding: .utf8) else {
            throw .unreadable(path: path + "/config.yaml", reason: "not UTF-8 text")
        }
        return TrainingCheckpoint(weights: weights, optimizerState: optimizer, emaState: ema,
                                  objectiveState: objective, state: state, recipeYAML: yaml)
    }

    /// The checkpoint folder a `--resume` argument means: a complete checkpoint folder itself, or
    /// the newest intact one in a run folder (its `checkpoints/`) or a checkpoints folder.
    ///
    /// - Throws: ``TrainingCheckpointError/incomplete(path:)`` for a checkpoint folder without its
    ///   marker, ``TrainingCheckpointError/damaged(path:reason:)`` for a named folder whose files
    ///   differ from its manifest, or ``TrainingCheckpointError/noCompleteCheckpoint(directory:)``.
    public static func resolve(_ path: String) throws(TrainingCheckpointError) -> String {
        try resolveForResume(path).checkpoint
    }

    /// Where a resume starts and which run folder it continues.
    public struct ResumePoint: Sendable {
        /// The checkpoint folder to read.
        public var checkpoint: String
        /// The run folder the resumed run writes into (the one holding `checkpoints/`).
        public var runFolder: String
        /// Newer complete checkpoints that were damaged and passed over, with the reasons.
        public var passedOver: [TrainingCheckpointError]
    }

    /// Resolves a `--resume` argument like ``resolve(_:)``, also naming the run folder the
    /// checkpoint belongs to and the damaged checkpoints passed over on the way.
    public static func resolveForResume(_ path: String) throws(TrainingCheckpointError) -> ResumePoint {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let url = URL(fileURLWithPath: trimmed)
        if isComplete(trimmed) {
            try verify(trimmed)
            let run = url.deletingLastPathComponent().deletingLastPathComponent().path
            return ResumePoint(checkpoint: trimmed, runFolder: run, passedOver: [])
        }
        if url.lastPathComponent.hasPrefix("checkpoint-") || url.lastPathComponent == bestName {
            throw .incomplete(path: trimmed)
        }
        let nested = trimmed + "/checkpoints"
        if FileManager.default.fileExists(atPath: nested) {
            let (found, passed) = try CheckpointStore(directory: nested).latestIntact()
            return ResumePoint(checkpoint: found, runFolder: trimmed, passedOver: passed)
        }
        let (found, passed) = try CheckpointStore(directory: trimmed).latestIntact()
        return ResumePoint(checkpoint: found, runFolder: url.deletingLastPathComponent().path, passedOver: passed)
    }

    private func folders() -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, directory + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// Deletes complete checkpoints beyond the newest `keep` up to `newest`, partial ones, and any
    /// folder of a later step than `newest` (see ``write(_:keep:)``); `newest` itself always stays.
    private func prune(keep: Int, newest: Int, protecting protected: Int? = nil) {
        let all = folders()
        let complete = all.filter { $0.step <= newest && CheckpointStore.isComplete($0.path) }
        let keepSteps = Set(complete.suffix(keep).map(\.step) + [newest] + (protected.map { [$0] } ?? []))
        for entry in all where !keepSteps.contains(entry.step) {
            // The marker goes first, so a crash while deleting leaves a folder no reader accepts.
            try? FileManager.default.removeItem(atPath: entry.path + "/" + CheckpointStore.markerName)
            try? FileManager.default.removeItem(atPath: entry.path)
        }
    }
}

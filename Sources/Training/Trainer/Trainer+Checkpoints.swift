import Foundation
import TensorCore
import VideoIO

extension Trainer {
    /// How far above the best checkpoint loss a checkpoint's mean loss may lie and still count as
    /// sane: ten times the best, or the best plus 10 nats when the best is near zero.
    public static let saneLossFactor = 10.0

    static func saneBound(best: Double) -> Double {
        max(saneLossFactor * best, best + saneLossFactor)
    }

    /// The current state as a checkpoint value.
    func currentCheckpoint() -> TrainingCheckpoint {
        let state = TrainerState(step: step, position: position, generator: generator,
                                 randomLayers: model.randomLayerStates(),
                                 meanLoss: lossSinceCheckpoint.count > 0 ? lossSinceCheckpoint.sum / Double(lossSinceCheckpoint.count) : nil,
                                 plateau: plateau?.state)
        return TrainingCheckpoint(
            weights: model.stateDict(), optimizerState: optimizer.stateDict(), emaState: ema?.stateDict() ?? [:],
            objectiveState: Dictionary(objective.checkpointState(), uniquingKeysWith: { a, _ in a }),
            state: state, recipeYAML: recipe.yaml)
    }

    /// Writes a checkpoint of the current state.
    ///
    /// The newest checkpoint whose mean loss stayed within ``Trainer/saneLossFactor`` of the best
    /// checkpoint loss so far is remembered (``lastSaneCheckpoint``) and never pruned, so a run that
    /// diverges slowly — loss climbing to 1e16 before it turns NaN — still names a checkpoint worth
    /// resuming from.
    ///
    /// In a data-parallel run only rank 0 writes; on other ranks this does nothing.
    public func writeCheckpoint() throws {
        guard processGroup.isPrimary else { return }
        let checkpoint = currentCheckpoint()
        let mean = checkpoint.state.meanLoss
        let sane = mean.map { m in m.isFinite && bestCheckpointLoss.map { m <= Trainer.saneBound(best: $0) } ?? true } ?? true
        let protected = sane ? nil : lastSaneStep
        let path = try checkpoints.write(checkpoint, keep: recipe.training.keepCheckpoints, protecting: protected)
        if sane {
            lastSaneCheckpoint = path
            lastSaneStep = step
            if let mean, mean.isFinite { bestCheckpointLoss = min(bestCheckpointLoss ?? mean, mean) }
        } else {
            logger.warning("checkpoint loss outside the sane band", metadata: [
                "path": "\(path)", "loss": "\(mean ?? .nan)", "best": "\(bestCheckpointLoss ?? .nan)"])
        }
        lossSinceCheckpoint = (0, 0)
        lastCheckpoint = path
        logger.debug("checkpoint written", metadata: ["path": "\(path)"])
        onEvent?(.checkpointWritten(path: path, step: step))
    }

    /// Restores weights, buffers, optimizer, weight average, objective state, generators, step and
    /// data position from a checkpoint folder whose manifest was checked when it was resolved;
    /// nothing is changed unless everything fits.
    func restore(from path: String) throws {
        let checkpoint = try CheckpointStore.read(path, verifying: false)
        let current = model.stateDict()
        let saved = Dictionary(checkpoint.weights, uniquingKeysWith: { a, _ in a })
        let expected = Dictionary(current, uniquingKeysWith: { a, _ in a })
        let missing = current.map(\.0).filter { saved[$0] == nil }
        let unexpected = saved.keys.filter { expected[$0] == nil }.sorted()
        let reshaped = current.filter { key, value in saved[key].map { $0.shape != value.shape } ?? false }.map(\.0)
        guard missing.isEmpty && unexpected.isEmpty && reshaped.isEmpty else {
            throw TrainingCheckpointError.mismatch(
                path: path, reason: "missing \(missing.prefix(5)), unexpected \(unexpected.prefix(5)), reshaped \(reshaped.prefix(5))")
        }
        guard let trainerGenerator = checkpoint.state.trainerGenerator,
              var layers = checkpoint.state.randomLayerGenerators else {
            throw TrainingCheckpointError.unreadable(path: path + "/trainer_state.json", reason: "malformed generator state")
        }
        // Checkpoints from before the model tree kept the heads' streams under `objective.`.
        for (key, g) in layers where key.hasPrefix("objective.") {
            layers[key] = nil
            layers[String(key.dropFirst("objective.".count))] = g
        }
        if plateau != nil && checkpoint.state.plateau == nil {
            throw TrainingCheckpointError.mismatch(path: path, reason: "no plateau schedule state for schedule.policy plateau")
        }
        let p = checkpoint.state.position
        guard p.epoch >= 0, (0...loader.batchesPerEpoch).contains(p.batchIndex) else {
            throw TrainingCheckpointError.mismatch(path: path, reason: "data position \(p) outside this loader")
        }
        do {
            try optimizer.loadStateDict(checkpoint.optimizerState)
            if let ema { try ema.loadStateDict(checkpoint.emaState) }
            try objective.restoreCheckpointState(checkpoint.objectiveState)
            try model.restoreRandomLayerStates(layers)
        } catch {
            throw TrainingCheckpointError.mismatch(path: path, reason: "\(error)")
        }
        try model.loadStateDict(checkpoint.weights)
        generator = trainerGenerator
        if let state = checkpoint.state.plateau, plateau != nil { plateau!.state = state }
        step = checkpoint.state.step
        position = p.batchIndex == loader.batchesPerEpoch ? DataLoader.Position(epoch: p.epoch + 1) : p
        lastCheckpoint = path
        lastSaneCheckpoint = path
        lastSaneStep = step
        bestCheckpointLoss = checkpoint.state.meanLoss
        logger.debug("resumed", metadata: ["checkpoint": "\(path)", "step": "\(step)"])
    }
}

extension CheckpointStore {
    /// The metric and value recorded with `best/`, if a best checkpoint exists.
    public func bestRecord() -> (metric: String, value: Double, step: Int)? {
        guard let data = FileManager.default.contents(atPath: bestFolder + "/best.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let metric = object["metric"] as? String, let value = object["value"] as? Double,
              let step = object["step"] as? Int else { return nil }
        return (metric, value, step)
    }
}

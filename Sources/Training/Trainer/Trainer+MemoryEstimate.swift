import TensorCore

extension Trainer {
    /// The memory one training step of this recipe will need, measured before training.
    ///
    /// Runs the step's forward pass (both forwards and the heads for TIME) on one random clip of
    /// the recipe's frame count and crop, in training mode, and scales the activations it holds to
    /// `train.batch_size`; adds the parameters, their gradients and the optimizer's state (AdamW
    /// two tensors per parameter, three with amsgrad; SGD one with momentum; one more for a
    /// weight average). The trainer's generators, the model's drop-path and dropout generators
    /// and every gradient are left as they were, so a run trains exactly as without the call.
    ///
    /// - Returns: `nil` where the allocator cannot be queried (anything but glibc).
    public func memoryEstimate() -> TrainingMemoryEstimate? {
        let data = recipe.data
        var scratch = RandomGenerator(seed: recipe.seed ^ 0x6d65_6d6f_7279)
        let clip = Tensor.normal([1, data.frames, 3, data.crop, data.crop], using: &scratch)
        let grid = data.crop / model.patchSize
        let flow = objective == nil ? nil
            : IntTensor(shape: [1, data.frames - 1, grid * grid],
                        scalars: [Int](repeating: 0, count: (data.frames - 1) * grid * grid))
        let modelLayers = model.randomLayerStates()
        let objectiveLayers = objective?.randomLayerStates()
        let wasTraining = model.isTraining
        let objectiveWasTraining = objective?.isTraining ?? false
        model.train()
        objective?.train()
        defer {
            // The same modules were read a moment ago, so the paths match and restoring cannot fail.
            try! model.restoreRandomLayerStates(modelLayers)
            if let objectiveLayers { try! objective?.restoreRandomLayerStates(objectiveLayers) }
            model.setTraining(wasTraining)
            objective?.setTraining(objectiveWasTraining)
        }
        let o = recipe.optimizer
        var copies: Int
        switch o.name {
        case .adamw: copies = o.amsgrad ? 3 : 2
        case .sgd: copies = o.momentum != 0 ? 1 : 0
        }
        if recipe.training.emaDecay != nil { copies += 1 }
        return TrainingMemoryEstimate.measure(
            batchSize: recipe.training.batchSize, parameters: namedParameters().map(\.1),
            optimizerStateCopies: copies
        ) {
            lossTerms(clips: clip, labels: [0], flowLabels: flow, using: &scratch).0.total
        }
    }
}

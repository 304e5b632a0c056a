import TensorCore

extension Trainer {
    /// The memory one training step of this recipe will need, measured before training.
    ///
    /// Runs the objective's forward pass (both forwards and the heads for TIME, with the loader
    /// extras it asks for computed from the clip) on one random clip of
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
        var extras: [String: IntTensor] = [:]
        for extra in objective.loaderExtras {
            guard let value = try? extra.compute(clip.squeezed(axis: 0)) else { return nil }
            extras[extra.name] = IntTensor(shape: [1] + value.shape, scalars: value.scalars)
        }
        let batch = TrainingBatch(clips: clip, labels: [0], extras: extras)
        let layers = model.randomLayerStates()
        let wasTraining = model.isTraining
        model.train()
        defer {
            // The same modules were read a moment ago, so the paths match and restoring cannot fail.
            try! model.restoreRandomLayerStates(layers)
            model.setTraining(wasTraining)
        }
        let o = recipe.optimizer
        var copies: Int
        switch o.name {
        case .adamw: copies = o.amsgrad ? 3 : 2
        case .sgd: copies = o.momentum != 0 ? 1 : 0
        }
        if recipe.training.emaDecay != nil { copies += 1 }
        let objective = self.objective, model = self.model
        return TrainingMemoryEstimate.measure(
            batchSize: recipe.training.batchSize, parameters: namedParameters().map(\.1),
            optimizerStateCopies: copies
        ) {
            // A loss that cannot be computed here fails on the first training step with its error.
            (try? objective.lossTerms(batch, model: model, using: &scratch).terms.total) ?? Tensor(0)
        }
    }
}

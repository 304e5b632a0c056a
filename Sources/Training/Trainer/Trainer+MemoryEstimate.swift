import TensorCore

extension Trainer {
    /// The memory one training step of this recipe will need, measured before training.
    ///
    /// Runs the objective's forward pass (both forwards and the heads for TIME, with the loader
    /// extras it asks for computed from the clip; every view for SVT) on one random clip of
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
        var clip = Tensor.normal([1, data.frames, 3, data.crop, data.crop], using: &scratch)
        var views: [Tensor] = []
        if let makeViews = objective.views {
            // A random decoded window of the recipe's size (with the companion's frames after the
            // clip's when the objective asks for them), cut into the objective's views.
            let frames = data.frames * (objective.decodesCompanions ? 2 : 1)
            let window = Tensor.uniform([frames, 3, data.decodeSize[1], data.decodeSize[0]], using: &scratch)
            guard let made = try? makeViews(window, &scratch), let first = made.first else { return nil }
            views = made.map { $0.unsqueezed(axis: 0) }
            clip = views[0]
        }
        var extras: [String: IntTensor] = [:]
        for extra in objective.loaderExtras {
            guard let value = try? extra.compute(clip.squeezed(axis: 0)) else { return nil }
            extras[extra.name] = IntTensor(shape: [1] + value.shape, scalars: value.scalars)
        }
        let batch = TrainingBatch(clips: clip, labels: [0], views: views, extras: extras, itemIndices: [0])
        let layers = model.randomLayerStates()
        // Objectives may update buffers in their forward (SVT's centre and teacher start).
        let buffers = model.namedBuffers().map { ($0.1, $0.1.value) }
        let wasTraining = model.isTraining
        model.train()
        defer {
            // The same modules were read a moment ago, so the paths match and restoring cannot fail.
            try! model.restoreRandomLayerStates(layers)
            for (buffer, value) in buffers { buffer.value = value }
            objective.discardPendingState()
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

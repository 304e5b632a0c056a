import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training
import VideoIO

/// SVT through the trainer on the tiny synthetic dataset: views, teacher, schedules, resume.
@Suite struct SVTObjectiveTests {
    static func recipe(output: String, overrides: [String] = []) throws -> Recipe {
        let yaml = """
        model:
          name: svt_tiny_8x64
          overrides: {img_size: 32, patch_size: 8, embed_dim: 24, depth: 1, num_heads: 2, drop_path_rate: 0.1}
        data:
          root: \(TinyRun.data)
          train: train.txt
          frames: 8
          decode_size: [32, 32]
          sampler: uniform
          mean: [0.485, 0.456, 0.406]
          std: [0.229, 0.224, 0.225]
          workers: 1
        objective:
          kind: svt
          out_dim: 32
          hidden_dim: 16
          bottleneck_dim: 8
          teacher_momentum: 0.9
          freeze_last_layer: 1
          views: {global_frames: [4, 8], local_frames: [2, 2, 4], global_size: 32, local_size: 16}
        optimizer: {name: adamw, lr: 1.0e-3, weight_decay: 0.04}
        schedule: {policy: iteration_cosine, warmup_epochs: 1, end_lr: 1.0e-6, weight_decay_end: 0.4}
        train: {epochs: 2, batch_size: 4, clip_grad_per_tensor: 3.0, checkpoint_every: 100}
        seed: 5
        output_dir: \(output)
        """
        return try Recipe(yaml: yaml, overrides: overrides)
    }

    static func state(_ trainer: Trainer) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: trainer.model.stateDict().map { ($0.0, $0.1.scalars.map(\.bitPattern)) })
    }

    @Test func theBackboneHasNoClassifierAndTheTreeHoldsTeacherHeadAndCentre() throws {
        let trainer = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-keys")))
        #expect(trainer.setup.config.numClasses == 0)
        let keys = Set(trainer.model.stateDict().map(\.0))
        for key in ["head.mlp.0.weight", "head.mlp.4.bias", "head.last_layer.weight_g", "head.last_layer.weight_v",
                    "teacher.cls_token", "teacher.blocks.0.temporal_attn.qkv.weight", "teacher.head.last_layer.weight_v",
                    "dino_loss.center", "teacher_ready"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(!keys.contains("head.weight"))
        // Only the student is trained by gradients.
        let frozen = trainer.model.namedParameters().filter { !$0.1.requiresGrad }.map(\.0)
        #expect(frozen.allSatisfy { $0.hasPrefix("teacher.") || $0.hasSuffix("weight_g") })
        #expect(frozen.contains("teacher.cls_token"))
    }

    @Test func theTeacherStartsAsTheStudentAndFollowsItWithTheScheduledMomentum() throws {
        let trainer = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-ema")))
        let student = Dictionary(uniqueKeysWithValues: trainer.model.backbone.namedParameters().map { ($0.0, $0.1) })
        let before = student.mapValues { $0.value.scalars }
        try trainer.run(stopAfter: 1)
        let teacher = Dictionary(uniqueKeysWithValues: (trainer.objective as! SVTTrainingObjective).parts.teacher
            .backbone.namedParameters().map { ($0.0, $0.1) })
        // Iteration 0 of the cosine schedule is the base momentum itself.
        let m = Float(SVTTrainingObjective.teacherMomentum(base: 0.9, iteration: 0, of: trainer.totalSteps))
        #expect(m == 0.9)
        var checked = 0
        for (key, p) in student {
            let after = p.value.scalars, t = teacher[key]!.value.scalars
            for i in after.indices {
                let expected = before[key]![i] * m + (1 - m) * after[i]
                #expect(abs(t[i] - expected) <= 1e-6 * max(1, abs(expected)), "\(key)[\(i)]")
            }
            checked += 1
        }
        #expect(checked == student.count && checked > 10)
    }

    @Test func theLastLayerWaitsForTheSecondEpochAndWeightDecayFollowsItsSchedule() throws {
        let trainer = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-freeze")))
        let objective = trainer.objective as! SVTTrainingObjective
        let lastLayer = objective.parts.head.lastLayer.weightV
        let start = lastLayer.value.scalars
        let mlp = objective.parts.head.namedParameters().first { $0.0 == "mlp.0.weight" }!.1
        let mlpStart = mlp.value.scalars
        let perEpoch = trainer.stepsPerEpoch
        try trainer.run(stopAfter: perEpoch)
        #expect(lastLayer.value.scalars == start, "the last layer moved in the first epoch")
        #expect(mlp.value.scalars != mlpStart)
        try trainer.run(stopAfter: perEpoch + 1)
        #expect(lastLayer.value.scalars != start)
        // Weight decay of the decaying group is the schedule's value of the last step taken.
        let schedule = IterationSchedule.cosine(base: 0.04, final: 0.4, epochs: 2, iterationsPerEpoch: perEpoch)
        let decays = trainer.optimizer.parameterGroups.map(\.weightDecay).filter { $0 > 0 }
        #expect(!decays.isEmpty && decays.allSatisfy { $0 == schedule[perEpoch] })
        // So does the learning rate (warm-up from 0 over the first epoch).
        let rates = IterationSchedule.cosine(base: 1e-3, final: 1e-6, epochs: 2, iterationsPerEpoch: perEpoch,
                                             warmupEpochs: 1, warmupStart: 0)
        #expect(trainer.optimizer.learningRate == rates[perEpoch])
    }

    @Test func resumingAnSVTRunEqualsTheUninterruptedRun() throws {
        let whole = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-whole")))
        try whole.run()
        let cutFolder = TinyRun.folder("svt-cut")
        let recipe = try Self.recipe(output: cutFolder, overrides: ["train.checkpoint_every=3"])
        let first = try Trainer(recipe: recipe)
        try first.run(stopAfter: 3)
        let second = try Trainer(recipe: recipe, resume: cutFolder)
        #expect(second.step == 3)
        try second.run()
        #expect(second.step == whole.step && whole.step == whole.totalSteps)
        // Student, head, teacher (drop-path streams included) and centre all continue exactly.
        #expect(Self.state(second) == Self.state(whole))
        #expect(second.optimizer.stateDict().mapValues { $0.scalars } == whole.optimizer.stateDict().mapValues { $0.scalars })
    }

    @Test func theMemoryEstimateRunsTheViewsAndLeavesTheRunAsItWas() throws {
        let plain = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-plain")))
        try plain.run(stopAfter: 2)
        let estimated = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-estimated")))
        // Heap statistics are per allocator arena, so the figure itself is checked in
        // MemoryEstimateTests; here it must be computed from the views and change nothing.
        _ = try #require(estimated.memoryEstimate())
        try estimated.run(stopAfter: 2)
        #expect(Self.state(estimated) == Self.state(plain))
    }

    @Test func viewsReachTheObjectiveWithTheirOwnShapes() throws {
        let trainer = try Trainer(recipe: Self.recipe(output: TinyRun.folder("svt-views")))
        let batches = trainer.loader.batches(from: .init(epoch: 0))
        defer { batches.close() }
        let batch = try #require(try batches.next())
        #expect(batch.views.map(\.shape) == [[4, 4, 3, 32, 32], [4, 8, 3, 32, 32], [4, 2, 3, 16, 16],
                                              [4, 2, 3, 16, 16], [4, 4, 3, 16, 16]])
        #expect(batch.clips.shape == batch.views[0].shape)
        // Equal shapes run as one batch: 4 forwards for 5 views, rows view-major (no drop-path).
        trainer.model.eval()
        let features = SVTTrainingObjective.classEmbeddings(of: batch.views, backbone: trainer.backbone)
        #expect(features.shape == [20, 24])
        let alone = trainer.backbone.classEmbedding(batch.views[3])
        let rows = features.slice(axis: 0, range: 12..<16)
        #expect(maxAbsDifference(alone, rows) < 1e-5)
    }
}

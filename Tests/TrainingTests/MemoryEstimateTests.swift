import Foundation
import Testing
import TensorCore
import Training
import VideoTransformers

@Suite("Training memory estimate")
struct MemoryEstimateTests {
    @Test func partsAddUp() {
        let e = TrainingMemoryEstimate(activationBytesPerClip: 1000, batchSize: 4, parameterBytes: 400,
                                       gradientBytes: 300, optimizerStateBytes: 600)
        #expect(e.activationBytes == 4000)
        #expect(e.trainingOverheadBytes == 4000 + 300 + 600)
        #expect(e.totalBytes == 400 + 4900)
    }

    @Test func parametersGradientsAndOptimizerStateFollowTheParameters() throws {
        // 100 trainable floats and 5 frozen ones, AdamW with amsgrad (3 state tensors).
        let trainable = Parameter(Tensor(zeros: [10, 10]))
        let frozen = Parameter(Tensor(zeros: [5]), requiresGrad: false)
        let e = try #require(TrainingMemoryEstimate.measure(
            batchSize: 8, parameters: [trainable, frozen], optimizerStateCopies: 3) { trainable.value.sum() })
        #expect(e.batchSize == 8)
        #expect(e.parameterBytes == 105 * 4)
        #expect(e.gradientBytes == 100 * 4)
        #expect(e.optimizerStateBytes == 300 * 4)
        #expect(e.activationBytes == 8 * e.activationBytesPerClip)
    }

    @Test func measuresWhatTheGraphHolds() throws {
        // exp saves its 256 MiB output for backward and nothing else survives the forward pass.
        // Tests running alongside share the heap and their net allocations land in the window too
        // (tens of MiB at times), hence the size, the median of five and the tolerance of a tenth.
        let count = 1 << 26
        let x = Parameter(Tensor(zeros: [count]))
        var measured: [Int] = []
        for _ in 0..<5 {
            let e = try #require(TrainingMemoryEstimate.measure(
                batchSize: 1, parameters: [x], optimizerStateCopies: 2) { x.value.exp().sum() })
            measured.append(e.activationBytesPerClip)
        }
        let median = measured.sorted()[2]
        let expected = count * MemoryLayout<Float>.size
        #expect(abs(median - expected) < expected / 10,
                "measured \(measured) bytes, the graph holds \(expected)")
    }

    @Test func theTrainersEstimateLeavesTrainingUnchanged() throws {
        let overrides = ["train.batch_size=2", "train.ema_decay=0.9"]
        let plain = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("plain"), overrides: overrides))
        try plain.run(stopAfter: 3)

        let estimated = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("estimated"), overrides: overrides))
        let estimate = try #require(estimated.memoryEstimate())
        try estimated.run(stopAfter: 3)
        #expect(TinyRun.bits(estimated) == TinyRun.bits(plain))

        // TIME's recipe: AdamW with amsgrad (3 tensors) plus the weight average (1).
        let floats = estimated.namedParameters().reduce(0) { $0 + $1.1.value.count }
        #expect(estimate.batchSize == 2)
        #expect(estimate.parameterBytes == 4 * floats && estimate.gradientBytes == 4 * floats)
        #expect(estimate.optimizerStateBytes == 4 * 4 * floats)
        // Two forwards of a 4-frame 32×32 clip hold far more than a few kilobytes.
        #expect(estimate.activationBytesPerClip > 100_000)
    }
}

@Suite("Step benchmark")
struct StepBenchmarkTests {
    /// Forward matrix-product FLOPs per clip that torch.utils.flop_counter counts on the PyTorch
    /// re-implementations (`python3 Benchmarks/pytorch/model_bench.py --model NAME --count`,
    /// `forwardGFLOPPerClip`: infer, and train+time minus two backbone forwards for TIME's heads).
    @Test func matmulFlopsMatchPyTorchsCount() throws {
        let timesformer = try StepBenchmark(model: "timesformer_tiny_8x112")
        #expect(timesformer.matmulFlopsPerClip(.inference) == 6_260_163_840)
        #expect(timesformer.matmulFlopsPerClip(.train) == 3 * 6_260_163_840)
        #expect(StepBenchmark.timeHeadsMatmulFlops(timesformer.config) == 12_635_600_256 - 2 * 6_260_163_840)
        #expect(timesformer.matmulFlopsPerClip(.trainWithTIME) == 3 * 12_635_600_256)
        #expect(try StepBenchmark(model: "xvit_tiny_8x112").matmulFlopsPerClip(.inference) == 4_554_823_680)
        // PyTorch computes proj_kv's value half too (2·S·T·C·C per block), which Swift skips.
        let motionformer = try StepBenchmark(model: "motionformer_tiny_8x112")
        let valueHalf = 12.0 * 2 * 392 * 8 * 192 * 192
        #expect(motionformer.matmulFlopsPerClip(.inference) == 11_661_633_792 - valueHalf)
    }

    @Test func parameterCountsMatchPyTorch() throws {
        // model_bench.py --count, parameterCount.
        #expect(try StepBenchmark(model: "timesformer_tiny_8x112").parameterCount(.train) == 7_759_278)
        #expect(try StepBenchmark(model: "motionformer_tiny_8x112").parameterCount(.trainWithTIME) == 7_054_271)
        #expect(try StepBenchmark(model: "xvit_tiny_8x112").parameterCount(.inference) == 6_013_230)
    }

    @Test func anUnknownModelIsNamed() {
        #expect(throws: BackboneConfigError.self) { try StepBenchmark(model: "timesformer_huge") }
    }
}

import Foundation
import Testing
import TensorCore
import VideoTransformers

/// IIC's checkpoint layouts: DataParallel and retrieval-wrapper prefixes removed, memory banks and
/// BatchNorm counters dropped, the classifier kept or dropped.
@Suite struct IICKeyMapTests {
    static let tensors: [(String, Tensor)] = [
        ("module.conv1.temporal_spatial_conv.weight", Tensor(repeating: 1, shape: [2, 3, 1, 1, 1])),
        ("module.bn1.running_mean", Tensor(repeating: 2, shape: [2])),
        ("module.bn1.num_batches_tracked", Tensor(repeating: 7, shape: [])),
        ("base_network.conv2.block1.conv1.temporal_spatial_conv.weight", Tensor(repeating: 3, shape: [2, 2, 1, 1, 1])),
        ("conv3.block1.downsampleconv.temporal_spatial_conv.weight", Tensor(repeating: 4, shape: [2, 2, 1, 1, 1])),
        ("linear.weight", Tensor(repeating: 5, shape: [101, 2])),
        ("linear.bias", Tensor(repeating: 6, shape: [101])),
        ("contrast.memory_l", Tensor(zeros: [4, 2])),
    ]

    static var context: KeyMapContext {
        KeyMapContext(config: try! Backbones.config("timesformer_tiny_8x112", overrides: [:]))
    }

    @Test func theSelfSupervisedAndFineTunedLayoutsMapToIICsModuleNames() throws {
        let result = try KeyMaps.apply("iic", to: Self.tensors, context: Self.context)
        #expect(result.tensors.map(\.0) == [
            "conv1.temporal_spatial_conv.weight", "bn1.running_mean",
            "conv2.block1.conv1.temporal_spatial_conv.weight", "conv3.block1.downsampleconv.temporal_spatial_conv.weight",
            "linear.weight", "linear.bias",
        ])
        #expect(result.tensors[2].1.scalars == [Float](repeating: 3, count: 4))
        #expect(result.dropped == ["module.bn1.num_batches_tracked", "contrast.memory_l"])
        #expect(result.renamed.count == 3 && result.initialised.isEmpty)
    }

    @Test func theBackboneMapDropsTheClassifier() throws {
        let result = try KeyMaps.apply("iic-backbone", to: Self.tensors, context: Self.context)
        #expect(!result.tensors.contains { $0.0.hasPrefix("linear.") })
        #expect(result.dropped.contains("linear.weight") && result.dropped.contains("linear.bias"))
        #expect(result.initialised == ["linear.*"])
        #expect(KeyMaps.names.contains("iic") && KeyMaps.names.contains("iic-backbone"))
    }

    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: "pth", subdirectory: "Fixtures")!
    }

    /// IIC's files written by PyTorch (`Scripts/reference/make_iic_fixtures.py`): the training
    /// checkpoint keeps the weights under `model` beside `opt` (an argparse.Namespace), the banks
    /// and the optimizer; the fine-tuned file is flat.
    @Test func theSelfSupervisedCheckpointAndTheFineTunedFileLoadThroughTheMap() throws {
        let ssl = try PyTorchCheckpoint.read(contentsOf: Self.fixture("iic_ssl_checkpoint"))
        #expect(ssl.stateDictKey == "model")
        let mapped = try KeyMaps.apply("iic-backbone", to: ssl.tensors, context: Self.context)
        let names = mapped.tensors.map(\.0)
        #expect(names.first == "conv1.temporal_spatial_conv.weight" && names.count == 9)
        #expect(names.contains("conv3.block1.downsampleconv.temporal_spatial_conv.weight"))
        #expect(!names.contains { $0.hasPrefix("module.") || $0.hasPrefix("contrast.") })
        let conv1 = try #require(mapped.tensors.first?.1)
        #expect(conv1.shape == [4, 3, 3, 3, 3] && conv1.scalars[1] == 0.01 && conv1.scalars[100] == 1)

        let tuned = try PyTorchCheckpoint.read(contentsOf: Self.fixture("iic_finetuned"))
        #expect(tuned.stateDictKey == nil)
        let kept = try KeyMaps.apply("iic", to: tuned.tensors, context: Self.context)
        #expect(kept.tensors.map(\.0).suffix(2) == ["linear.weight", "linear.bias"])
        #expect(kept.tensors.count == 11 && kept.renamed.isEmpty)
        #expect(kept.tensors.first { $0.0 == "bn1.running_mean" }?.1.shape == [4])
    }
}

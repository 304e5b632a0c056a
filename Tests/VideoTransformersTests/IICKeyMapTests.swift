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
}

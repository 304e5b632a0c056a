import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// A two-block timm-style ViT state dict of width 4 with distinct, recognisable values.
private func tinyViT() -> [(String, Tensor)] {
    var tensors: [(String, Tensor)] = [
        ("cls_token", Tensor(repeating: 0.5, shape: [1, 1, 4])),
        ("pos_embed", Tensor(repeating: 0.25, shape: [1, 5, 4])),
        ("patch_embed.proj.weight", Tensor(repeating: 1, shape: [4, 3, 2, 2])),
    ]
    for block in 0..<2 {
        let v = Float(block + 1)
        tensors += [
            ("blocks.\(block).norm1.weight", Tensor(repeating: v, shape: [4])),
            ("blocks.\(block).norm1.bias", Tensor(repeating: -v, shape: [4])),
            ("blocks.\(block).attn.qkv.weight", Tensor(repeating: 10 * v, shape: [12, 4])),
            ("blocks.\(block).attn.proj.weight", Tensor(repeating: 20 * v, shape: [4, 4])),
            ("blocks.\(block).mlp.fc1.weight", Tensor(repeating: 30 * v, shape: [16, 4])),
        ]
    }
    tensors += [("norm.weight", Tensor(ones: [4])), ("head.weight", Tensor(ones: [1000, 4])), ("head.bias", Tensor(zeros: [1000]))]
    return tensors
}

@Test func timmViTInflationCopiesSpatialIntoTemporalAndZeroesGates() throws {
    let result = try CheckpointKeyMaps.timmViTInflation(tinyViT(), into: 2, numFrames: 3)
    #expect(result.dropped == ["head.weight", "head.bias"])
    #expect(result.tensor(named: "time_embed") == Tensor(zeros: [1, 3, 4]))
    for block in 0..<2 {
        let v = Float(block + 1)
        let p = "blocks.\(block)."
        #expect(result.tensor(named: p + "temporal_attn.qkv.weight") == Tensor(repeating: 10 * v, shape: [12, 4]))
        #expect(result.tensor(named: p + "temporal_attn.proj.weight") == Tensor(repeating: 20 * v, shape: [4, 4]))
        #expect(result.tensor(named: p + "temporal_norm1.weight") == Tensor(repeating: v, shape: [4]))
        #expect(result.tensor(named: p + "temporal_norm1.bias") == Tensor(repeating: -v, shape: [4]))
        #expect(result.tensor(named: p + "temporal_fc.weight") == Tensor(zeros: [4, 4]))
        #expect(result.tensor(named: p + "temporal_fc.bias") == Tensor(zeros: [4]))
        // The spatial originals stay.
        #expect(result.tensor(named: p + "attn.qkv.weight") == Tensor(repeating: 10 * v, shape: [12, 4]))
        #expect(result.tensor(named: p + "temporal_mlp.fc1.weight") == nil)
    }
    #expect(result.created.count == 1 + 2 * 6)
    #expect(Set(result.names).count == result.names.count)
    #expect(result.notes.contains { $0.contains("pos_embed") })
}

@Test func inflatingAVideoCheckpointAgainIsRefused() throws {
    let once = try CheckpointKeyMaps.timmViTInflation(tinyViT(), into: 2, numFrames: 3)
    let error = checkpointError { _ = try CheckpointKeyMaps.timmViTInflation(once.tensors, into: 2, numFrames: 3) }
    guard case let .keyMapRefused(map, reason) = error else {
        Issue.record("expected keyMapRefused, got \(String(describing: error))")
        return
    }
    #expect(map == "timm-inflation")
    #expect(reason.contains("already a video checkpoint"))
}

@Test func timeReleaseKeepsKeysAndStripsDataParallelPrefix() {
    let plain = [("cls_token", Tensor(zeros: [1, 1, 4])), ("temp_head.bias", Tensor(ones: [8]))]
    #expect(CheckpointKeyMaps.timeRelease(plain).names == ["cls_token", "temp_head.bias"])
    #expect(CheckpointKeyMaps.timeRelease(plain).renamed.isEmpty)
    let wrapped = plain.map { ("module." + $0.0, $0.1) }
    let mapped = CheckpointKeyMaps.timeRelease(wrapped)
    #expect(mapped.names == ["cls_token", "temp_head.bias"])
    #expect(mapped.tensor(named: "temp_head.bias") == Tensor(ones: [8]))
}

@Test func dryRunReportListsMissingUnexpectedAndReshaped() throws {
    var generator = RandomGenerator(seed: 0)
    let module = Linear(inFeatures: 3, outFeatures: 2, using: &generator)
    let checkpoint = try PyTorchCheckpoint.read(contentsOf: checkpointFixture("plain.pth"))
    let empty = CheckpointReport(module: module, checkpoint: checkpoint)
    #expect(empty.stateDict.missing == ["weight", "bias"])
    #expect(empty.stateDict.unexpected == ["base", "base_t", "base_tail", "half", "bf16", "double"])
    #expect(empty.notes == ["integer tensors not loaded: num_batches_tracked"])

    let report = CheckpointReport(
        module: module, tensors: [("weight", Tensor(zeros: [3, 2])), ("bias", Tensor(zeros: [2])), ("extra", Tensor(0))])
    #expect(report.stateDict.loaded == ["bias"])
    #expect(report.stateDict.shapeMismatched == [.init(key: "weight", expected: [2, 3], found: [3, 2])])
    #expect(report.stateDict.unexpected == ["extra"])
    #expect(!report.isExact)
    #expect(report.description.contains("weight expected [2, 3] found [3, 2]"))

    // The model.pyth weights fit a Linear(3, 2) once the extra parameter is set aside.
    let model = try PyTorchCheckpoint.read(contentsOf: checkpointFixture("model.pyth"))
    let fits = CheckpointReport(module: module, tensors: model.tensors.filter { $0.0 != "scale" })
    #expect(fits.isExact)
    try module.loadStateDict(model.tensors.filter { $0.0 != "scale" })
    #expect(module.stateDict().first { $0.0 == "bias" }?.1 == Tensor([-1, 1]))
}

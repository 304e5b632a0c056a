import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

// Fixtures from Scripts/reference/make_checkpoint_fixtures.py; the expected values below are the
// formulas documented there.

func checkpointFixture(_ name: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures/checkpoints/\(name)")
}

/// The error a throwing call produced, or nil when it succeeded; an error of another type is
/// recorded as a test failure (every import failure must be a ``CheckpointError``).
func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do {
        try body()
        return nil
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("untyped error \(error)")
        return nil
    }
}

@Test func plainTorchSaveLoadsEveryDtypeAndView() throws {
    let checkpoint = try Checkpoint.load(contentsOf: checkpointFixture("plain.pth"))
    #expect(checkpoint.format == .pyTorchZip)
    #expect(checkpoint.stateDictKey == nil)
    #expect(checkpoint.names == ["base", "base_t", "base_tail", "half", "bf16", "double"])
    #expect(checkpoint.tensor(named: "base") == Tensor(shape: [2, 3], scalars: [-1, -0.5, 0, 0.5, 1, 1.5]))
    // base.t(): strides (1, 3) into the same storage, gathered to row-major.
    #expect(checkpoint.tensor(named: "base_t") == Tensor(shape: [3, 2], scalars: [-1, 0.5, -0.5, 1, 0, 1.5]))
    #expect(checkpoint.tensor(named: "base_tail") == Tensor(shape: [3], scalars: [0, 0.5, 1]))
    #expect(checkpoint.tensor(named: "half") == Tensor(shape: [4], scalars: [1, 1.25, 1.5, 1.75]))
    #expect(checkpoint.tensor(named: "bf16") == Tensor(shape: [2, 2], scalars: [-2, -1, 0, 1]))
    #expect(checkpoint.tensor(named: "double") == Tensor(shape: [3], scalars: [0.5, -1.5, Float(1e10)]))
    #expect(checkpoint.integerTensors == [IntegerTensor(name: "num_batches_tracked", shape: [], values: [7])])
}

@Test func pythWithModelStateLoadsWithEpoch() throws {
    let checkpoint = try PyTorchCheckpoint.read(contentsOf: checkpointFixture("model.pyth"))
    #expect(checkpoint.stateDictKey == "model_state")
    #expect(checkpoint.entries == ["epoch": .int(3)])
    #expect(checkpoint.names == ["weight", "bias", "scale"])
    #expect(checkpoint.tensor(named: "weight") == Tensor(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25]))
    #expect(checkpoint.tensor(named: "bias") == Tensor([-1, 1]))
    // An nn.Parameter goes through torch._utils._rebuild_parameter.
    #expect(checkpoint.tensor(named: "scale") == Tensor([2]))
}

@Test func facebookPrefixIsStripped() throws {
    let checkpoint = try Checkpoint.load(contentsOf: checkpointFixture("prefixed.pth"))
    let mapped = CheckpointKeyMaps.facebookresearchTimeSformer(checkpoint.tensors)
    #expect(mapped.names == ["cls_token", "head.bias"])
    #expect(mapped.renamed.map(\.from) == ["model.cls_token", "model.head.bias"])
    #expect(mapped.tensor(named: "cls_token") == Tensor(shape: [1, 1, 4], scalars: [0, 1, 2, 3]))
    #expect(mapped.tensor(named: "head.bias") == Tensor([0.25, -0.25]))
}

@Test func picklesThatAreNotStateDictsAreRefused() {
    let evil = checkpointError { _ = try Checkpoint.load(contentsOf: checkpointFixture("evil.pth")) }
    #expect(evil == .forbiddenGlobal(path: checkpointFixture("evil.pth").path, module: "os", name: "system"))
    #expect(evil.map { "\($0)" }?.contains("os.system") == true)

    let module = checkpointError { _ = try Checkpoint.load(contentsOf: checkpointFixture("module.pth")) }
    guard case let .forbiddenGlobal(_, moduleName, _) = module else {
        Issue.record("expected forbiddenGlobal, got \(String(describing: module))")
        return
    }
    #expect(moduleName.hasPrefix("torch.nn"))

    let list = checkpointError { _ = try Checkpoint.load(contentsOf: checkpointFixture("list.pth")) }
    guard case let .notAStateDict(_, reason) = list else {
        Issue.record("expected notAStateDict, got \(String(describing: list))")
        return
    }
    #expect(reason.contains("list"))
}

@Test func safeTensorsLoadThroughTheSameEntry() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videossl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    // The extension is misleading on purpose: dispatch is by content.
    let url = directory.appendingPathComponent("weights.pth")
    try SafeTensors.write(
        arrays: [("w", .float32(Tensor([1.5, -2]))), ("steps", .int64([4], shape: [1]))],
        metadata: ["source": "test"], to: url)
    let checkpoint = try Checkpoint.load(contentsOf: url)
    #expect(checkpoint.format == .safeTensors)
    #expect(checkpoint.names == ["w"])
    #expect(checkpoint.tensor(named: "w") == Tensor([1.5, -2]))
    #expect(checkpoint.integerTensors == [IntegerTensor(name: "steps", shape: [1], values: [4])])
    #expect(checkpoint.entries == ["source": .string("test")])
}

@Test func unknownAndMissingFilesThrowTypedErrors() {
    #expect(checkpointError { _ = try Checkpoint.parse(Data([1, 2, 3]), path: "tiny") } == .unknownFormat(path: "tiny"))
    #expect(checkpointError { _ = try Checkpoint.parse(Data([0x80, 2, 0x8A, 0x0A]), path: "old") }
        == .legacyPyTorchFormat(path: "old"))
    let missing = URL(fileURLWithPath: "/nonexistent/videossl/none.pth")
    guard case .unreadable = checkpointError({ _ = try Checkpoint.load(contentsOf: missing) }) else {
        Issue.record("a missing file should be unreadable")
        return
    }
}

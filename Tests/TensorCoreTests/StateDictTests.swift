import Foundation
import Testing
import TensorCore
import _TestSupport

// A miniature ViT-like tree, so that keys such as `blocks.0.attn.qkv.weight` appear.

final class TinyLinear: Module {
    let weight: Parameter
    let bias: Parameter

    init(_ inputs: Int, _ outputs: Int) {
        weight = Parameter(Tensor(zeros: [outputs, inputs]))
        bias = Parameter(Tensor(zeros: [outputs]))
    }
}

final class TinyNorm: Module {
    let weight = Parameter(Tensor(ones: [4]))
    let bias = Parameter(Tensor(zeros: [4]))
}

final class TinyAttention: Module {
    let qkv = TinyLinear(4, 12)
    let proj = TinyLinear(4, 4)
}

final class TinyBlock: Module {
    let norm1 = TinyNorm()
    let attn = TinyAttention()
}

final class TinyModel: Module {
    let clsToken = Parameter(Tensor(zeros: [1, 1, 4]))
    let blocks = [TinyBlock(), TinyBlock()]
    let head: TinyLinear

    init(classes: Int = 3) {
        head = TinyLinear(4, classes)
    }
}

/// Element `i` of the `k`-th parameter (state-dict order) is Float32(sin(i · 0.37 + k)); the same
/// formula is checked from Python by Scripts/reference/check_safetensors_roundtrip.py.
func formulaValue(parameter k: Int, element i: Int) -> Float {
    Float(sin(Double(i) * 0.37 + Double(k)))
}

/// A TinyModel whose parameters follow ``formulaValue(parameter:element:)``.
func formulaModel() -> TinyModel {
    let model = TinyModel()
    for (k, (_, parameter)) in model.namedParameters().enumerated() {
        parameter.value = Tensor(shape: parameter.shape, scalars: (0..<parameter.value.count).map {
            formulaValue(parameter: k, element: $0)
        })
    }
    return model
}

/// A fresh, empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    Scratch.directory("tensorcore")
}

private func values(_ state: [(String, Tensor)]) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: state.map { ($0.0, $0.1.scalars) })
}

@Test func stateDictKeysFollowPyTorchNaming() {
    let keys = TinyModel().stateDict().map(\.0)
    let block = { (i: Int) in
        ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias"]
            .map { "blocks.\(i).\($0)" }
    }
    #expect(keys == ["cls_token"] + block(0) + block(1) + ["head.weight", "head.bias"])
    #expect(TinyModel().stateDict().first(where: { $0.0 == "blocks.1.attn.qkv.weight" })?.1.shape == [12, 4])
}

@Test func saveAndLoadRoundTrip() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("model.safetensors")
    let source = formulaModel()
    try source.save(to: url, metadata: ["epoch": "3"])

    let target = TinyModel()
    let report = try target.load(from: url)
    #expect(report.isExact)
    #expect(report.loaded == source.stateDict().map(\.0))
    #expect(values(target.stateDict()) == values(source.stateDict()))
    #expect(try SafeTensors.read(contentsOf: url).metadata == ["epoch": "3"])
    // Loading assigns values; the parameters stay trainable leaves.
    #expect(target.parameters().allSatisfy { $0.requiresGrad })
}

@Test func saveIsDeterministic() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let first = directory.appendingPathComponent("a.safetensors")
    let second = directory.appendingPathComponent("b.safetensors")
    try formulaModel().save(to: first, metadata: ["b": "2", "a": "1"])
    try formulaModel().save(to: second, metadata: ["a": "1", "b": "2"])
    let bytes = try Data(contentsOf: first)
    #expect(bytes == (try Data(contentsOf: second)))
    let expected = try SafeTensors.encode(
        arrays: formulaModel().stateDict().map { ($0.0, .float32($0.1)) }, metadata: ["a": "1", "b": "2"])
    #expect(bytes == expected)
}

/// A state dict with one key missing, one unexpected and one of the wrong shape.
private func brokenState() -> [(String, Tensor)] {
    var state = formulaModel().stateDict().filter { $0.0 != "blocks.0.attn.proj.bias" }
    state.append(("blocks.0.attn.rel_pos", Tensor(zeros: [3])))
    let index = state.firstIndex { $0.0 == "head.weight" }!
    state[index].1 = Tensor(zeros: [5, 4])
    return state
}

private func expectBrokenReport(_ report: StateDictReport) {
    #expect(report.missing == ["blocks.0.attn.proj.bias"])
    #expect(report.unexpected == ["blocks.0.attn.rel_pos"])
    #expect(report.shapeMismatched == [.init(key: "head.weight", expected: [3, 4], found: [5, 4])])
}

@Test func strictLoadListsEveryProblemAndChangesNothing() {
    let model = TinyModel()
    let before = values(model.stateDict())
    do throws(StateDictError) {
        try model.loadStateDict(brokenState())
        Issue.record("strict load of a broken state dict succeeded")
    } catch {
        expectBrokenReport(error.report)
        #expect(error.path == nil)
        let message = error.description
        for key in ["blocks.0.attn.proj.bias", "blocks.0.attn.rel_pos", "head.weight", "[5, 4]"] {
            #expect(message.contains(key), "\(message)")
        }
    }
    #expect(values(model.stateDict()) == before)
}

@Test func strictLoadFromFileChangesNothing() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("broken.safetensors")
    try SafeTensors.write(brokenState(), to: url)
    let model = TinyModel()
    let before = values(model.stateDict())
    #expect {
        try model.load(from: url)
    } throws: { error in
        guard let error = error as? StateDictError else { return false }
        expectBrokenReport(error.report)
        return error.path == url.path && error.localizedDescription.hasPrefix(url.path)
    }
    #expect(values(model.stateDict()) == before)
}

@Test func nonStrictLoadsMatchingKeysAndReports() throws {
    let model = TinyModel()
    let report = try model.loadStateDict(brokenState(), strict: false)
    expectBrokenReport(report)
    #expect(!report.isExact)
    let loaded = values(model.stateDict()), reference = values(formulaModel().stateDict())
    #expect(report.loaded.count == reference.count - 2)
    for key in report.loaded { #expect(loaded[key] == reference[key], "\(key)") }
    // Skipped parameters keep their previous values.
    #expect(loaded["head.weight"] == [Float](repeating: 0, count: 12))
    #expect(loaded["blocks.0.attn.proj.bias"] == [0, 0, 0, 0])
}

@Test func loadFromUnorderedDictionary() throws {
    let model = TinyModel()
    var state = Dictionary(uniqueKeysWithValues: formulaModel().stateDict())
    state["extra_b"] = Tensor(zeros: [1])
    state["extra_a"] = Tensor(zeros: [1])
    let report = try model.loadStateDict(state, strict: false)
    #expect(report.unexpected == ["extra_a", "extra_b"])
    #expect(values(model.stateDict()) == values(formulaModel().stateDict()))
    state["extra_a"] = nil
    state["extra_b"] = nil
    #expect(try model.loadStateDict(state).isExact)
}

@Test func integerTensorUnderParameterKeyLeavesModelUnchanged() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("int.safetensors")
    var arrays = formulaModel().stateDict().map { ($0.0, SafeTensorsArray.float32($0.1)) }
    let index = arrays.firstIndex { $0.0 == "head.bias" }!
    arrays[index].1 = .int64([1, 2, 3], shape: [3])
    try SafeTensors.write(arrays: arrays, to: url)
    let model = TinyModel()
    let before = values(model.stateDict())
    #expect(throws: SafeTensorsError.wrongKind(path: url.path, name: "head.bias", dtype: "I64", requested: "Float32")) {
        try model.load(from: url)
    }
    #expect(values(model.stateDict()) == before)
}

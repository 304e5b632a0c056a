import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// Compares ``TubeletEmbed`` with PyTorch's `nn.Conv3d(3, C, kernel_size=(t, p, p),
/// stride=(t, p, p))` as VideoMAE applies it (`Scripts/reference/make_tubelet_golden.py`: C 5, t 2,
/// p 4, clip [2, 4, 3, 8, 12], random weights), and checks its keys and gradients.
@Suite("TubeletEmbed")
struct TubeletEmbedTests {
    static func fixture() throws -> SafeTensorsFile {
        let url = try #require(Bundle.module.url(forResource: "golden_tubelet", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        return try SafeTensors.read(contentsOf: url)
    }

    /// Whether `actual` is within `1e-4 · max(1, max|expected|)` of `expected` everywhere.
    static func expectGradient(_ actual: Tensor?, _ expected: Tensor, _ name: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = Swift.max(1, expected.scalars.map(Swift.abs).max() ?? 0)
        guard let actual, actual.shape == expected.shape else {
            Issue.record("gradient of \(name): \(actual?.shape.description ?? "missing") vs \(expected.shape)",
                         sourceLocation: sourceLocation)
            return
        }
        let diff = maxAbsDifference(actual, expected)
        #expect(diff <= 1e-4 * scale, "gradient of \(name): max diff \(diff) (scale \(scale))",
                sourceLocation: sourceLocation)
    }

    @Test func matchesPyTorchConv3d() throws {
        let file = try Self.fixture()
        var g = RandomGenerator(seed: 0)
        let embed = TubeletEmbed(tubeletSize: 2, patchSize: 4, embedDim: 5, using: &g)
        embed.proj.weight.value = try file.tensor(named: "weight")
        embed.proj.bias.value = try file.tensor(named: "bias")
        let clip = try file.tensor(named: "input").requiringGrad()
        let tokens = embed(clip)
        let expected = try file.tensor(named: "tokens")
        try #require(tokens.shape == [2, 2, 6, 5] && tokens.shape == expected.shape)
        #expect(maxAbsDifference(tokens, expected) <= 1e-5, "max diff \(maxAbsDifference(tokens, expected))")

        let lossWeight = try file.tensor(named: "loss_weight")
        (tokens * lossWeight).sum().backward()
        try Self.expectGradient(embed.proj.weight.grad, file.tensor(named: "grad.weight"), "proj.weight")
        try Self.expectGradient(embed.proj.bias.grad, file.tensor(named: "grad.bias"), "proj.bias")
        try Self.expectGradient(clip.grad, file.tensor(named: "grad.input"), "input")
    }

    @Test func stateDictKeysMatchPyTorch() {
        var g = RandomGenerator(seed: 1)
        let embed = TubeletEmbed(tubeletSize: 2, patchSize: 16, embedDim: 7, using: &g)
        let state = embed.stateDict()
        #expect(state.map { $0.0 } == ["proj.weight", "proj.bias"])
        #expect(state.map { $0.1.shape } == [[7, 3, 2, 16, 16], [7]])
    }

    @Test func tokensFollowRowMajorPatchOrder() {
        // Token (t' 1, n 5) of a [1, 4, 3, 4, 6] clip with t 2, p 2 is the tubelet of frames 2..<4,
        // rows 2..<4, columns 4..<6 (grid 2 × 3, so n 5 = row 1 · 3 + col 2).
        var g = RandomGenerator(seed: 2)
        let embed = TubeletEmbed(tubeletSize: 2, patchSize: 2, embedDim: 3, using: &g)
        let clip = Tensor.normal([1, 4, 3, 4, 6], using: &g)
        let tokens = embed(clip)
        #expect(tokens.shape == [1, 2, 6, 3])
        let tubelet = clip.slice(axis: 1, range: 2..<4).slice(axis: 3, range: 2..<4).slice(axis: 4, range: 4..<6)
        let w = embed.proj.weight.value
        let row = tubelet.permuted([0, 2, 1, 3, 4]).reshaped([1, 3 * 2 * 2 * 2])
        let expected = Tensor.linear(row, weight: w.reshaped([3, 24]), bias: embed.proj.bias.value)
        let actual = tokens.slice(axis: 1, range: 1..<2).slice(axis: 2, range: 5..<6).reshaped([1, 3])
        #expect(isClose(actual, expected, atol: 1e-5), "max diff \(maxAbsDifference(actual, expected))")
    }

    @Test func gradientsMatchFiniteDifferences() {
        var g = RandomGenerator(seed: 3)
        let embed = TubeletEmbed(tubeletSize: 2, patchSize: 2, embedDim: 3, using: &g)
        let clip = Tensor.normal([1, 4, 3, 2, 4], using: &g)
        let r = checkGradients([clip]) { xs in embed(xs[0]).squared().sum() }
        #expect(r.passed, "\(r)")
        let p = checkParameterGradients(of: embed.namedParameters()) { embed(clip).squared().sum() }
        #expect(p.passed, "\(p.report)")
    }

    @Test func frameCountNotMultipleOfTubeletStops() async {
        await #expect(processExitsWith: .failure) {
            var g = RandomGenerator(seed: 0)
            let embed = TubeletEmbed(tubeletSize: 2, patchSize: 4, embedDim: 5, using: &g)
            _ = embed(Tensor(zeros: [1, 3, 3, 8, 8]))
        }
    }
}

import Foundation
import Testing
import TensorCore
import _TestSupport

/// Buffers: saved and loaded with the parameters under their own keys, never optimised; flattened
/// children (`""` key segment) add no prefix.
@Suite("Module buffers")
struct BufferTests {
    final class Norm: Module {
        let weight = Parameter(Tensor([1, 2]))
        let runningMean = Buffer(Tensor([0.5, -0.5]))
        let numBatchesTracked = Buffer(Tensor(0))
    }

    final class Net: Module {
        let fc: Linear
        let bn = Norm()
        init(using g: inout RandomGenerator) { fc = Linear(inFeatures: 2, outFeatures: 2, using: &g) }
    }

    final class Joined: Module {
        let a: Net, b: Norm
        init(_ a: Net, _ b: Norm) { self.a = a; self.b = b }
        override func namedChildren() -> [(String, Module)] { [("", a), ("extra", b)] }
    }

    @Test func buffersAreStateButNotParameters() throws {
        var g = RandomGenerator(seed: 1)
        let net = Net(using: &g)
        #expect(net.namedParameters().map(\.0) == ["fc.weight", "fc.bias", "bn.weight"])
        #expect(net.namedBuffers().map(\.0) == ["bn.running_mean", "bn.num_batches_tracked"])
        // PyTorch's state_dict order: per module its parameters, its buffers, then its children.
        #expect(net.stateDict().map(\.0) == ["fc.weight", "fc.bias", "bn.weight", "bn.running_mean", "bn.num_batches_tracked"])

        let other = Net(using: &g)
        other.bn.runningMean.value = Tensor([3, 4])
        try net.loadStateDict(other.stateDict())
        #expect(net.bn.runningMean.value.scalars == [3, 4])
        // A strict load reports a missing buffer like a missing parameter, and changes nothing.
        #expect(throws: StateDictError.self) { try net.loadStateDict(other.stateDict().filter { $0.0 != "bn.running_mean" }) }
        let url = Scratch.directory("buffers").appendingPathComponent("net.safetensors")
        try other.save(to: url)
        let third = Net(using: &g)
        try third.load(from: url)
        #expect(third.bn.runningMean.value.scalars == [3, 4] && third.bn.numBatchesTracked.value.scalars == [0])
    }

    @Test func buffersStayDetached() {
        let b = Buffer(Tensor([1, 2]).requiringGrad())
        #expect(!b.value.requiresGrad)
        b.value = Tensor([3, 4]).requiringGrad() * 2
        #expect(!b.value.requiresGrad && b.value.scalars == [6, 8])
    }

    @Test func flattenedChildrenKeepTheirKeys() {
        var g = RandomGenerator(seed: 2)
        let joined = Joined(Net(using: &g), Norm())
        #expect(joined.stateDict().map(\.0) == [
            "fc.weight", "fc.bias", "bn.weight", "bn.running_mean", "bn.num_batches_tracked",
            "extra.weight", "extra.running_mean", "extra.num_batches_tracked",
        ])
        joined.eval()
        #expect(joined.namedModules().allSatisfy { !$0.1.isTraining })
        #expect(!joined.a.isTraining)
    }
}

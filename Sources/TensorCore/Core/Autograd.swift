/// One recorded operation (or a leaf) in the autograd graph.
///
/// Nodes form the define-by-run tape: each non-leaf node knows its parents and how to map the
/// gradient of its output to gradients of its inputs. ``Tensor/backward(_:)`` walks the graph in
/// reverse topological order without recursion and releases every closure (and so every saved
/// activation) as soon as it has run.
@usableFromInline
final class GradNode: @unchecked Sendable {
    /// The operation that produced the value, for error messages.
    let op: String
    /// Parents, in the order the backward closure returns their gradients; `nil` where an input
    /// needs no gradient.
    var parents: [GradNode?]
    /// Maps the output gradient to one gradient per parent (`nil` where none is needed).
    var backwardFunction: ((Tensor) -> [Tensor?])?
    /// The accumulated gradient. Leaves keep it after backward; inner nodes drop it.
    var grad: Tensor?
    /// Whether this is a leaf (a parameter or a tensor marked with `requiringGrad()`).
    let isLeaf: Bool
    /// Set once an inner node has been consumed by a backward pass.
    var released = false

    init(leaf op: String) {
        self.op = op
        self.parents = []
        self.backwardFunction = nil
        self.isLeaf = true
    }

    init(op: String, parents: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.parents = parents
        self.backwardFunction = backward
        self.isLeaf = false
    }

    func accumulate(_ g: Tensor) {
        if var existing = grad {
            grad = nil  // keep the storage uniquely referenced so the add happens in place
            existing.addInPlaceNoGrad(g)
            grad = existing
        } else {
            grad = g.detached()
        }
    }
}

/// Gradient recording on or off for the current task or thread.
public enum GradMode {
    @TaskLocal static var isEnabledLocal: Bool = true

    /// Whether operations are currently being recorded for autograd.
    public static var isEnabled: Bool { isEnabledLocal }
}

/// Runs `body` without recording operations for autograd (inference, optimizer updates).
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabledLocal.withValue(false) { try body() }
}

extension Tensor {
    /// Whether this tensor takes part in autograd (a leaf that requires gradients or the result of
    /// a recorded operation on one).
    public var requiresGrad: Bool { node != nil }

    /// A copy of this tensor that is a leaf requiring gradients; after ``backward(_:)`` its
    /// gradient is available as ``grad``.
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradNode(leaf: "leaf"))
    }

    /// The same values cut off from autograd.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, node: nil)
    }

    /// The gradient accumulated on this leaf by the backward passes so far, if any.
    public var grad: Tensor? { node?.grad }

    /// Clears the gradient accumulated on this leaf.
    public func zeroGrad() { node?.grad = nil }

    /// Wraps a freshly computed value as the output of an operation.
    ///
    /// When gradient recording is on and at least one input requires gradients, a node is
    /// created whose backward closure receives the output gradient and returns one gradient per
    /// input (`nil` allowed for inputs that need none; `needsGrad` tells which do).
    @usableFromInline
    static func record(
        _ op: String, _ value: Tensor, inputs: [Tensor],
        backward: (_ needsGrad: [Bool]) -> (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return value }
        let needs = inputs.map { $0.node != nil }
        let node = GradNode(op: op, parents: inputs.map { $0.node }, backward: backward(needs))
        return Tensor(shape: value.shape, storage: value.storage, node: node)
    }

    /// Computes gradients of this tensor with respect to every leaf it depends on.
    ///
    /// For a scalar (one-element) tensor the seed defaults to one. Gradients accumulate (`+=`) on
    /// leaves, as in PyTorch; call ``zeroGrad()`` (or `Module.zeroGrad()`) between steps. The graph
    /// is freed as it is consumed, so a second backward through the same graph stops with a message.
    public func backward(_ seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: tensor of shape \(shape) does not require grad")
        }
        let seedValue: Tensor
        if let seed {
            precondition(seed.shape == shape, "backward: seed shape \(seed.shape) differs from tensor shape \(shape)")
            seedValue = seed.detached()
        } else {
            precondition(count == 1, "backward: implicit seed needs a one-element tensor, got shape \(shape)")
            seedValue = Tensor(repeating: 1, shape: shape)
        }
        let order = GradNode.topologicalOrder(from: root)
        noGrad {
            root.accumulate(seedValue)
            for current in order.reversed() {
                guard !current.isLeaf else { continue }
                precondition(!current.released,
                             "backward: the graph through '\(current.op)' was already freed by an earlier backward")
                let function = current.backwardFunction
                let parents = current.parents
                let outputGrad = current.grad
                current.backwardFunction = nil
                current.parents = []
                current.grad = nil
                current.released = true
                guard let function, let outputGrad else { continue }
                let grads = function(outputGrad)
                precondition(grads.count == parents.count, "backward: '\(current.op)' returned \(grads.count) gradients for \(parents.count) inputs")
                for (parent, g) in zip(parents, grads) {
                    guard let parent, let g else { continue }
                    parent.accumulate(g)
                }
            }
        }
    }
}

extension GradNode {
    /// Depth-first post-order without recursion, so very deep graphs cannot overflow the stack.
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.parents.count {
                stack.append((node, next + 1))
                if let parent = node.parents[next], visited.insert(ObjectIdentifier(parent)).inserted {
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
    }
}

extension Tensor {
    /// `self += other` elementwise without recording, same shapes (gradient accumulation).
    @usableFromInline
    mutating func addInPlaceNoGrad(_ other: Tensor) {
        precondition(shape == other.shape, "backward: gradient of shape \(other.shape) for value of shape \(shape)")
        storage.withUnsafeMutableBufferPointer { r in
            other.storage.withUnsafeBufferPointer { o in
                guard let target = r.baseAddress, let source = o.baseAddress else { return }
                Kernels.forChunks(r.count) { start, n in Kernels.table.accumulate(target + start, source + start, n) }
            }
        }
    }
}

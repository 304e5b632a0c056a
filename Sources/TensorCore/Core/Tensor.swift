/// A dense, row-major tensor of `Float` values with value semantics.
///
/// `Tensor` stores its elements contiguously in row-major order. Copies share storage until one of
/// them is mutated (copy-on-write), so passing tensors around is cheap. A tensor may carry an
/// autograd node: operations on such tensors are recorded so that ``backward(_:)`` can compute
/// gradients (see <doc:TrainingWithTensorCore>).
///
/// Integer data (labels, indices) does not travel as `Tensor`; use `[Int]` or `[Int32]`.
public struct Tensor: Sendable {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]

    /// The elements in row-major order.
    @usableFromInline internal var storage: [Float]

    /// The autograd node, when this tensor takes part in a recorded computation.
    @usableFromInline internal var node: GradNode?

    /// Creates a tensor from a shape and the elements in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`, and no extent is negative.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor.init: negative extent in shape \(shape)")
        precondition(
            scalars.count == Tensor.elementCount(shape),
            "Tensor.init: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.storage = scalars
        self.node = nil
    }

    @usableFromInline
    internal init(shape: [Int], storage: [Float], node: GradNode?) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// Creates a tensor of the given shape with every element set to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: Tensor.elementCount(shape)))
    }

    /// Creates a tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// Creates a tensor of ones.
    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    /// Creates a rank-0 tensor holding one value.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// Creates a rank-1 tensor from an array of values.
    public init(_ values: [Float]) { self.init(shape: [values.count], scalars: values) }

    /// Creates a tensor from a shape, filling the elements through a pointer (no zero-fill).
    ///
    /// `body` must initialise every element of the buffer.
    @inlinable
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = Tensor.elementCount(shape)
        let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer)
            initialized = count
        }
        self.init(shape: shape, storage: values, node: nil)
    }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The total number of elements.
    @inlinable public var count: Int { storage.count }

    /// The elements in row-major order.
    public var scalars: [Float] { storage }

    /// The single value of a tensor with one element.
    ///
    /// - Precondition: the tensor has exactly one element.
    public var item: Float {
        precondition(storage.count == 1, "Tensor.item: tensor of shape \(shape) has \(storage.count) elements")
        return storage[0]
    }

    /// Reads the element at a multi-dimensional index.
    public subscript(index: Int...) -> Float {
        storage[flatIndex(index)]
    }

    /// Calls `body` with a pointer to the contiguous elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the elements, copying shared storage first.
    ///
    /// Mutating a tensor in place is not recorded by autograd; use it for optimizer updates and
    /// initialisation, not inside a differentiated computation.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// The number of elements a shape holds.
    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// Row-major strides of a shape, in elements.
    @inlinable
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor.subscript: index \(index) for shape \(shape)")
        var flat = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor.subscript: index \(index) out of range for shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Normalises a possibly negative axis, stopping with a message naming `op` when out of range.
    @inlinable
    public func normalizedAxis(_ axis: Int, op: String, rankOffset: Int = 0) -> Int {
        let r = rank + rankOffset
        let a = axis < 0 ? axis + r : axis
        precondition(a >= 0 && a < Swift.max(r, 1), "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = storage.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(storage.count > 8 ? ", …" : "")])"
    }
}

extension Tensor: Equatable {
    /// Two tensors are equal when their shapes and elements are equal (autograd state is ignored).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.storage == rhs.storage
    }
}

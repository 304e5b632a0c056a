/// A dense, row-major array of integers with a shape: labels, indices, frames counts.
///
/// Integer data never travels as floating-point ``Tensor``s; `IntTensor` is its plain counterpart
/// (no autograd, no arithmetic).
public struct IntTensor: Sendable, Hashable, Codable {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The elements in row-major order.
    public let scalars: [Int]

    /// Creates an integer tensor from a shape and its elements in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 } && scalars.count == Tensor.elementCount(shape),
                     "IntTensor.init: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a rank-1 integer tensor.
    public init(_ scalars: [Int]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The total number of elements.
    public var count: Int { scalars.count }

    /// The same elements under a new shape.
    public func reshaped(_ newShape: [Int]) -> IntTensor { IntTensor(shape: newShape, scalars: scalars) }
}

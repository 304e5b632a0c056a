/// Elementwise selection by a boolean mask: `Tensor.where` (`torch.where`) and `maskedFill`
/// (`torch.Tensor.masked_fill`).
///
/// VJPs: the gradient flows to whichever operand each element was taken from (zero elsewhere),
/// summed back over broadcast dimensions; the filled positions of `maskedFill` get none.

/// A shaped array of booleans that selects elements, as a PyTorch `bool` tensor does.
///
/// Masks are not differentiable and never take part in autograd. They broadcast against tensors
/// with the usual rules, so a `[T, T]` attention mask can fill every `[B, H, T, T]` score.
public struct Mask: Sendable, Equatable, CustomStringConvertible {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]

    /// The values in row-major order.
    public let values: [Bool]

    /// Creates a mask from a shape and its values in row-major order.
    ///
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], values: [Bool]) {
        precondition(shape.allSatisfy { $0 >= 0 } && values.count == Tensor.elementCount(shape),
                     "Mask.init: \(values.count) values do not fill shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// Creates a mask of the given shape with every value set to `value`.
    public init(repeating value: Bool, shape: [Int]) {
        self.init(shape: shape, values: [Bool](repeating: value, count: Tensor.elementCount(shape)))
    }

    /// The mask with every value flipped.
    public static prefix func ! (mask: Mask) -> Mask {
        Mask(shape: mask.shape, values: mask.values.map { !$0 })
    }

    /// The shape and the first few values, as `1` and `0`.
    public var description: String {
        let preview = values.prefix(8).map { $0 ? "1" : "0" }.joined(separator: ", ")
        return "Mask(shape: \(shape), [\(preview)\(values.count > 8 ? ", …" : "")])"
    }

    /// The values broadcast to `target` (already checked to be reachable).
    fileprivate func expanded(to target: [Int]) -> [Bool] {
        if shape == target { return values }
        let asFloats = Tensor(shape: shape, scalars: values.map { $0 ? 1 : 0 })
        return noGrad { asFloats.broadcast(to: target) }.scalars.map { $0 != 0 }
    }
}

extension Tensor {
    /// The mask that is true where `predicate` holds for the element (`x > 0` is
    /// `x.mask { $0 > 0 }`). Not recorded: masks carry no gradient.
    public func mask(where predicate: (Float) -> Bool) -> Mask {
        Mask(shape: shape, values: storage.map(predicate))
    }

    /// Takes each element from `a` where `condition` is true and from `b` where it is false, as
    /// `torch.where`.
    ///
    /// `condition`, `a` and `b` broadcast together; the result has their common shape.
    public static func `where`(_ condition: Mask, _ a: Tensor, _ b: Tensor) -> Tensor {
        let outShape = broadcastShape(condition.shape, broadcastShape(a.shape, b.shape, op: "where"), op: "where")
        let take = condition.expanded(to: outShape)
        let (av, bv) = noGrad { (a.broadcast(to: outShape), b.broadcast(to: outShape)) }
        let value = Tensor(shape: outShape) { out in
            av.storage.withUnsafeBufferPointer { pa in
                bv.storage.withUnsafeBufferPointer { pb in
                    for i in 0..<out.count { out[i] = take[i] ? pa[i] : pb[i] }
                }
            }
        }
        let (sa, sb) = (a.shape, b.shape)
        return record("where", value, inputs: [a, b]) { needs in
            { g in
                [needs[0] ? g.keeping(take, where: true).sumToShape(sa) : nil,
                 needs[1] ? g.keeping(take, where: false).sumToShape(sb) : nil]
            }
        }
    }

    /// The tensor with `value` written wherever `mask` is true, as `torch.Tensor.masked_fill`.
    ///
    /// `mask` must broadcast to this tensor's shape (for example a `[T, T]` mask on `[B, H, T, T]`
    /// scores, filled with `-.infinity` before a softmax).
    public func maskedFill(_ mask: Mask, with value: Float) -> Tensor {
        let joint = Tensor.broadcastShape(mask.shape, shape, op: "maskedFill")
        precondition(joint == shape, "maskedFill: mask shape \(mask.shape) does not broadcast to \(shape)")
        let fill = mask.expanded(to: shape)
        let result = Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { p in
                for i in 0..<out.count { out[i] = fill[i] ? value : p[i] }
            }
        }
        return Tensor.record("maskedFill", result, inputs: [self]) { _ in
            { g in [g.keeping(fill, where: false)] }
        }
    }

    /// The elements whose selector equals `kept`, zero elsewhere, without recording.
    private func keeping(_ selector: [Bool], where kept: Bool) -> Tensor {
        Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { p in
                for i in 0..<out.count { out[i] = selector[i] == kept ? p[i] : 0 }
            }
        }
    }
}

/// Joining tensors along an existing axis (`torch.cat`) or a new one (`torch.stack`).
///
/// VJP: the gradient is split back into the pieces each input contributed.
extension Tensor {
    /// Joins `tensors` end to end along `axis`, as `torch.cat`.
    ///
    /// Every tensor must have the same rank (at least one) and the same extents on every other
    /// axis; `axis` may be negative.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concat: needs at least one tensor")
        let first = tensors[0]
        precondition(first.rank > 0, "concat: cannot concatenate rank-0 tensors")
        let a = first.normalizedAxis(axis, op: "concat")
        for t in tensors.dropFirst() {
            var same = t.rank == first.rank
            for d in 0..<first.rank where same && d != a { same = t.shape[d] == first.shape[d] }
            precondition(same, "concat: shapes \(first.shape) and \(t.shape) differ outside axis \(axis)")
        }
        if tensors.count == 1 { return first }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        var offsets: [Int] = []
        var running = 0
        for t in tensors {
            offsets.append(running)
            running += t.shape[a]
        }
        let value = Tensor(shape: outShape) { out in
            guard out.count > 0 else { return }
            for (t, offset) in zip(tensors, offsets) where t.count > 0 {
                var origin = [Int](repeating: 0, count: outShape.count)
                origin[a] = offset
                t.storage.withUnsafeBufferPointer { p in
                    copyBox(p.baseAddress!, shape: t.shape, origin: [Int](repeating: 0, count: t.rank),
                            into: out.baseAddress!, shape: outShape, origin: origin, extent: t.shape)
                }
            }
        }
        let shapes = tensors.map(\.shape)
        return record("concat", value, inputs: tensors) { needs in
            { g in
                (0..<shapes.count).map { i in
                    guard needs[i] else { return nil }
                    var origin = [Int](repeating: 0, count: outShape.count)
                    origin[a] = offsets[i]
                    return g.croppedRaw(origin: origin, extent: shapes[i])
                }
            }
        }
    }

    /// Joins tensors of identical shape along a new axis inserted at `axis`, as `torch.stack`.
    ///
    /// `axis` ranges over the result's axes, so `-1` appends a new last axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: needs at least one tensor")
        let first = tensors[0]
        for t in tensors.dropFirst() {
            precondition(t.shape == first.shape, "stack: shapes \(first.shape) and \(t.shape) differ")
        }
        let a = first.normalizedAxis(axis, op: "stack", rankOffset: 1)
        return concat(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
    }
}

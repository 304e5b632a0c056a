/// Constant padding (`torch.nn.functional.pad` with `mode="constant"`).
///
/// VJP: the gradient is cropped back to the input's box.
extension Tensor {
    /// The tensor surrounded by `value` on its trailing axes.
    ///
    /// `padding` holds one `(before, after)` pair per trailing axis, **outermost first** (reading
    /// order): on `[N, C, H, W]`, `padded([(1, 1), (2, 3)])` adds one row above and below and two
    /// columns left, three right, giving `[N, C, H + 2, W + 5]`. This is the reverse of
    /// PyTorch's flat `F.pad` list, which starts at the last axis: `F.pad(x, (2, 3, 1, 1))` is the
    /// same call. Amounts must not be negative.
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        precondition(padding.count <= rank,
                     "pad: \(padding.count) (before, after) pairs for shape \(shape) of rank \(rank)")
        precondition(padding.allSatisfy { $0.before >= 0 && $0.after >= 0 },
                     "pad: negative amount in \(padding.map { [$0.before, $0.after] }) for shape \(shape)")
        if padding.allSatisfy({ $0.before == 0 && $0.after == 0 }) { return self }
        let first = rank - padding.count
        var origin = [Int](repeating: 0, count: rank)
        var outShape = shape
        for (i, p) in padding.enumerated() {
            origin[first + i] = p.before
            outShape[first + i] += p.before + p.after
        }
        let result = placedRaw(in: outShape, at: origin, fill: value)
        let inShape = shape
        return Tensor.record("pad", result, inputs: [self]) { _ in
            { g in [g.croppedRaw(origin: origin, extent: inShape)] }
        }
    }
}

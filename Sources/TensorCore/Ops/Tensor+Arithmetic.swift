/// Elementwise add, subtract, multiply, divide and negate, with broadcasting.
///
/// VJPs: d(a+b) = (g, g); d(a-b) = (g, -g); d(a*b) = (g*b, g*a); d(a/b) = (g/b, -g*a/b²); each
/// summed back to the input's shape where it was broadcast.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = kernelApply(lhs, rhs, .add) ?? broadcastApply(lhs, rhs, op: "add") { $0 + $1 }
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("add", value, inputs: [lhs, rhs]) { needs in
            { g in [needs[0] ? g.sumToShape(sa) : nil, needs[1] ? g.sumToShape(sb) : nil] }
        }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = kernelApply(lhs, rhs, .sub) ?? broadcastApply(lhs, rhs, op: "sub") { $0 - $1 }
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("sub", value, inputs: [lhs, rhs]) { needs in
            { g in [needs[0] ? g.sumToShape(sa) : nil, needs[1] ? (-g).sumToShape(sb) : nil] }
        }
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = kernelApply(lhs, rhs, .mul) ?? broadcastApply(lhs, rhs, op: "mul") { $0 * $1 }
        let (a, b) = (lhs.detached(), rhs.detached())
        return record("mul", value, inputs: [lhs, rhs]) { needs in
            { g in
                [needs[0] ? (g * b).sumToShape(a.shape) : nil,
                 needs[1] ? (g * a).sumToShape(b.shape) : nil]
            }
        }
    }

    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = broadcastApply(lhs, rhs, op: "div") { $0 / $1 }
        let (a, b) = (lhs.detached(), rhs.detached())
        return record("div", value, inputs: [lhs, rhs]) { needs in
            { g in
                [needs[0] ? (g / b).sumToShape(a.shape) : nil,
                 needs[1] ? (-(g * a) / (b * b)).sumToShape(b.shape) : nil]
            }
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        let value = x.mapValues { -$0 }
        return record("neg", value, inputs: [x]) { _ in { g in [-g] } }
    }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        record("add", lhs.mapValues { $0 + rhs }, inputs: [lhs]) { _ in { g in [g] } }
    }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }

    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { -rhs + lhs }

    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        record("mul", lhs.scaledRaw(by: rhs), inputs: [lhs]) { _ in { g in [g * rhs] } }
    }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        let value = rhs.mapValues { lhs / $0 }
        let b = rhs.detached()
        return record("div", value, inputs: [rhs]) { _ in { g in [-(g * lhs) / (b * b)] } }
    }

    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }

    /// The binary operations with a kernel in ``Kernels``.
    private enum KernelOperation { case add, sub, mul }

    /// `a op b` through ``Kernels`` for the layouts models produce most: equal shapes, and for
    /// `+` and `*` an operand repeated along one run of axes (a bias `[C]` against `[N, C]`, a
    /// per-sample mask `[B, 1, D]` against `[B, T, D]`); `nil` for any other broadcast.
    private static func kernelApply(_ a: Tensor, _ b: Tensor, _ op: KernelOperation) -> Tensor? {
        if a.shape == b.shape {
            let kernel = switch op {
            case .add: Kernels.table.add
            case .sub: Kernels.table.sub
            case .mul: Kernels.table.mul
            }
            return Tensor(shape: a.shape) { out in
                a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        guard let x = pa.baseAddress, let y = pb.baseAddress, let o = out.baseAddress else { return }
                        Kernels.forChunks(out.count) { start, n in kernel(x + start, y + start, o + start, n) }
                    }
                }
            }
        }
        guard op != .sub else { return nil }
        // Both remaining operations commute: put the full operand first.
        let (full, row) = a.count >= b.count ? (a, b) : (b, a)
        guard row.count > 1, broadcastShape(a.shape, b.shape, op: "\(op)") == full.shape,
              let (mid, inner) = repeatedBlock(of: row.shape, in: full.shape), inner >= 16
        else { return nil }
        let kernel = op == .add ? Kernels.table.add_row : Kernels.table.mul_row
        let rows = full.count / inner
        return Tensor(shape: full.shape) { out in
            full.storage.withUnsafeBufferPointer { pf in
                row.storage.withUnsafeBufferPointer { pr in
                    guard let x = pf.baseAddress, let r = pr.baseAddress, let o = out.baseAddress else { return }
                    ComputeContext.parallelFor(rows, minimumChunk: Swift.max(1, Kernels.elementwiseGrain / inner)) { range in
                        // Rows of `full` are (outer, mid) pairs; `row` has one block per outer index.
                        var r0 = range.lowerBound
                        while r0 < range.upperBound {
                            let outer = r0 / mid, end = Swift.min(range.upperBound, (outer + 1) * mid)
                            kernel(x + r0 * inner, r + outer * inner, o + r0 * inner, end - r0, inner)
                            r0 = end
                        }
                    }
                }
            }
        }
    }

    /// When `shape` broadcast to `outShape` repeats along one run of consecutive axes (`[C]` or
    /// `[1, C]` against `[N, C]`; `[B, 1, D]` against `[B, T, D]`), the extent of that run and the
    /// size of the block after it.
    private static func repeatedBlock(of shape: [Int], in outShape: [Int]) -> (mid: Int, inner: Int)? {
        let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
        let repeated = padded.indices.filter { padded[$0] == 1 && outShape[$0] != 1 }
        guard let first = repeated.first, let last = repeated.last, last - first + 1 == repeated.count else {
            return nil
        }
        return (outShape[first...last].reduce(1, *), outShape[(last + 1)...].reduce(1, *))
    }

    /// Every element times `s`, without recording.
    func scaledRaw(by s: Float) -> Tensor {
        Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { p in
                guard let x = p.baseAddress, let o = out.baseAddress else { return }
                Kernels.forChunks(out.count) { start, n in Kernels.table.scale(x + start, s, o + start, n) }
            }
        }
    }

    /// Applies `f` to every element, without recording (building block for kernels).
    @inlinable @inline(__always)
    public func mapValues(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { p in
                for i in 0..<out.count { out[i] = f(p[i]) }
            }
        }
    }
}

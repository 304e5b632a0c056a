/// Elementwise add, subtract, multiply, divide and negate, with broadcasting.
///
/// VJPs: d(a+b) = (g, g); d(a-b) = (g, -g); d(a*b) = (g*b, g*a); d(a/b) = (g/b, -g*a/b²); each
/// summed back to the input's shape where it was broadcast.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = broadcastApply(lhs, rhs, op: "add") { $0 + $1 }
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("add", value, inputs: [lhs, rhs]) { needs in
            { g in [needs[0] ? g.sumToShape(sa) : nil, needs[1] ? g.sumToShape(sb) : nil] }
        }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = broadcastApply(lhs, rhs, op: "sub") { $0 - $1 }
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("sub", value, inputs: [lhs, rhs]) { needs in
            { g in [needs[0] ? g.sumToShape(sa) : nil, needs[1] ? (-g).sumToShape(sb) : nil] }
        }
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let value = broadcastApply(lhs, rhs, op: "mul") { $0 * $1 }
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
        record("mul", lhs.mapValues { $0 * rhs }, inputs: [lhs]) { _ in { g in [g * rhs] } }
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

import Foundation

/// Elementwise functions of one tensor: exp, log, sqrt, rsqrt, pow, tanh, sigmoid, relu, abs.
///
/// Each VJP multiplies the output gradient by the derivative, written in terms of the saved input
/// `x` and/or output `y`.
extension Tensor {
    @inline(__always)
    private static func unary(
        _ op: String, _ x: Tensor, _ f: (Float) -> Float,
        derivative: @escaping (_ x: Float, _ y: Float) -> Float
    ) -> Tensor {
        let y = x.mapValues(f)
        let xs = x.detached(), ys = y
        return record(op, y, inputs: [x]) { _ in
            { g in
                [Tensor(shape: g.shape) { out in
                    g.storage.withUnsafeBufferPointer { pg in
                        xs.storage.withUnsafeBufferPointer { px in
                            ys.storage.withUnsafeBufferPointer { py in
                                for i in 0..<out.count { out[i] = pg[i] * derivative(px[i], py[i]) }
                            }
                        }
                    }
                }]
            }
        }
    }

    /// e raised to each element.
    public func exp() -> Tensor { Tensor.unary("exp", self, Foundation.exp) { _, y in y } }

    /// Natural logarithm of each element.
    public func log() -> Tensor { Tensor.unary("log", self, Foundation.log) { x, _ in 1 / x } }

    /// Square root of each element.
    public func sqrt() -> Tensor { Tensor.unary("sqrt", self, Foundation.sqrt) { _, y in 0.5 / y } }

    /// Reciprocal square root of each element.
    public func rsqrt() -> Tensor {
        Tensor.unary("rsqrt", self, { 1 / Foundation.sqrt($0) }) { _, y in -0.5 * y * y * y }
    }

    /// Each element raised to a constant power.
    public func pow(_ exponent: Float) -> Tensor {
        if exponent == 2 {
            return Tensor.unary("pow", self, { $0 * $0 }) { x, _ in 2 * x }
        }
        return Tensor.unary("pow", self, { Foundation.pow($0, exponent) }) { x, _ in
            exponent * Foundation.pow(x, exponent - 1)
        }
    }

    /// Hyperbolic tangent of each element.
    public func tanh() -> Tensor { Tensor.unary("tanh", self, Foundation.tanh) { _, y in 1 - y * y } }

    /// Logistic sigmoid of each element.
    public func sigmoid() -> Tensor {
        Tensor.unary("sigmoid", self, { 1 / (1 + Foundation.exp(-$0)) }) { _, y in y * (1 - y) }
    }

    /// Swift.max(x, 0) for each element (gradient 0 at 0, as in PyTorch; NaN stays NaN).
    ///
    /// The 3D CNNs apply it to tensors of tens of millions of elements, so both passes run the
    /// vectorised C kernels over every compute thread; the VJP reads the saved output (`g` where
    /// `y > 0`).
    public func relu() -> Tensor {
        let n = count
        let y = Tensor(shape: shape, unsafeUninitialized: { out in
            storage.withUnsafeBufferPointer { px in
                ComputeContext.parallelFor(n, minimumChunk: 1 << 15) { r in
                    Kernels.table.affine(px.baseAddress! + r.lowerBound, 1, 0, 1, out.baseAddress! + r.lowerBound, r.count)
                }
            }
        })
        let ys = y.detached()
        return Tensor.record("relu", y, inputs: [self]) { _ in
            { g in
                [Tensor(shape: g.shape, unsafeUninitialized: { out in
                    g.storage.withUnsafeBufferPointer { pg in
                        ys.storage.withUnsafeBufferPointer { py in
                            ComputeContext.parallelFor(n, minimumChunk: 1 << 15) { r in
                                Kernels.table.relu_mask(pg.baseAddress! + r.lowerBound, py.baseAddress! + r.lowerBound,
                                                        out.baseAddress! + r.lowerBound, r.count)
                            }
                        }
                    }
                })]
            }
        }
    }

    /// Absolute value of each element (gradient 0 at 0).
    public func abs() -> Tensor {
        Tensor.unary("abs", self, { Swift.abs($0) }) { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }

    /// The square of each element.
    public func squared() -> Tensor { pow(2) }
}

/// e raised to each element of `x`.
public func exp(_ x: Tensor) -> Tensor { x.exp() }
/// Natural logarithm of each element of `x`.
public func log(_ x: Tensor) -> Tensor { x.log() }
/// Square root of each element of `x`.
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
/// Hyperbolic tangent of each element of `x`.
public func tanh(_ x: Tensor) -> Tensor { x.tanh() }
/// Logistic sigmoid of each element of `x`.
public func sigmoid(_ x: Tensor) -> Tensor { x.sigmoid() }
/// Rectified linear unit of each element of `x`.
public func relu(_ x: Tensor) -> Tensor { x.relu() }

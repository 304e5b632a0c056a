import Foundation

/// Softmax and log-softmax along one axis, as fused single-kernel primitives.
///
/// Both subtract the maximum of each slice before exponentiating, so large logits cannot
/// overflow. VJPs, with `y` the saved output and sums taken along the axis:
/// softmax `dx = y·(g − Σ g·y)`; log-softmax `dx = g − exp(y)·Σ g`.
///
/// Layout: the axis splits the shape into (outer, n, inner). The last axis (inner == 1) walks
/// contiguous rows; any other axis walks each outer block with the `inner` slices side by side,
/// so the innermost loop stays contiguous either way. Exponentials use ``FastMath/exp(_:)``.
extension Tensor {
    /// Softmax along `axis` (default: the last), as `torch.softmax(x, dim=axis)`.
    public func softmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "softmax: needs rank ≥ 1, got shape \(shape)")
        let a = normalizedAxis(axis, op: "softmax")
        let (outer, n, inner) = splitAround(a)
        let y = Tensor.softmaxForward(self, outer: outer, n: n, inner: inner, log: false)
        return Tensor.record("softmax", y, inputs: [self]) { _ in
            { g in [Tensor.softmaxBackward(g, y, outer: outer, n: n, inner: inner, log: false)] }
        }
    }

    /// Log-softmax along `axis` (default: the last), as `torch.log_softmax(x, dim=axis)`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "logSoftmax: needs rank ≥ 1, got shape \(shape)")
        let a = normalizedAxis(axis, op: "logSoftmax")
        let (outer, n, inner) = splitAround(a)
        let y = Tensor.softmaxForward(self, outer: outer, n: n, inner: inner, log: true)
        return Tensor.record("logSoftmax", y, inputs: [self]) { _ in
            { g in [Tensor.softmaxBackward(g, y, outer: outer, n: n, inner: inner, log: true)] }
        }
    }

    /// Elements per parallel chunk below which splitting the work costs more than it saves.
    private static var softmaxGrain: Int { 16_384 }

    private static func softmaxForward(
        _ x: Tensor, outer: Int, n: Int, inner: Int, log: Bool
    ) -> Tensor {
        let minimumChunk = Swift.max(1, softmaxGrain / Swift.max(1, n * inner))
        return Tensor(shape: x.shape) { out in
            x.storage.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = out.baseAddress else { return }
                ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                    if inner == 1 {
                        for o in range { softmaxRow(src + o * n, dst + o * n, n: n, log: log) }
                    } else {
                        var scratch = [Float](repeating: 0, count: 2 * inner)
                        scratch.withUnsafeMutableBufferPointer { s in
                            for o in range {
                                softmaxBlock(src + o * n * inner, dst + o * n * inner, n: n, inner: inner,
                                             log: log, maxima: s.baseAddress!, sums: s.baseAddress! + inner)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func softmaxRow(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, log: Bool
    ) {
        let m = FastMath.max(x, n)
        // Exponentials first (a loop the compiler vectorises), then their sum.
        for j in 0..<n { y[j] = FastMath.exp(x[j] - m) }
        let s = FastMath.sum(y, n)
        if log {
            let shift = m + Foundation.log(s)
            for j in 0..<n { y[j] = x[j] - shift }
        } else {
            let r = 1 / s
            for j in 0..<n { y[j] *= r }
        }
    }

    @inline(__always)
    private static func softmaxBlock(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, inner: Int, log: Bool,
        maxima m: UnsafeMutablePointer<Float>, sums s: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<inner { m[i] = -Float.infinity; s[i] = 0 }
        for j in 0..<n {
            let row = x + j * inner
            for i in 0..<inner { m[i] = Swift.max(m[i], row[i]) }
        }
        for j in 0..<n {
            let row = x + j * inner, outRow = y + j * inner
            for i in 0..<inner {
                let e = FastMath.exp(row[i] - m[i])
                if !log { outRow[i] = e }
                s[i] += e
            }
        }
        if log {
            for i in 0..<inner { m[i] += Foundation.log(s[i]) }
            for j in 0..<n {
                let row = x + j * inner, outRow = y + j * inner
                for i in 0..<inner { outRow[i] = row[i] - m[i] }
            }
        } else {
            for i in 0..<inner { s[i] = 1 / s[i] }
            for j in 0..<n {
                let outRow = y + j * inner
                for i in 0..<inner { outRow[i] *= s[i] }
            }
        }
    }

    /// Softmax: `dx = y·(g − Σ g·y)`; log-softmax: `dx = g − exp(y)·Σ g`.
    private static func softmaxBackward(
        _ g: Tensor, _ y: Tensor, outer: Int, n: Int, inner: Int, log: Bool
    ) -> Tensor {
        let minimumChunk = Swift.max(1, softmaxGrain / Swift.max(1, n * inner))
        return Tensor(shape: y.shape) { out in
            g.storage.withUnsafeBufferPointer { pg in
                y.storage.withUnsafeBufferPointer { py in
                    guard let gp = pg.baseAddress, let yp = py.baseAddress, let dp = out.baseAddress else { return }
                    ComputeContext.parallelFor(outer, minimumChunk: minimumChunk) { range in
                        if inner == 1 {
                            for o in range {
                                let (gb, yb, db) = (gp + o * n, yp + o * n, dp + o * n)
                                if log {
                                    let total = FastMath.sum(gb, n)
                                    for j in 0..<n { db[j] = gb[j] - FastMath.exp(yb[j]) * total }
                                } else {
                                    let dot = FastMath.dot(gb, yb, n)
                                    for j in 0..<n { db[j] = yb[j] * (gb[j] - dot) }
                                }
                            }
                            return
                        }
                        var scratch = [Float](repeating: 0, count: inner)
                        scratch.withUnsafeMutableBufferPointer { s in
                            let dot = s.baseAddress!
                            for o in range {
                                let base = o * n * inner
                                let (gb, yb, db) = (gp + base, yp + base, dp + base)
                                for i in 0..<inner { dot[i] = 0 }
                                for j in 0..<n {
                                    let k = j * inner
                                    if log {
                                        for i in 0..<inner { dot[i] += gb[k + i] }
                                    } else {
                                        for i in 0..<inner { dot[i] += gb[k + i] * yb[k + i] }
                                    }
                                }
                                for j in 0..<n {
                                    let k = j * inner
                                    if log {
                                        for i in 0..<inner { db[k + i] = gb[k + i] - FastMath.exp(yb[k + i]) * dot[i] }
                                    } else {
                                        for i in 0..<inner { db[k + i] = yb[k + i] * (gb[k + i] - dot[i]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Float kernels the fused primitives share, written so that the compiler can vectorise them
/// on baseline x86-64: no libm calls, no rounding instructions, and reductions spread over SIMD
/// accumulators (strict floating point forbids the compiler from reassociating a scalar sum).
@usableFromInline
enum FastMath {
    /// eˣ to about one ulp (the Cephes `expf` polynomial after reduction by ln 2).
    ///
    /// Arguments below −87.34 give 0 (so −∞ does too); above 88 the result saturates at e⁸⁸,
    /// which the callers never reach (they exponentiate non-positive values). NaN propagates.
    @inline(__always) @usableFromInline
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.33654), 88)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442695041 + magic
        let n = shifted - magic
        // ln 2 split in two so that n·ln 2 is exact to Float precision.
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let expR = p * r * r + r + 1
        let twoToN = Float(bitPattern: (shifted.bitPattern &- magic.bitPattern &+ 127) &<< 23)
        let result = expR * twoToN
        return x < -87.33654 ? 0 : result
    }

    /// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5·10⁻⁷), the formula
    /// PyTorch's vectorised CPU kernels use for `erf` and therefore for exact GELU.
    @inline(__always) @usableFromInline
    static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.3275911 * a)
        let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
        return Float(signOf: x, magnitudeOf: 1 - poly * exp(-a * a))
    }

    /// ``exp(_:)-(Float)`` lane by lane, with the same polynomial and the same rounding, so that
    /// vector bodies and scalar tails agree bit for bit.
    @inline(__always) @usableFromInline
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let low = SIMD8<Float>(repeating: -87.33654)
        let clamped = x.replacing(with: low, where: x .< low).replacing(with: 88, where: x .> 88)
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442695041 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let expR = p * r * r + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- magic[0].bitPattern &+ 127) &<< 23
        let result = expR * unsafeBitCast(exponent, to: SIMD8<Float>.self)
        return result.replacing(with: 0, where: x .< low)
    }

    /// erf(x) lane by lane as x·P(x²)/Q(x²), P of degree 6 and Q of degree 4 in x², with x clamped
    /// to [−4, 4] (where erf is 1 to Float precision): no exponential, one division.
    ///
    /// The coefficients are a least-squares fit to erf on [0, 4] refined by Lawson reweighting
    /// towards the minimax error; the absolute error in Float32 is below 4·10⁻⁷,
    /// against 1.5·10⁻⁷ for the Abramowitz & Stegun form in ``erf(_:)-(Float)``, which needs an
    /// exponential and made GELU the costliest kernel of a training step.
    @inline(__always) @usableFromInline
    static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // `replacing(with:where:)` compiles to vector selects; `pointwiseMin` became a call.
        let x = x.replacing(with: 4, where: x .> 4).replacing(with: -4, where: x .< -4)
        let z = x * x
        var p = SIMD8<Float>(repeating: 1.921544701133371e-08)
        p = p * z - 1.990452574318624e-06
        p = p * z + 1.555813360027969e-04
        p = p * z + 4.294945392757654e-03
        p = p * z + 5.243944749236107e-02
        p = p * z + 2.139891684055328e-01
        p = p * z + 1.128378629684448
        var q = SIMD8<Float>(repeating: 1.098494045436382e-03)
        q = q * z + 1.555493380874395e-02
        q = q * z + 1.208180859684944e-01
        q = q * z + 5.229706168174744e-01
        q = q * z + 1
        let y = x * p / q
        return y.replacing(with: 1, where: y .> 1).replacing(with: -1, where: y .< -1)
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Σ p[0..<n].
    @inline(__always) @usableFromInline
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n { acc += load(p, j); j += 8 }
        var s = acc.sum()
        while j < n { s += p[j]; j += 1 }
        return s
    }

    /// Σ a[j]·b[j] over `0..<n`.
    @inline(__always) @usableFromInline
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        while j + 8 <= n { acc += load(a, j) * load(b, j); j += 8 }
        var s = acc.sum()
        while j < n { s += a[j] * b[j]; j += 1 }
        return s
    }

    /// max p[0..<n] (−∞ when empty).
    @inline(__always) @usableFromInline
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j + 8 <= n {
            let v = load(p, j)
            acc = acc.replacing(with: v, where: v .> acc)  // a vector select; `pointwiseMax` is a call
            j += 8
        }
        var m = acc.max()
        while j < n { m = Swift.max(m, p[j]); j += 1 }
        return m
    }
}

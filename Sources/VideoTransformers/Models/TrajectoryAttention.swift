import TensorCore

/// Motionformer's trajectory attention with the original value path, as TIME runs it
/// (`reference/TIME.md` §2.2), on tokens `[B, K + T·N, C]` in "t n" order with `K` leading class
/// tokens.
///
/// - Class tokens attend over every token of the clip, themselves included.
/// - Space step: each patch query `s` attends, separately in every frame `f`, over that frame's
///   patches, giving one trajectory token `y[s, f]` per frame (class tokens excluded).
/// - Time step: the query's own-frame trajectory token, through `proj_q`, attends over the `T`
///   trajectory tokens keyed by the first half of `proj_kv`; the values are the trajectory
///   tokens themselves. The upstream code reads `x` where the paper has the `proj_kv` values
///   (Motionformer issue #5, PRs #6/#10); TIME keeps that default, so the second half of
///   `proj_kv` never affects the output and receives a zero gradient.
///
/// State-dict keys: `qkv` (C → 3C), `proj_q` (C → C), `proj_kv` (C → 2C), `proj`.
public final class TrajectoryAttention: Module, TokenMixer {
    /// The fused query/key/value projection of the space step, C → 3C.
    public let qkv: Linear
    /// The query projection of the time step, C → C.
    public let projQ: Linear
    /// The key projection of the time step (first C outputs); the last C outputs are unused.
    public let projKv: Linear
    /// The output projection, C → C.
    public let proj: Linear
    /// The number of heads.
    public let heads: Int
    /// The multiplier of both steps' scores, `d^-1/2` with `d = C / heads`.
    public let scale: Float

    /// Creates the layer for `dim` channels split into `heads` heads (PyTorch default initialisation).
    public init(dim: Int, heads: Int, qkvBias: Bool = true, using generator: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0,
                     "TrajectoryAttention: dimension \(dim) is not divisible by \(heads) heads")
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, bias: qkvBias, using: &generator)
        projQ = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        projKv = Linear(inFeatures: dim, outFeatures: 2 * dim, using: &generator)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        self.heads = heads
        scale = 1 / Float(dim / heads).squareRoot()
        super.init()
    }

    /// Mixes `x` `[B, K + T·N, C]` laid out as `layout`.
    public func callAsFunction(_ x: Tensor, layout: TokenLayout) -> Tensor {
        let c = proj.outFeatures
        let (k, t, n) = (layout.classTokens, layout.frames, layout.patchesPerFrame)
        precondition(x.rank == 3 && x.shape[1] == layout.length && x.shape[2] == c,
                     "TrajectoryAttention: tokens \(x.shape) do not match \(k) class tokens + \(t) frames × \(n) patches of width \(c)")
        let (b, l, h, d, s) = (x.shape[0], x.shape[1], heads, c / heads, t * n)

        // [b, l, (component, head, j)] -> [component, b, head, l, j].
        let parts = qkv(x).reshaped([b, l, 3, h, d]).permuted([2, 0, 3, 1, 4])
        func component(_ i: Int) -> Tensor { parts.slice(axis: 0, range: i..<(i + 1)).reshaped([b, h, l, d]) }
        let (q, key, value) = (component(0), component(1), component(2))

        var outputs: [Tensor] = []
        if k > 0 {
            let clsOut = Tensor.scaledDotProductAttention(query: q.slice(axis: 2, range: 0..<k), key: key,
                                                          value: value, scale: scale)
            outputs.append(clsOut.permuted([0, 2, 1, 3]).reshaped([b, k, c]))
        }

        // Space step as one attention per (b, head, frame): every patch query against that
        // frame's patches -> trajectories y [b, head, f, s, j].
        let patchQ = q.slice(axis: 2, range: k..<l).reshaped([b, h, 1, s, d]).broadcast(to: [b, h, t, s, d])
        let frameKeys = key.slice(axis: 2, range: k..<l).reshaped([b, h, t, n, d])
        let frameValues = value.slice(axis: 2, range: k..<l).reshaped([b, h, t, n, d])
        let y = Tensor.scaledDotProductAttention(query: patchQ, key: frameKeys, value: frameValues, scale: scale)
        // Heads merged head-major, per query and frame: [b, s, f, C].
        let trajectories = y.permuted([0, 3, 2, 1, 4]).reshaped([b, s, t, c])

        // The query's own-frame trajectory: query s = tq·n + p sits in frame tq.
        let own = trajectories.reshaped([b, s * t, c])
            .indexSelect(axis: 1, indices: (0..<s).map { $0 * t + $0 / n })
        let q2 = projQ(own).reshaped([b, s, 1, h, d]).permuted([0, 1, 3, 2, 4])
        // Only the key half of proj_kv is computed: the value half is dead code upstream.
        let k2 = Tensor.linear(trajectories, weight: projKv.weight.value.slice(axis: 0, range: 0..<c),
                               bias: projKv.bias?.value.slice(axis: 0, range: 0..<c))
        let headsFirst = { (z: Tensor) in z.reshaped([b, s, t, h, d]).permuted([0, 1, 3, 2, 4]) }
        let mixed = Tensor.scaledDotProductAttention(query: q2, key: headsFirst(k2), value: headsFirst(trajectories),
                                                     scale: scale)
        outputs.append(mixed.reshaped([b, s, c]))
        return proj(outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, axis: 1))
    }
}

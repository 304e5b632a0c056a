import Foundation

/// Multi-head attention read straight from a fused query/key/value projection, as one primitive.
///
/// Shape rule: `qkv` `[outer, L, inner, 3·H·d]` gives `[outer, L, inner, H·d]`. Every
/// `(outer, inner, head)` triple is one sequence of `L` positions along axis 1; channel
/// `s·H·d + h·d + j` of `qkv` is element `j` of component `s` (query, key, value) of head `h`, the
/// order of timm's `qkv` Linear, and channel `h·d + j` of the result is head `h`'s output, the order
/// its `proj` expects. Each operand is addressed through its row stride, so neither the
/// `[3, B, H, L, d]` split nor the head merge is ever copied; with `inner > 1` the sequences
/// interleave (TimeSformer's temporal attention over tokens in "t n" order runs without a permute).
///
/// VJP: that of ``Tensor/scaledDotProductAttention(query:key:value:scale:)`` per sequence
/// (P saved), with dQ, dK, dV written into one gradient of `qkv`'s layout.
extension Tensor {
    /// `softmax(scale · Q Kᵀ) V` for every head of every sequence packed in `qkv`.
    ///
    /// - Parameters:
    ///   - qkv: `[outer, L, inner, 3·C]`, the output of a fused C → 3C projection.
    ///   - heads: the number of heads `H`; `C` must be divisible by it.
    ///   - scale: multiplier of the scores; `1/√d` (d = C / H) when `nil`.
    /// - Returns: `[outer, L, inner, C]`.
    public static func packedAttention(qkv: Tensor, heads: Int, scale: Float? = nil) -> Tensor {
        let shape = qkv.shape
        precondition(shape.count == 4 && heads > 0 && shape[3] % (3 * heads) == 0 && shape[3] > 0,
                     "packedAttention: qkv \(shape) is not [outer, L, inner, 3·C] with C divisible by \(heads) heads")
        precondition(shape[1] > 0, "packedAttention: qkv \(shape) has no positions to attend to")
        let (outer, l, inner) = (shape[0], shape[1], shape[2])
        let rows = PackedAttentionRows(groupRows: l * inner, first: 0, sequenceStep: 1, tokenStep: inner)
        let problem = PackedAttentionProblem(
            groups: outer, perGroup: inner, length: l, heads: heads, width: shape[3] / 3, scale: scale,
            input: rows, prefixRow: nil, output: rows)
        return packedAttention(qkv: qkv, problem: problem, outShape: Array(shape.dropLast()) + [shape[3] / 3],
                               op: "packedAttention")
    }

    /// Runs `problem` on `qkv` and records its VJP.
    static func packedAttention(qkv: Tensor, problem: PackedAttentionProblem, outShape: [Int], op: String) -> Tensor {
        precondition(qkv.count == problem.groups * problem.input.groupRows * 3 * problem.width,
                     "\(op): qkv \(qkv.shape) does not hold \(problem.groups) groups of \(problem.input.groupRows) rows")
        let recording = GradMode.isEnabled && qkv.requiresGrad
        var probabilities: Tensor? = nil
        let out = Tensor(shape: outShape) { out in
            qkv.storage.withUnsafeBufferPointer { pqkv in
                let run = { (pp: UnsafeMutablePointer<Float>?) in
                    problem.forward(qkv: pqkv.baseAddress!, out: out.baseAddress!, probabilities: pp)
                }
                if recording {
                    probabilities = Tensor(shape: [problem.sequences, problem.queries, problem.span]) { pp in
                        run(pp.baseAddress!)
                    }
                } else {
                    run(nil)
                }
            }
        }
        guard recording else { return out }
        let (saved, p) = (qkv.detached(), probabilities!)
        return record(op, out, inputs: [qkv]) { _ in
            { g in
                [Tensor(shape: saved.shape) { gqkv in
                    saved.storage.withUnsafeBufferPointer { pqkv in
                        p.storage.withUnsafeBufferPointer { pp in
                            g.storage.withUnsafeBufferPointer { pg in
                                problem.backward(qkv: pqkv.baseAddress!, probabilities: pp.baseAddress!,
                                                 gradOut: pg.baseAddress!, gradQKV: gqkv.baseAddress!)
                            }
                        }
                    }
                }]
            }
        }
    }
}

/// Where the tokens of every sequence sit, in rows of a row-major buffer split into groups: token
/// `j` of sequence `s` of group `g` is row `g·groupRows + first + s·sequenceStep + j·tokenStep`.
struct PackedAttentionRows {
    let groupRows: Int, first: Int, sequenceStep: Int, tokenStep: Int

    @inline(__always)
    func row(group: Int, sequence: Int, token: Int) -> Int {
        group * groupRows + first + sequence * sequenceStep + token * tokenStep
    }
}

/// Geometry of a packed attention and its kernels: `groups × perGroup` sequences of `length` tokens
/// per head, read from rows of `3·width` (query, key, value) and written to rows of `width`.
///
/// With a `prefixRow`, every sequence of a group starts with that group's shared row (a class
/// token that each frame attends with); each sequence's output for it is written to the row just
/// before its first token's output, and its gradient is summed over the sequences of the group.
/// With `prefixQueriesOnly`, only the prefix attends (the tokens are keys and values alone) and each
/// sequence has one output row, `output.row(group:sequence:token: 0)`.
/// The token rows of the input must cover every row of a group from `input.first` on; rows before
/// it (other than the prefix) get a zero gradient.
struct PackedAttentionProblem {
    let groups: Int, perGroup: Int, length: Int, heads: Int, d: Int
    let scale: Float
    let input: PackedAttentionRows, prefixRow: Int?, output: PackedAttentionRows
    let prefixQueriesOnly: Bool

    init(groups: Int, perGroup: Int, length: Int, heads: Int, width: Int, scale: Float?,
         input: PackedAttentionRows, prefixRow: Int?, output: PackedAttentionRows, prefixQueriesOnly: Bool = false) {
        precondition(prefixRow == nil || output.tokenStep == 1,
                     "packed attention: a prefix needs each sequence's output rows to be consecutive")
        precondition(!prefixQueriesOnly || prefixRow != nil, "packed attention: prefix queries without a prefix")
        (self.groups, self.perGroup, self.length, self.heads) = (groups, perGroup, length, heads)
        (self.input, self.prefixRow, self.output) = (input, prefixRow, output)
        self.prefixQueriesOnly = prefixQueriesOnly
        d = width / heads
        self.scale = scale ?? 1 / Foundation.sqrt(Float(d))
    }

    /// C = H·d, the width of the output.
    var width: Int { heads * d }
    /// Independent sequences, one per (group, sequence, head).
    var sequences: Int { groups * perGroup * heads }
    /// Columns (keys) of each score matrix.
    var span: Int { length + (prefixRow == nil ? 0 : 1) }
    /// Rows (queries) of each score matrix.
    var queries: Int { prefixQueriesOnly ? 1 : span }
    /// Where a gathered sequence's output rows start, relative to its first token's output row.
    private var gatheredOutputShift: Int { prefixQueriesOnly ? 0 : -1 }

    /// Group, sequence within the group, and head of sequence `n`.
    @inline(__always)
    func locate(_ n: Int) -> (group: Int, sequence: Int, head: Int) {
        let head = n % heads, gs = n / heads
        return (gs / perGroup, gs % perGroup, head)
    }

    func forward(qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>?) {
        let (span, queries, c) = (self.span, self.queries, width)
        // Sequences with a prefix are not evenly strided: each (group, sequence) pair copies its
        // rows, all heads at once, into a contiguous tile first.
        let gathered = prefixRow != nil
        let units = gathered ? groups * perGroup : sequences
        ComputeContext.parallelFor(units) { range in
            let scratchCount = (probabilities == nil ? queries * span : 0) + (gathered ? span * 3 * c : 0)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                let tile = probabilities == nil ? scratch.baseAddress! : nil
                let rows = gathered ? scratch.baseAddress! + (probabilities == nil ? queries * span : 0) : nil
                for unit in range {
                    if let rows {
                        let (g, s) = (unit / perGroup, unit % perGroup)
                        gather(qkv, group: g, sequence: s, into: rows)
                        let o = out + (output.row(group: g, sequence: s, token: 0) + gatheredOutputShift) * c
                        for head in 0..<heads {
                            let n = unit * heads + head
                            forwardOne(q: rows + head * d, ldq: 3 * c, out: o + head * d, ldo: c,
                                       p: probabilities.map { $0 + n * queries * span } ?? tile!)
                        }
                    } else {
                        let (g, s, head) = locate(unit)
                        forwardOne(q: qkv + input.row(group: g, sequence: s, token: 0) * 3 * c + head * d,
                                   ldq: input.tokenStep * 3 * c,
                                   out: out + output.row(group: g, sequence: s, token: 0) * c + head * d,
                                   ldo: output.tokenStep * c, p: probabilities.map { $0 + unit * queries * span } ?? tile!)
                    }
                }
            }
        }
    }

    /// One head of one sequence: queries at `q` (row stride `ldq`), keys at `q + C`, values at
    /// `q + 2C`; the probabilities go to `p` (`queries × span`) and the output to `out`.
    @inline(__always)
    private func forwardOne(
        q: UnsafePointer<Float>, ldq: Int, out: UnsafeMutablePointer<Float>, ldo: Int, p: UnsafeMutablePointer<Float>
    ) {
        let (span, queries, d, c) = (self.span, self.queries, self.d, width)
        BLAS.sgemm(transposeA: false, transposeB: true, m: queries, n: span, k: d, alpha: scale,
                   a: q, lda: ldq, b: q + c, ldb: ldq, c: p, ldc: span)
        Kernels.table.softmax_rows(p, p, queries, span, 0)
        BLAS.sgemm(transposeA: false, transposeB: false, m: queries, n: d, k: span,
                   a: p, lda: span, b: q + 2 * c, ldb: ldq, c: out, ldc: ldo)
    }

    /// Copies the prefix row and the token rows of one sequence (`span` rows of `3C`) into `rows`.
    private func gather(_ qkv: UnsafePointer<Float>, group g: Int, sequence s: Int, into rows: UnsafeMutablePointer<Float>) {
        let c3 = 3 * width
        (rows).update(from: qkv + (g * input.groupRows + prefixRow!) * c3, count: c3)
        if input.tokenStep == 1 {
            (rows + c3).update(from: qkv + input.row(group: g, sequence: s, token: 0) * c3, count: length * c3)
        } else {
            for j in 0..<length {
                (rows + (1 + j) * c3).update(from: qkv + input.row(group: g, sequence: s, token: j) * c3, count: c3)
            }
        }
    }

    func backward(qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, gradOut: UnsafePointer<Float>,
                  gradQKV: UnsafeMutablePointer<Float>) {
        let (span, queries, c) = (self.span, self.queries, width)
        let gathered = prefixRow != nil
        let units = gathered ? groups * perGroup : sequences
        // Each sequence's prefix gradient, summed per group once every sequence has run.
        let prefixPartials = gathered ? UnsafeMutablePointer<Float>.allocate(capacity: units * 3 * c) : nil
        defer { prefixPartials?.deallocate() }
        ComputeContext.parallelFor(units) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: queries * span + (gathered ? 2 * span * 3 * c : 0)) { scratch in
                let ds = scratch.baseAddress!
                let rows = ds + queries * span, gradRows = rows + span * 3 * c
                if prefixQueriesOnly {
                    // Only row 0 of the query gradient is ever written: the tokens asked nothing.
                    for r in 1..<span { (gradRows + r * 3 * c).initialize(repeating: 0, count: c) }
                }
                for unit in range {
                    guard let prefixPartials else {
                        let (g, s, head) = locate(unit)
                        let offset = input.row(group: g, sequence: s, token: 0) * 3 * c + head * d
                        backwardOne(q: qkv + offset, dq: gradQKV + offset, ld: input.tokenStep * 3 * c,
                                    dO: gradOut + output.row(group: g, sequence: s, token: 0) * c + head * d,
                                    ldo: output.tokenStep * c, p: probabilities + unit * queries * span, ds: ds)
                        continue
                    }
                    let (g, s) = (unit / perGroup, unit % perGroup)
                    gather(qkv, group: g, sequence: s, into: rows)
                    let dO = gradOut + (output.row(group: g, sequence: s, token: 0) + gatheredOutputShift) * c
                    for head in 0..<heads {
                        let n = unit * heads + head
                        backwardOne(q: rows + head * d, dq: gradRows + head * d, ld: 3 * c, dO: dO + head * d, ldo: c,
                                    p: probabilities + n * queries * span, ds: ds)
                    }
                    // Scatter: the tokens' rows to the gradient, the prefix's to this sequence's partial.
                    let c3 = 3 * c
                    (prefixPartials + unit * c3).update(from: gradRows, count: c3)
                    if input.tokenStep == 1 {
                        (gradQKV + input.row(group: g, sequence: s, token: 0) * c3)
                            .update(from: gradRows + c3, count: length * c3)
                    } else {
                        for j in 0..<length {
                            (gradQKV + input.row(group: g, sequence: s, token: j) * c3)
                                .update(from: gradRows + (1 + j) * c3, count: c3)
                        }
                    }
                }
            }
        }
        for g in 0..<groups {
            for r in 0..<input.first where r != prefixRow {
                (gradQKV + (g * input.groupRows + r) * 3 * c).initialize(repeating: 0, count: 3 * c)
            }
            guard let prefixPartials, let prefixRow else { continue }
            let target = gradQKV + (g * input.groupRows + prefixRow) * 3 * c
            target.update(from: prefixPartials + g * perGroup * 3 * c, count: 3 * c)
            for s in 1..<perGroup {
                Kernels.table.accumulate(target, prefixPartials + (g * perGroup + s) * 3 * c, 3 * c)
            }
        }
    }

    /// The gradients of one head of one sequence: queries at `q` and their gradient at `dq` (row
    /// stride `ld`; keys and values at + C and + 2C), output gradient at `dO`; `ds` is a
    /// `queries × span` scratch tile.
    @inline(__always)
    private func backwardOne(
        q: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, ld: Int, dO: UnsafePointer<Float>, ldo: Int,
        p: UnsafePointer<Float>, ds: UnsafeMutablePointer<Float>
    ) {
        let (span, queries, d, c) = (self.span, self.queries, self.d, width)
        let (k, v, dk, dv) = (q + c, q + 2 * c, dq + c, dq + 2 * c)
        // dV = Pᵀ dO and dP = dO Vᵀ
        BLAS.sgemm(transposeA: true, transposeB: false, m: span, n: d, k: queries,
                   a: p, lda: span, b: dO, ldb: ldo, c: dv, ldc: ld)
        BLAS.sgemm(transposeA: false, transposeB: true, m: queries, n: span, k: d,
                   a: dO, lda: ldo, b: v, ldb: ld, c: ds, ldc: span)
        // dS = P ∘ (dP − rowsum(P ∘ dP)); the score scale goes into the products below.
        Kernels.table.softmax_backward_rows(ds, p, ds, queries, span, 0)
        BLAS.sgemm(transposeA: false, transposeB: false, m: queries, n: d, k: span, alpha: scale,
                   a: ds, lda: span, b: k, ldb: ld, c: dq, ldc: ld)
        BLAS.sgemm(transposeA: true, transposeB: false, m: span, n: d, k: queries, alpha: scale,
                   a: ds, lda: span, b: q, ldb: ld, c: dk, ldc: ld)
    }
}

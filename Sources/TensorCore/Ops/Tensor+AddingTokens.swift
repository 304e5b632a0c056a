/// A residual added to every token of a group but its leading ones (class tokens), as one
/// primitive: `[G, K + R, C] + [G, R, C]` with the first `K` rows of each group passed through.
///
/// TimeSformer's temporal branch updates the patches and leaves the class token alone; adding
/// in place of slicing the patches out and concatenating them back saves two copies forward and a
/// zero-filled gradient backward. VJP: `dx = g`, `dtokens = g` without the leading rows.
extension Tensor {
    /// `self` with `tokens` added to the rows after the first `leading` of each group (axis 0).
    ///
    /// - Precondition: `self` is `[G, leading + R, C]` and `tokens` is `[G, R, C]`.
    public func addingTokens(_ tokens: Tensor, afterLeading leading: Int) -> Tensor {
        precondition(
            rank == 3 && tokens.rank == 3 && leading >= 0 && tokens.shape[0] == shape[0]
                && tokens.shape[2] == shape[2] && shape[1] == leading + tokens.shape[1],
            "addingTokens: tokens \(tokens.shape) after \(leading) leading rows of \(shape)")
        let (groupSize, skipped) = (shape[1] * shape[2], leading * shape[2])
        let value = Tensor(shape: shape) { out in
            storage.withUnsafeBufferPointer { px in
                tokens.storage.withUnsafeBufferPointer { py in
                    guard let x = px.baseAddress, let y = py.baseAddress, let o = out.baseAddress else { return }
                    Kernels.forChunks(out.count) { start, n in
                        // Walk the chunk in pieces that are either all leading rows or all tokens.
                        var i = start
                        while i < start + n {
                            let g = i / groupSize, offset = i - g * groupSize
                            if offset < skipped {
                                let end = Swift.min(start + n, g * groupSize + skipped)
                                (o + i).update(from: x + i, count: end - i)
                                i = end
                            } else {
                                let end = Swift.min(start + n, (g + 1) * groupSize)
                                Kernels.table.add(x + i, y + i - (g + 1) * skipped, o + i, end - i)
                                i = end
                            }
                        }
                    }
                }
            }
        }
        let tokenShape = tokens.shape
        return Tensor.record("addingTokens", value, inputs: [self, tokens]) { needs in
            { g in
                [needs[0] ? g : nil,
                 needs[1] ? g.croppedRaw(origin: [0, leading, 0], extent: tokenShape) : nil]
            }
        }
    }
}

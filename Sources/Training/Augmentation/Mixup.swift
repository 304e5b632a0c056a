import Foundation
import TensorCore
import VideoIO

/// Mixup and CutMix with label smoothing, as timm's `Mixup` in `mode='batch'` and as VideoMAE
/// fine-tunes with it (`mixup.py`, `--mixup 0.8 --cutmix 1.0 --mixup_prob 1.0
/// --mixup_switch_prob 0.5 --smoothing 0.1`): one λ for the whole batch, and every clip mixed with
/// its mirror in the batch (clip `i` with clip `B − 1 − i`, PyTorch's `x.flip(0)`).
///
/// - Mixup: `x·λ + x_flipped·(1 − λ)`, in Float32 with λ and 1 − λ rounded to Float as PyTorch does.
/// - CutMix: a box of `H·√(1 − λ)` × `W·√(1 − λ)` around a random centre, clipped at the frame
///   edges (timm's `rand_bbox`), is copied from the mirrored clip into every frame and channel
///   (VideoMAE's fixed `x[..., yl:yh, xl:xh]`); λ becomes `1 − box area / (H·W)` (`correct_lam`).
/// - Targets: `y·λ + y_flipped·(1 − λ)` of label-smoothed one-hot rows (`off = smoothing / K`,
///   `on = 1 − smoothing + off`, timm's `mixup_target`), to be used with
///   ``TensorCore/softTargetCrossEntropy(logits:targets:reduction:)``.
///
/// Random draws, from the caller's ``RandomGenerator``, in timm's order:
/// 1. `nextUniformDouble()`; the batch is mixed when it is below ``probability`` (drawn even at 1);
/// 2. with both alphas positive, `nextUniformDouble()`; CutMix when it is below ``switchProbability``;
/// 3. λ = `nextBeta(α, α)` with the chosen method's α (``RandomGenerator/nextBeta(_:_:)``: two
///    Marsaglia–Tsang Gamma draws);
/// 4. for CutMix with λ < 1, the box centre: `nextInt(below: H)` for the row, then `nextInt(below: W)`.
///
/// A λ of exactly 1 (not mixed, or a Beta draw of 1) leaves the clips unchanged and draws no box.
public struct Mixup: Sendable, Hashable {
    /// Mixup's Beta parameter (`mixup_alpha`); 0 turns mixup off.
    public let mixupAlpha: Double
    /// CutMix's Beta parameter (`cutmix_alpha`); 0 turns CutMix off.
    public let cutmixAlpha: Double
    /// Chance that a batch is mixed at all (`prob`).
    public let probability: Double
    /// Chance of CutMix rather than mixup when both are on (`switch_prob`).
    public let switchProbability: Double
    /// Label smoothing of the one-hot targets before mixing (`label_smoothing`).
    public let labelSmoothing: Double

    /// How one batch is mixed.
    public enum Method: String, Sendable, Hashable {
        /// Unchanged (λ = 1).
        case none
        /// Blended with the mirrored batch.
        case mixup
        /// A box pasted from the mirrored batch.
        case cutmix
    }

    /// Everything drawn for one batch.
    public struct Draw: Sendable, Hashable {
        /// The method.
        public var method: Method
        /// The weight of each clip's own label (after the CutMix correction).
        public var lambda: Double
        /// CutMix's box in every frame (possibly empty); nil otherwise.
        public var box: CropRegion?

        /// Creates a draw.
        public init(method: Method, lambda: Double, box: CropRegion? = nil) {
            self.method = method
            self.lambda = lambda
            self.box = box
        }
    }

    /// Creates the augmentation; the defaults are VideoMAE's fine-tuning settings.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` when an alpha is
    ///   negative or not finite, both alphas are 0, a probability is outside `[0, 1]` or the
    ///   smoothing is outside `[0, 1)`.
    public init(
        mixupAlpha: Double = 0.8, cutmixAlpha: Double = 1, probability: Double = 1, switchProbability: Double = 0.5,
        labelSmoothing: Double = 0.1
    ) throws(TransformError) {
        func bad(_ name: String, _ value: Double, _ requirement: String) -> TransformError {
            .invalidParameter(op: "Mixup", name: name, value: "\(value)", requirement: requirement)
        }
        for (name, alpha) in [("mixupAlpha", mixupAlpha), ("cutmixAlpha", cutmixAlpha)] where !(alpha >= 0 && alpha.isFinite) {
            throw bad(name, alpha, "must be at least 0 and finite (0 turns it off)")
        }
        guard mixupAlpha > 0 || cutmixAlpha > 0 else {
            throw .invalidParameter(op: "Mixup", name: "alphas", value: "(0, 0)",
                                    requirement: "at least one of mixupAlpha and cutmixAlpha must be positive")
        }
        for (name, p) in [("probability", probability), ("switchProbability", switchProbability)] where !(p >= 0 && p <= 1) {
            throw bad(name, p, "must lie in [0, 1]")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else {
            throw bad("labelSmoothing", labelSmoothing, "must lie in [0, 1)")
        }
        self.mixupAlpha = mixupAlpha
        self.cutmixAlpha = cutmixAlpha
        self.probability = probability
        self.switchProbability = switchProbability
        self.labelSmoothing = labelSmoothing
    }

    /// Draws the method, λ and box for a batch of `height` × `width` frames (`_params_per_batch`
    /// and `cutmix_bbox_and_lam`).
    public func sample(height: Int, width: Int, using generator: inout RandomGenerator) -> Draw {
        guard generator.nextUniformDouble() < probability else { return Draw(method: .none, lambda: 1) }
        let cutmix: Bool
        if mixupAlpha > 0 && cutmixAlpha > 0 {
            cutmix = generator.nextUniformDouble() < switchProbability
        } else {
            cutmix = mixupAlpha == 0
        }
        let alpha = cutmix ? cutmixAlpha : mixupAlpha
        let lambda = generator.nextBeta(alpha, alpha)
        if lambda == 1 { return Draw(method: .none, lambda: 1) }
        guard cutmix else { return Draw(method: .mixup, lambda: lambda) }
        let ratio = (1 - lambda).squareRoot()
        let cutH = Int(Double(height) * ratio), cutW = Int(Double(width) * ratio)
        let cy = generator.nextInt(below: height), cx = generator.nextInt(below: width)
        let top = Swift.min(Swift.max(cy - cutH / 2, 0), height), bottom = Swift.min(Swift.max(cy + cutH / 2, 0), height)
        let left = Swift.min(Swift.max(cx - cutW / 2, 0), width), right = Swift.min(Swift.max(cx + cutW / 2, 0), width)
        let box = CropRegion(top: top, left: left, height: bottom - top, width: right - left)
        return Draw(method: .cutmix, lambda: 1 - Double(box.height * box.width) / Double(height * width), box: box)
    }

    /// The batch `[B, …, H, W]` mixed as `draw` says (B even); the result carries no autograd history.
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` when the batch has rank below 3
    ///   or an odd or zero batch size, or the box leaves the frame.
    public func mix(_ batch: Tensor, _ draw: Draw) throws(TransformError) -> Tensor {
        let (b, h, w) = try Self.dimensions(batch)
        if let box = draw.box {
            guard box.top >= 0, box.left >= 0, box.top + box.height <= h, box.left + box.width <= w else {
                throw .sizeTooLarge(op: "Mixup", requested: [box.top, box.left, box.height, box.width], frame: [h, w])
            }
        }
        let perClip = batch.count / b
        switch draw.method {
        case .none:
            return batch.detached()
        case .mixup:
            // PyTorch rounds each Python scalar to Float32 before multiplying a Float32 tensor.
            let own = Float(draw.lambda), other = Float(1 - draw.lambda)
            return Tensor(shape: batch.shape) { out in
                batch.withUnsafeBufferPointer { x in
                    for i in 0..<b {
                        let a = i * perClip, m = (b - 1 - i) * perClip
                        for k in 0..<perClip { out[a + k] = x[a + k] * own + x[m + k] * other }
                    }
                }
            }
        case .cutmix:
            var values = batch.scalars
            guard let box = draw.box else { return batch.detached() }
            batch.withUnsafeBufferPointer { x in
                for i in 0..<b {
                    let m = (b - 1 - i) * perClip
                    for plane in stride(from: i * perClip, to: (i + 1) * perClip, by: h * w) {
                        let source = m + plane - i * perClip
                        for y in box.top..<(box.top + box.height) {
                            for xx in box.left..<(box.left + box.width) { values[plane + y * w + xx] = x[source + y * w + xx] }
                        }
                    }
                }
            }
            return Tensor(shape: batch.shape, scalars: values)
        }
    }

    /// timm's `mixup_target`: label-smoothed one-hot rows `[B, classCount]`, each `λ` times its own
    /// label's row plus `1 − λ` times the mirrored clip's, in Float32 as PyTorch computes them.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` for a label outside
    ///   `0..<classCount` or a class count below 1.
    public func targets(labels: [Int], classCount: Int, lambda: Double) throws(TransformError) -> Tensor {
        guard classCount >= 1 else {
            throw .invalidParameter(op: "Mixup", name: "classCount", value: "\(classCount)", requirement: "must be at least 1")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw .invalidParameter(op: "Mixup", name: "label", value: "\(bad)", requirement: "must lie in 0..<\(classCount)")
        }
        // timm computes off and on in Python floats (Double) and fills Float32 tensors with them.
        let offDouble = labelSmoothing / Double(classCount)
        let off = Float(offDouble), on = Float(1 - labelSmoothing + offDouble)
        let own = Float(lambda), other = Float(1 - lambda)
        let n = labels.count
        return Tensor(shape: [n, classCount]) { out in
            for i in 0..<n {
                for k in 0..<classCount {
                    let y1 = k == labels[i] ? on : off, y2 = k == labels[n - 1 - i] ? on : off
                    out[i * classCount + k] = y1 * own + y2 * other
                }
            }
        }
    }

    /// A mixed batch and its soft targets.
    public struct MixedBatch: Sendable {
        /// The mixed clips, shaped as the input.
        public var clips: Tensor
        /// Soft targets `[B, classCount]`.
        public var targets: Tensor
        /// What was drawn.
        public var draw: Draw
    }

    /// Draws, mixes a batch `[B, …, H, W]` and makes its soft targets.
    ///
    /// - Throws: ``TransformError`` for a batch of rank below 3 or odd size, or bad labels.
    public func callAsFunction(
        _ batch: Tensor, labels: [Int], classCount: Int, using generator: inout RandomGenerator
    ) throws(TransformError) -> MixedBatch {
        let (b, h, w) = try Self.dimensions(batch)
        guard labels.count == b else {
            throw .invalidParameter(op: "Mixup", name: "labels", value: "\(labels.count) labels",
                                    requirement: "need one per clip of the batch \(batch.shape)")
        }
        let draw = sample(height: h, width: w, using: &generator)
        return MixedBatch(clips: try mix(batch, draw), targets: try targets(labels: labels, classCount: classCount, lambda: draw.lambda),
                          draw: draw)
    }

    static func dimensions(_ batch: Tensor) throws(TransformError) -> (batch: Int, height: Int, width: Int) {
        let s = batch.shape
        guard s.count >= 3 else {
            throw .invalidClip(op: "Mixup", shape: s, reason: "expected a batch [B, …, H, W] of rank 3 or more")
        }
        guard s[0] > 0 && s[0] % 2 == 0 else {
            throw .invalidClip(op: "Mixup", shape: s, reason: "the batch size must be even and positive (clips are mixed in mirrored pairs)")
        }
        guard s[s.count - 2] > 0 && s[s.count - 1] > 0 else {
            throw .invalidClip(op: "Mixup", shape: s, reason: "frames must have at least one pixel")
        }
        return (s[0], s[s.count - 2], s[s.count - 1])
    }
}

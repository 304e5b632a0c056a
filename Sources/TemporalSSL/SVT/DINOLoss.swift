import TensorCore

/// DINO's self-distillation loss with its running centre, as SVT trains with it
/// (`reference/SVT-VideoMS-IIC.md` §1.5).
///
/// With student logits for `V` views and teacher logits for the `G` global views (rows view-major,
/// `v·B + b`), the loss averages, over every pair of a teacher view `g` and a student view `v ≠ g`,
/// the batch mean of `−Σ_k softmax((t_g − c)/τ_t)_k · log_softmax(s_v/τ_s)_k`. After each step the
/// centre `c` (a buffer, key `center`) moves toward the mean teacher row with momentum 0.9.
public final class DINOLoss: Module {
    /// The centre subtracted from teacher logits `[1, K]`.
    public let center: Buffer
    /// The student temperature τ_s.
    public let studentTemperature: Float
    /// τ_t per epoch: a linear warm-up then constant (the last value beyond the schedule).
    public let teacherTemperatures: [Double]
    /// The centre momentum.
    public let centerMomentum: Float
    /// Global (teacher) views.
    public let globalViews: Int

    /// Creates the loss; the teacher temperature rises linearly (`np.linspace`) from
    /// `warmupTeacherTemperature` to `teacherTemperature` over `warmupEpochs`, then stays.
    public init(
        outputDim: Int, studentTemperature: Float = 0.1, teacherTemperature: Double = 0.04,
        warmupTeacherTemperature: Double? = nil, warmupEpochs: Int = 0, epochs: Int = 1,
        centerMomentum: Float = 0.9, globalViews: Int = 2
    ) {
        precondition(outputDim > 0 && studentTemperature > 0 && teacherTemperature > 0 && globalViews > 0,
                     "DINOLoss: sizes and temperatures must be positive")
        center = Buffer(Tensor(zeros: [1, outputDim]))
        self.studentTemperature = studentTemperature
        let warm = warmupEpochs > 0
            ? IterationSchedule.linspace(warmupTeacherTemperature ?? teacherTemperature, teacherTemperature, count: warmupEpochs)
            : []
        teacherTemperatures = warm + Array(repeating: teacherTemperature, count: Swift.max(epochs - warmupEpochs, 1))
        self.centerMomentum = centerMomentum
        self.globalViews = globalViews
        super.init()
    }

    /// τ_t in `epoch`.
    public func teacherTemperature(epoch: Int) -> Double {
        teacherTemperatures[Swift.min(Swift.max(epoch, 0), teacherTemperatures.count - 1)]
    }

    /// The loss of student logits `[V·B, K]` against teacher logits `[G·B, K]` (not differentiated).
    public func callAsFunction(student: Tensor, teacher: Tensor, epoch: Int) -> Tensor {
        let k = student.shape[1]
        let batch = teacher.shape[0] / globalViews
        let views = student.shape[0] / batch
        precondition(teacher.shape[0] == globalViews * batch && student.shape[0] == views * batch && views >= globalViews
                     && teacher.shape[1] == k,
                     "DINOLoss: student \(student.shape) and teacher \(teacher.shape) do not hold \(globalViews) global views of one batch")
        let tau = Float(teacherTemperature(epoch: epoch))
        let targets = noGrad { ((teacher.detached() - center.value) * (1 / tau)).softmax(axis: -1) }
            .reshaped([globalViews, batch, k])
        let logProbabilities = (student * (1 / studentTemperature)).logSoftmax(axis: -1).reshaped([views, batch, k])
        // Σ over v ≠ g of log q_v = (Σ over all v of log q_v) − log q_g.
        let others = logProbabilities.sum(axis: 0, keepDims: true)
            - logProbabilities.slice(axis: 0, range: 0..<globalViews)
        let pairs = globalViews * views - globalViews
        return (targets * others).sum() * (-1 / Float(pairs * batch))
    }

    /// `c ← m·c + (1 − m)·mean(teacher rows)`.
    public func updateCenter(teacher: Tensor) {
        updateCenter(rowSum: teacher.detached().sum(axis: 0, keepDims: true), rows: teacher.shape[0])
    }

    /// `c ← m·c + (1 − m)·rowSum/rows` from the column sums `[1, K]` of `rows` teacher rows —
    /// gathered over several batches or processes, as the reference all-reduces the sum before
    /// dividing by the global row count.
    public func updateCenter(rowSum: Tensor, rows: Int) {
        precondition(rows > 0 && rowSum.shape == center.value.shape,
                     "DINOLoss.updateCenter: row sum \(rowSum.shape) of \(rows) rows for centre \(center.value.shape)")
        let batchCenter = rowSum * (1 / Float(rows))
        center.value = noGrad { center.value * centerMomentum + batchCenter * (1 - centerMomentum) }
    }
}

import Foundation
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// SVT (`kind: svt`): self-distillation between a student and an EMA teacher over global and local
/// spatiotemporal views (`reference/SVT-VideoMS-IIC.md` §1).
///
/// Each decoded window becomes ``SVTViews`` (2 global + 8 local views by default). The student
/// (the recipe's backbone plus a ``DINOHead``) sees every view, the teacher (a copy of both, keys
/// `teacher.*`) the global ones; ``DINOLoss`` matches every student view to every other global
/// teacher view, and its centre (`dino_loss.center`) follows the teacher. After each step the
/// teacher moves toward the student with a momentum that rises from `teacher_momentum` to 1 on a
/// cosine. The head's last layer gets no update in the first `freeze_last_layer` epochs.
///
/// Views of equal shape go through the backbone together (the reference's `MultiCropWrapper`),
/// each size with its own position and time embeddings (nearest resampling in the `svt_*`
/// variants). The teacher runs in training mode, so its drop-path is active, as in the reference.
/// Teacher, centre and the teacher's random streams are in the model tree: checkpoints hold them
/// and a resumed run continues bit for bit.
public final class SVTTrainingObjective: TrainingObjective {
    /// The `objective` section of an SVT recipe.
    public struct Settings: RecipeSection {
        /// `out_dim` of the DINO head (reference 65536).
        public var outDim = 65536
        /// Hidden width of the head's MLP.
        public var hiddenDim = 2048
        /// Width before the last layer.
        public var bottleneckDim = 256
        /// Linear layers of the MLP.
        public var headLayers = 3
        /// Whether the last layer's norm stays fixed at 1.
        public var normLastLayer = true
        /// τ_s.
        public var studentTemperature = 0.1
        /// τ_t after warm-up.
        public var teacherTemperature = 0.04
        /// τ_t at the start of its warm-up.
        public var warmupTeacherTemperature = 0.04
        /// Epochs of the τ_t warm-up (0: constant).
        public var warmupTeacherTemperatureEpochs = 0
        /// Momentum of the centre.
        public var centerMomentum = 0.9
        /// Teacher momentum at the start (rises to 1).
        public var teacherMomentum = 0.996
        /// Epochs in which the head's last layer is not updated.
        public var freezeLastLayer = 1
        /// Frames of the two global views (paper 8, 16; released code option 4, 8).
        public var globalFrames = [8, 16]
        /// Frames of each local view.
        public var localFrames = [2, 2, 4, 4, 8, 8, 16, 16]
        /// Side of the global crops.
        public var globalSize = 224
        /// Side of the local crops.
        public var localSize = 96
        /// Area fraction of the global crops.
        public var globalScale = [0.4, 1.0]
        /// Area fraction of the local crops.
        public var localScale = [0.05, 0.4]
        /// `reference` (the released code's quirks) or `clean` augmentation.
        public var augmentation: SVTViews.Style = .reference

        /// The reference settings (paper frame counts).
        public init() {}

        /// The head, loss, teacher and `views` keys.
        public static var fields: [RecipeField<Self>] {
            [.int("out_dim", \.outDim, minimum: 1, maximum: 1 << 20),
             .int("hidden_dim", \.hiddenDim, minimum: 1, maximum: 1 << 16),
             .int("bottleneck_dim", \.bottleneckDim, minimum: 1, maximum: 1 << 16),
             .int("head_layers", \.headLayers, minimum: 1, maximum: 16),
             .bool("norm_last_layer", \.normLastLayer),
             .double("student_temperature", \.studentTemperature, .positive),
             .double("teacher_temperature", \.teacherTemperature, .positive),
             .double("warmup_teacher_temperature", \.warmupTeacherTemperature, .positive),
             .int("warmup_teacher_temperature_epochs", \.warmupTeacherTemperatureEpochs, minimum: 0),
             .double("center_momentum", \.centerMomentum, .unitInterval),
             .double("teacher_momentum", \.teacherMomentum, .unitInterval),
             .int("freeze_last_layer", \.freezeLastLayer, minimum: 0),
             .section("views", [
                .ints("global_frames", \.globalFrames, count: 2, minimum: 1, maximum: 1024),
                .ints("local_frames", \.localFrames, count: nil, minimum: 1, maximum: 1024),
                .int("global_size", \.globalSize, minimum: 1, maximum: FrameSize.maximumSide),
                .int("local_size", \.localSize, minimum: 1, maximum: FrameSize.maximumSide),
                .doubles("global_scale", \.globalScale, count: 2, .positive),
                .doubles("local_scale", \.localScale, count: 2, .positive),
                .choice("augmentation", \.augmentation),
             ])]
        }

        /// Checks the crop scales.
        public func validate(path: String) throws(RecipeError) {
            for (key, scale) in [("global_scale", globalScale), ("local_scale", localScale)]
            where !(scale[0] <= scale[1] && scale[1] <= 1) {
                throw .invalidValue(key: "\(path).views.\(key)", value: "\(scale)", reason: "must be [low, high] with low ≤ high ≤ 1")
            }
        }

        /// The view maker these settings describe, normalising with `mean` and `std`.
        public func views(mean: [Double], std: [Double]) -> SVTViews {
            SVTViews(globalFrames: globalFrames, localFrames: localFrames, globalSize: globalSize, localSize: localSize,
                     globalScale: globalScale[0]...globalScale[1], localScale: localScale[0]...localScale[1],
                     style: augmentation, mean: mean.map(Float.init), std: std.map(Float.init))
        }
    }

    /// The registry entry; the backbone is built without a classifier.
    public static let registration = Objectives.Registration(
        kind: "svt", summary: "SVT: self-distillation from global and local spatiotemporal views",
        settings: Settings.self, usesClassifier: false
    ) { settings, context, generator in try SVTTrainingObjective(settings, context: context, using: &generator) }

    /// Student head, teacher and loss: the keys `head.*`, `teacher.*`, `dino_loss.center`.
    public let parts: SVTParts
    /// The settings.
    public let settings: Settings
    /// The view maker.
    public let viewMaker: SVTViews
    /// The teacher's head (inside ``SVTParts/teacher``).
    private let teacherHead: DINOHead
    private var pairs: [(student: Parameter, teacher: Parameter)] = []
    /// Column sums and row count of the teacher outputs since the last optimizer step.
    private var pendingCenter: (sum: Tensor, rows: Int)?

    /// Builds the student head, the teacher (backbone and head of the same shapes, not trained by
    /// gradients) and the loss.
    ///
    /// - Throws: ``ObjectiveError/unsupportedInput(objective:reason:)`` for invalid views.
    public init(_ settings: Settings, context: ObjectiveContext, using generator: inout RandomGenerator) throws {
        self.settings = settings
        viewMaker = settings.views(mean: context.data.mean, std: context.data.std)
        if let problem = viewMaker.problem { throw ObjectiveError.unsupportedInput(objective: "svt", reason: problem) }
        let dim = context.backbone.embedDim
        func head(_ generator: inout RandomGenerator) -> DINOHead {
            DINOHead(inputDim: dim, outputDim: settings.outDim, hiddenDim: settings.hiddenDim,
                     bottleneckDim: settings.bottleneckDim, layers: settings.headLayers,
                     normalizeLastLayer: settings.normLastLayer, using: &generator)
        }
        let student = head(&generator)
        let teacherBackbone = try context.makeBackbone(using: &generator)
        teacherHead = head(&generator)
        let teacher = try TrainingModel(backbone: teacherBackbone, heads: SVTParts.HeadSlot(teacherHead))
        let loss = DINOLoss(
            outputDim: settings.outDim, studentTemperature: Float(settings.studentTemperature),
            teacherTemperature: settings.teacherTemperature, warmupTeacherTemperature: settings.warmupTeacherTemperature,
            warmupEpochs: settings.warmupTeacherTemperatureEpochs, epochs: context.epochs,
            centerMomentum: Float(settings.centerMomentum), globalViews: 2)
        parts = SVTParts(head: student, teacher: teacher, loss: loss)
        for (_, parameter) in teacher.namedParameters() { parameter.requiresGrad = false }
    }

    /// `head.*`, `teacher.*`, `dino_loss.center`, `teacher_ready`.
    public var heads: Module? { parts }

    /// ``SVTViews`` of each decoded window.
    public var views: DataLoader.ViewTransform? {
        let maker = viewMaker
        return { window, generator in try maker(window, using: &generator) }
    }

    /// The term `dino`.
    public func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    {
        guard batch.views.count == viewMaker.count else {
            throw ObjectiveError.unsupportedInput(
                objective: "svt", reason: "expected \(viewMaker.count) views per sample, the batch has \(batch.views.count)")
        }
        let pairs = parameterPairs(model)
        if parts.teacherReady.value.scalars[0] == 0 {
            // The teacher starts as a copy of the student, after the student's weights are loaded.
            for (student, teacher) in pairs { teacher.value = Tensor(shape: student.shape, scalars: student.value.scalars) }
            parts.teacherReady.value = Tensor(shape: [1], scalars: [1])
        }
        let studentFeatures = SVTTrainingObjective.classEmbeddings(of: batch.views, backbone: model.backbone)
        let studentOut = parts.head(studentFeatures)
        let teacherOut = noGrad {
            teacherHead(SVTTrainingObjective.classEmbeddings(of: Array(batch.views.prefix(2)), backbone: parts.teacher.backbone))
        }.detached()
        let loss = parts.loss(student: studentOut, teacher: teacherOut, epoch: batch.epoch)
        // The centre moves once per optimizer step from every micro-batch's and every rank's
        // teacher rows (``reduceAcrossRanks(_:)``), as DINO's all-reduced `update_center`.
        let rowSum = noGrad { teacherOut.sum(axis: 0, keepDims: true) }
        if let pending = pendingCenter {
            pendingCenter = (noGrad { pending.sum + rowSum }, pending.rows + teacherOut.shape[0])
        } else {
            pendingCenter = (rowSum, teacherOut.shape[0])
        }
        return ObjectiveOutput(terms: LossTerms([("dino", loss)]))
    }

    /// Drops the teacher rows gathered since the last step.
    public func discardPendingState() { pendingCenter = nil }

    /// Moves the DINO centre toward the mean teacher row of this step: the column sums of every
    /// micro-batch are summed over the ranks and divided by the global row count.
    public func reduceAcrossRanks(_ group: any ProcessGroup) throws {
        guard let pending = pendingCenter else { return }
        pendingCenter = nil
        var values = pending.sum.scalars + [Float(pending.rows)]
        try group.allReduce(&values, .sum)
        let rows = Int(values.removeLast())
        parts.loss.updateCenter(rowSum: Tensor(shape: pending.sum.shape, scalars: values), rows: rows)
    }

    /// Class embeddings `[V·B, C]` (view-major) of views `[B, T_v, 3, S_v, S_v]`, consecutive views
    /// of one shape run as one batch.
    public static func classEmbeddings(of views: [Tensor], backbone: any VideoBackbone) -> Tensor {
        var outputs: [Tensor] = []
        var start = 0
        while start < views.count {
            var end = start + 1
            while end < views.count && views[end].shape.dropFirst() == views[start].shape.dropFirst() { end += 1 }
            let group = end - start == 1 ? views[start] : Tensor.concat(Array(views[start..<end]), axis: 0)
            outputs.append(backbone.classEmbedding(group))
            start = end
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, axis: 0)
    }

    private func parameterPairs(_ model: TrainingModel) -> [(student: Parameter, teacher: Parameter)] {
        if pairs.isEmpty {
            let teacher = Dictionary(parts.teacher.namedParameters(), uniquingKeysWith: { a, _ in a })
            let student = model.backbone.namedParameters() + parts.head.namedParameters().map { ("head." + $0.0, $0.1) }
            pairs = student.compactMap { key, p in teacher[key].map { (p, $0) } }
        }
        return pairs
    }

    /// θ_t ← m·θ_t + (1 − m)·θ_s with m = 1 − (1 − m₀)(1 + cos(π·i/I))/2 at iteration `i = step − 1`.
    public func didStep(_ step: Int, of totalSteps: Int) {
        guard !pairs.isEmpty else { return }
        let m = SVTTrainingObjective.teacherMomentum(base: settings.teacherMomentum, iteration: step - 1, of: totalSteps)
        for (student, teacher) in pairs { SVTTrainingObjective.moveTeacher(teacher, toward: student.value, momentum: m) }
    }

    /// One teacher update `t ← t·m + (1 − m)·s` in Float32, `m` and `1 − m` each rounded to Float
    /// as PyTorch's `mul_(m).add_((1 - m) * s)` does.
    public static func moveTeacher(_ teacher: Parameter, toward student: Tensor, momentum m: Double) {
        precondition(teacher.shape == student.shape, "moveTeacher: shapes \(teacher.shape) and \(student.shape) differ")
        let keep = Float(m), take = Float(1 - m)
        student.withUnsafeBufferPointer { s in
            teacher.update { t in
                for i in t.indices { t[i] = t[i] * keep + take * s[i] }
            }
        }
    }

    /// The teacher momentum at `iteration` of `total` (DINO's `cosine_scheduler(m₀, 1, …)`).
    public static func teacherMomentum(base: Double, iteration: Int, of total: Int) -> Double {
        guard total > 0 else { return base }
        return 1 + 0.5 * (base - 1) * (1 + cos(Double.pi * Double(iteration) / Double(total)))
    }

    /// Drops the last layer's gradients during the first `freeze_last_layer` epochs.
    public func willApplyGradients(epoch: Int) {
        guard epoch < settings.freezeLastLayer else { return }
        for (_, parameter) in parts.head.lastLayer.namedParameters() { parameter.zeroGrad() }
    }
}

/// SVT's modules beside the student backbone: the student head (`head.*`), the teacher
/// (`teacher.*`: backbone keys and `teacher.head.*`), the loss centre (`dino_loss.center`) and
/// whether the teacher has been started from the student (`teacher_ready`).
public final class SVTParts: Module {
    /// The student's DINO head.
    public let head: DINOHead
    /// The teacher backbone and head.
    public let teacher: TrainingModel
    /// The loss and its centre.
    public let loss: DINOLoss
    /// 1 once the teacher holds the student's starting weights.
    public let teacherReady = Buffer(Tensor(shape: [1], scalars: [0]))

    /// Bundles the parts.
    public init(head: DINOHead, teacher: TrainingModel, loss: DINOLoss) {
        self.head = head
        self.teacher = teacher
        self.loss = loss
        super.init()
    }

    /// `loss` is `dino_loss` in checkpoints, as the reference's training checkpoint names it.
    public override func key(forProperty name: String) -> String {
        name == "loss" ? "dino_loss" : super.key(forProperty: name)
    }

    /// A head under the key `head`.
    final class HeadSlot: Module {
        let head: DINOHead
        init(_ head: DINOHead) {
            self.head = head
            super.init()
        }
    }
}

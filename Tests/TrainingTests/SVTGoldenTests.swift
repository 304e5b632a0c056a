import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training

/// SVT's head, loss, centre, schedules, teacher update and clipping against a PyTorch
/// re-implementation of the released code (`Scripts/reference/make_svt_fixtures.py`).
@Suite struct SVTGoldenTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "svt_golden", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }

    static func head() throws -> DINOHead {
        var generator = RandomGenerator(seed: 0)
        let head = DINOHead(inputDim: 16, outputDim: 64, hiddenDim: 32, bottleneckDim: 8, layers: 3, using: &generator)
        let weights = file.names.filter { $0.hasPrefix("head.") }.map { (String($0.dropFirst(5)), tensor($0)) }
        try head.loadStateDict(weights, strict: true)
        return head
    }

    static func close(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ what: String) {
        #expect(a.shape == b.shape, "\(what): \(a.shape) vs \(b.shape)")
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): worst relative error \(worst)")
    }

    @Test func headLossCentreAndGradientsEqualTheReference() throws {
        let head = try Self.head()
        let input = Parameter(Self.tensor("input.student"))
        let student = head(input.value)
        let teacher = noGrad { head(Self.tensor("input.teacher")) }
        Self.close(student, Self.tensor("output.student"), 1e-5, "student logits")
        Self.close(teacher, Self.tensor("output.teacher"), 1e-5, "teacher logits")

        let loss = DINOLoss(outputDim: 64, studentTemperature: 0.1, teacherTemperature: 0.04)
        loss.center.value = Self.tensor("input.center")
        let value = loss(student: student, teacher: teacher, epoch: 0)
        Self.close(value.reshaped([1]), Self.tensor("loss"), 1e-5, "loss")
        value.backward()
        Self.close(try #require(input.grad), Self.tensor("grad.input.student"), 1e-4, "d loss / d student features")
        for (key, parameter) in head.namedParameters() where parameter.requiresGrad {
            Self.close(try #require(parameter.grad, "\(key)"), Self.tensor("grad.head." + key), 1e-4, "d loss / d \(key)")
        }
        // The norm of the last layer is fixed at 1 and gets no gradient.
        #expect(head.lastLayer.weightG.grad == nil && !head.lastLayer.weightG.requiresGrad)

        loss.updateCenter(teacher: teacher)
        Self.close(loss.center.value, Self.tensor("center.after"), 1e-6, "centre")
    }

    @Test func theTeacherTemperatureWarmsUpAsTheReference() throws {
        let head = try Self.head()
        let loss = DINOLoss(outputDim: 64, teacherTemperature: 0.07, warmupTeacherTemperature: 0.04, warmupEpochs: 3, epochs: 5)
        #expect(loss.teacherTemperatures == (try OptimizerParityTests.doubles(Self.file, "schedule.teacher_temp")))
        loss.center.value = Self.tensor("input.center")
        let value = noGrad {
            loss(student: head(Self.tensor("input.student")), teacher: head(Self.tensor("input.teacher")), epoch: 1)
        }
        Self.close(value.reshaped([1]), Self.tensor("loss.warmup_epoch1"), 1e-5, "loss at epoch 1")
    }

    @Test func schedulesEqualTheReferenceCosineScheduler() throws {
        let lr = IterationSchedule.cosine(base: 6.25e-5, final: 1e-6, epochs: 5, iterationsPerEpoch: 7, warmupEpochs: 2)
        let wd = IterationSchedule.cosine(base: 0.04, final: 0.4, epochs: 5, iterationsPerEpoch: 7)
        let momentum = IterationSchedule.cosine(base: 0.996, final: 1, epochs: 5, iterationsPerEpoch: 7)
        for (name, mine) in [("lr", lr), ("wd", wd), ("momentum", momentum)] {
            let reference = try OptimizerParityTests.doubles(Self.file, "schedule." + name)
            #expect(mine.count == reference.count)
            let worst = zip(mine, reference).map { abs($0 - $1) / max(abs($1), 1e-12) }.max() ?? 0
            #expect(worst < 1e-14, "\(name): \(worst)")
        }
        // The closed form the teacher uses per step is the same table.
        for i in momentum.indices {
            #expect(abs(SVTTrainingObjective.teacherMomentum(base: 0.996, iteration: i, of: 35) - momentum[i]) < 1e-15)
        }
    }

    @Test func teacherUpdateAndPerTensorClippingEqualTheReference() throws {
        let m = try OptimizerParityTests.doubles(Self.file, "ema.momentum")[0]
        let teacher = Parameter(Self.tensor("ema.teacher"))
        SVTTrainingObjective.moveTeacher(teacher, toward: Self.tensor("ema.student"), momentum: m)
        #expect(teacher.value.scalars == Self.tensor("ema.after").scalars)

        let parameters = [Parameter(Self.tensor("clip.in.0")), Parameter(Self.tensor("clip.in.1"))]
        for p in parameters { p.grad = p.value }
        clipGradNormPerTensor(parameters, maxNorm: 3)
        Self.close(parameters[0].grad!, Self.tensor("clip.out.0"), 1e-6, "clipped gradient")
        #expect(parameters[1].grad!.scalars == Self.tensor("clip.out.1").scalars)
    }
}

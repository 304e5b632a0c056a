import Foundation
import Testing
import Training

@Suite struct ScheduleTests {
    static func close(_ a: Double, _ b: Double) -> Bool { Swift.abs(a - b) <= 1e-12 * Swift.max(1, Swift.abs(b)) }

    @Test func stepsWithRelativeLRsFollowsTheTIMERecipe() {
        let schedule = StepsWithRelativeLRs(base: 1e-4, steps: [0, 20, 30], relativeLRs: [1, 0.1, 0.01])
        let expected: [(Double, Double)] = [
            (0, 1e-4), (19.99, 1e-4), (20, 1e-5), (29.9, 1e-5), (30, 1e-6), (34.99, 1e-6), (50, 1e-6),
        ]
        for (epoch, lr) in expected {
            #expect(Swift.abs(schedule(epoch) - lr) <= 1e-18, "epoch \(epoch): \(schedule(epoch))")
        }
    }

    @Test func cosineAnnealsFromBaseToEnd() {
        let schedule = CosineSchedule(base: 1, end: 0.1, maxEpoch: 10)
        #expect(Self.close(schedule(0), 1))
        #expect(Self.close(schedule(5), 0.55))
        #expect(Self.close(schedule(10), 0.1))
        let shifted = CosineSchedule(base: 1, end: 0.1, maxEpoch: 10, offset: 2)
        #expect(Self.close(shifted(2), 1))
        #expect(Self.close(shifted(6), 0.55))
    }

    @Test func warmupRampsLinearlyToTheScheduleValueAtItsEnd() {
        let flat = ConstantSchedule(1).withWarmup(epochs: 2, from: 0.01)
        #expect(Self.close(flat(0), 0.01))
        #expect(Self.close(flat(1), 0.505))
        #expect(Self.close(flat(2), 1))
        #expect(Self.close(flat(3), 1))
        // The ramp aims at the cosine's value at epoch 2, not at its base.
        let cosine = CosineSchedule(base: 1, maxEpoch: 10).withWarmup(epochs: 2, from: 0)
        let atEnd = (cos(Double.pi * 0.2) + 1) / 2
        #expect(Self.close(cosine(1), atEnd / 2))
        #expect(Self.close(cosine(2), atEnd))
        #expect(Self.close(cosine(1.999_999), atEnd * 0.999_999_5))
    }

    @Test func constantScheduleIsConstant() {
        let schedule = ConstantSchedule(3e-4)
        #expect([0, 0.5, 100].map { schedule($0) } == [3e-4, 3e-4, 3e-4])
    }
}

import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore

/// IIC's alias sampler and memory-bank NCE against a PyTorch re-implementation of the released
/// code (`Scripts/reference/make_iic_fixtures.py`, `iic_nce.safetensors`).
@Suite struct IICContrastiveTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "iic_nce", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }
    static func ints(_ name: String) -> [Int] { try! file.integers(named: name).values }

    static func close(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ what: String) {
        #expect(a.shape == b.shape, "\(what): \(a.shape) vs \(b.shape)")
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): worst relative error \(worst)")
    }

    @Test(arguments: ["uniform", "skewed"])
    func theAliasTableAndItsDrawsEqualTheReference(name: String) {
        let sampler = AliasSampler(weights: Self.tensor("alias.\(name).weights").scalars)
        #expect(sampler.acceptance == Self.tensor("alias.\(name).prob").scalars)
        #expect(sampler.alias == Self.ints("alias.\(name).alias"))
        var generator = RandomGenerator(seed: 11)
        #expect(sampler.draw(64, using: &generator) == Self.ints("alias.\(name).draws"))
    }

    @Test func aliasDrawsFollowTheWeightsAsTheReferenceSamplerDoes() throws {
        let weights = Self.tensor("alias.skewed.weights").scalars
        let sampler = AliasSampler(weights: weights)
        var generator = RandomGenerator(seed: 1)
        var counts = [Int](repeating: 0, count: weights.count)
        let n = 200_000
        for index in sampler.draw(n, using: &generator) { counts[index] += 1 }
        let total = weights.reduce(0, +)
        let torch = try OptimizerDoubles.read(Self.file, "alias.skewed.torch_frequencies")
        for (k, count) in counts.enumerated() {
            let frequency = Double(count) / Double(n), expected = Double(weights[k] / total)
            // 4 standard errors of a binomial frequency at n = 200000 are below 0.004.
            #expect(abs(frequency - expected) < 0.004, "category \(k): \(frequency) vs \(expected)")
            #expect(abs(frequency - torch[k]) < 0.006, "category \(k): \(frequency) vs torch \(torch[k])")
        }
        #expect(counts[4] == 0)  // weight 0 is never drawn
    }

    static func memory(negatives: Bool, softmax: Bool) -> ContrastiveMemory {
        var generator = RandomGenerator(seed: 0)
        let memory = ContrastiveMemory(dim: 6, dataCount: 11, noiseCount: 5, temperature: 0.07, momentum: 0.5,
                                       intraNegatives: negatives, useSoftmax: softmax, using: &generator)
        memory.memoryL.value = tensor("in.memory_l")
        memory.memoryAb.value = tensor("in.memory_ab")
        memory.memoryNeg?.value = tensor("in.memory_neg")
        return memory
    }

    @Test(arguments: [("nce", true, true), ("ori", false, true), ("prob", true, false)])
    func scoresLossesGradientsAndBankUpdatesEqualTheReference(prefix: String, negatives: Bool, softmax: Bool) throws {
        let memory = Self.memory(negatives: negatives, softmax: softmax)
        let f1 = Parameter(Self.tensor("in.f1")), f2 = Parameter(Self.tensor("in.f2"))
        let fn = Self.tensor("in.fn")
        let y = Self.ints("in.y"), rows = Self.ints("in.idx")
        let scores = memory.scores(view1: f1.value, view2: f2.value, rows: rows)
        Self.close(scores.view1, Self.tensor("\(prefix).out_l"), 1e-5, "\(prefix) out_l")
        Self.close(scores.view2, Self.tensor("\(prefix).out_ab"), 1e-5, "\(prefix) out_ab")
        if !softmax {
            Self.close(Tensor(memory.params.value.scalars[2...3].map { $0 }), Self.tensor("prob.z"), 1e-5, "Z_l, Z_ab")
        }
        memory.update(indices: y, view1: f1.value, view2: f2.value, negatives: negatives ? fn : nil)
        let loss = memory.loss(view1: scores.view1, view2: scores.view2)
        Self.close(Tensor([loss.view1.scalars[0], loss.view2.scalars[0]]), Self.tensor("\(prefix).loss"), 1e-5, "\(prefix) loss")
        (loss.view1 + loss.view2).backward()
        Self.close(try #require(f1.grad), Self.tensor("\(prefix).grad.f1"), 1e-4, "\(prefix) d/d f1")
        Self.close(try #require(f2.grad), Self.tensor("\(prefix).grad.f2"), 1e-4, "\(prefix) d/d f2")
        Self.close(memory.memoryL.value, Self.tensor("\(prefix).after.memory_l"), 1e-6, "\(prefix) memory_l")
        Self.close(memory.memoryAb.value, Self.tensor("\(prefix).after.memory_ab"), 1e-6, "\(prefix) memory_ab")
        if let neg = memory.memoryNeg {
            Self.close(neg.value, Self.tensor("\(prefix).after.memory_neg"), 1e-6, "\(prefix) memory_neg")
        }
        // The banks are read detached: no gradient flows into them.
        #expect(!memory.memoryL.value.requiresGrad && !memory.memoryAb.value.requiresGrad)
        #expect(scores.view1.shape == [3, negatives ? 12 : 6] && memory.columns == (negatives ? 12 : 6))
    }

    @Test func banksAreBuffersWithTheReferenceKeysAndBounds() {
        var generator = RandomGenerator(seed: 4)
        let memory = ContrastiveMemory(dim: 48, dataCount: 20, noiseCount: 7, using: &generator)
        let keys = memory.stateDict().map(\.0)
        #expect(keys == ["params", "memory_l", "memory_ab", "memory_neg"])
        #expect(memory.namedParameters().isEmpty)
        #expect(memory.params.value.scalars == [7, 0.07, -1, -1, 0.5])
        let s = Float(1 / (48.0 / 3).squareRoot())  // 0.25
        for bank in [memory.memoryL, memory.memoryAb, memory.memoryNeg!] {
            #expect(bank.shape == [20, 48])
            #expect(bank.value.scalars.allSatisfy { $0 >= -s && $0 < s })
            #expect((bank.value.scalars.max() ?? 0) > 0.2 && (bank.value.scalars.min() ?? 0) < -0.2)
        }
        var noNeg = RandomGenerator(seed: 4)
        let ori = ContrastiveMemory(dim: 48, dataCount: 20, noiseCount: 7, intraNegatives: false, using: &noNeg)
        #expect(ori.stateDict().map(\.0) == ["params", "memory_l", "memory_ab"])
        #expect(ori.memoryL.value.scalars == memory.memoryL.value.scalars)
    }

    @Test func sampledRowsPutEachSampleFirstAndDrawKMore() {
        var generator = RandomGenerator(seed: 2)
        let memory = ContrastiveMemory(dim: 3, dataCount: 50, noiseCount: 9, using: &generator)
        let rows = memory.sampleRows(for: [7, 41, 0], using: &generator)
        #expect(rows.count == 30)
        #expect(rows[0] == 7 && rows[10] == 41 && rows[20] == 0)
        #expect(rows.allSatisfy { (0..<50).contains($0) })
        #expect(Set(rows).count > 10)
    }

    @Test func updatedRowsHaveUnitNormAndOthersStay() {
        var generator = RandomGenerator(seed: 9)
        let memory = ContrastiveMemory(dim: 4, dataCount: 6, noiseCount: 2, intraNegatives: false, using: &generator)
        let before = memory.memoryL.value.scalars
        let f = Tensor(shape: [2, 4], scalars: [3, 0, 0, 0, 0, 0, 0, -2])
        memory.update(indices: [1, 4], view1: f, view2: f, negatives: nil)
        let after = memory.memoryL.value.scalars
        for row in 0..<6 {
            let values = Array(after[(row * 4)..<(row * 4 + 4)])
            if row == 1 || row == 4 {
                #expect(abs(values.map { $0 * $0 }.reduce(0, +) - 1) < 1e-6)
            } else {
                #expect(values == Array(before[(row * 4)..<(row * 4 + 4)]))
            }
        }
    }
}

/// Float64 arrays of a fixture file.
enum OptimizerDoubles {
    static func read(_ file: SafeTensorsFile, _ name: String) throws -> [Double] {
        let bytes = try file.rawBytes(named: name)
        return stride(from: 0, to: bytes.count, by: 8).map { offset in
            Double(bitPattern: bytes[bytes.startIndex + offset ..< bytes.startIndex + offset + 8]
                .reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }
}

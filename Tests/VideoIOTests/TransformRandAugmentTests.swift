import Testing
import TensorCore
import VideoIO

/// RandAugment against timm's op functions on Pillow 13 (`Scripts/reference/make_transform_fixtures.py`).
/// Every operation is byte-exact (tolerance 0) on the 24 x 20 fixture image: the Swift code reproduces
/// PIL's truncating casts, SMOOTH's rounding and the affine sampler's edge handling.
@Suite struct TransformRandAugmentTests {
    static let cases: [String] = TransformFixtures.file.names
        .filter { $0.hasPrefix("ra/") && $0 != "ra/image" && !$0.hasSuffix("/arg") }
        .sorted()

    @Test(arguments: cases)
    func operationMatchesTimm(_ key: String) throws {
        let parts = key.split(separator: "/").map(String.init)
        let op = try #require(RandAugmentOp(rawValue: parts[1]))
        let variant = parts[2]
        let level = variant.hasPrefix("m5.5") ? 5.5 : 10
        let argument = op.argument(level: level, negate: variant.hasPrefix("neg"))
        let timmArgument = Double(TransformFixtures.tensor(key + "/arg").item)
        #expect(abs(argument - timmArgument) < 1e-6, "\(key): \(argument) vs \(timmArgument)")
        let resample: PILResample = variant.hasSuffix("_bilinear") ? .bilinear : .bicubic
        let out = op.apply(to: TransformFixtures.image("ra/image"), argument: argument, resample: resample)
        let expected = TransformFixtures.image(key)
        #expect(maxByteDifference(out.pixels, expected.pixels) == 0, "\(key)")
    }

    @Test func fixturesCoverEveryOperation() {
        let covered = Set(Self.cases.map { $0.split(separator: "/")[1] })
        #expect(covered.count == RandAugmentOp.allCases.count)
    }

    @Test func posterizeToZeroBitsIsBlack() {
        // Pillow 11+ refuses 0 bits (so the fixture has no such case); earlier Pillow, which TIME
        // ran with, masked every bit away.
        let image = TransformFixtures.image("ra/image")
        #expect(RandAugmentOp.posterizeIncreasing.argument(level: 10, negate: false) == 0)
        #expect(image.posterized(bits: 0).pixels.allSatisfy { $0 == 0 })
        #expect(image.posterized(bits: 8) == image)
    }

    @Test func parsesTimmConfigStrings() throws {
        let time = try RandAugment(config: "rand-m20-mstd0.5-inc1")
        #expect(time.layers == 2 && time.magnitude == 20 && time.magnitudeStd == 0.5 && time.magnitudeMax == nil)
        #expect(time.probability == 0.5 && time.operations == RandAugmentOp.increasingSet && time.operations.count == 15)
        let other = try RandAugment(config: "rand-m9-n3-mstd101-mmax15-p0.8")
        #expect(other.layers == 3 && other.magnitude == 9 && other.magnitudeStd == .infinity)
        #expect(other.magnitudeMax == 15 && other.probability == 0.8 && other.operations == RandAugmentOp.standardSet)
        #expect(try RandAugment(config: "rand-m9-inc0").operations == RandAugmentOp.standardSet)
    }

    @Test func badConfigStringsNameTheProblem() {
        for bad in ["augmix-m9", "rand-m9-x3", "rand-mfoo", "rand-m9.5", "rand-p1.5", "rand-n-2", "rand-mstd"] {
            #expect(throws: TransformError.self, "\(bad)") { try RandAugment(config: bad) }
        }
        do {
            _ = try RandAugment(config: "rand-m9-x3")
            Issue.record("accepted an unknown section")
        } catch {
            #expect(error.description.contains("unknown section \"x3\""), "\(error)")
        }
    }

    @Test func timeConfigAlwaysRunsAtFullStrength() throws {
        // m20 with mstd 0.5 is clipped to the maximum level 10 (TIME §1.5).
        let policy = try RandAugment(config: "rand-m20-mstd0.5-inc1")
        var g = RandomGenerator(seed: 2)
        var applied = 0, drawn = 0
        for _ in 0..<300 {
            let steps = policy.sampleSteps(using: &g)
            drawn += 2
            applied += steps.count
            for s in steps {
                switch s.op {
                case .rotate: #expect(abs(s.argument) == 30)
                case .shearX, .shearY: #expect(abs(s.argument) == 0.3)
                case .translateXRel, .translateYRel: #expect(abs(abs(s.argument) - 0.45) < 1e-12)
                case .posterizeIncreasing: #expect(s.argument == 0)
                case .solarizeIncreasing: #expect(s.argument == 0)
                case .solarizeAdd: #expect(s.argument == 110)
                case .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing:
                    #expect(abs(s.argument - 1.9) < 1e-12 || abs(s.argument - 0.1) < 1e-12)
                default: #expect(s.argument == 0)
                }
            }
        }
        // Each drawn op is applied with probability 0.5.
        #expect(abs(Double(applied) / Double(drawn) - 0.5) < 0.06)
    }

    @Test func everyFrameGetsTheSameOperations() throws {
        let policy = RandAugment(layers: 2, magnitude: 9, magnitudeStd: 0.5, probability: 1)
        let image = TransformFixtures.image("ra/image")
        var shifted = image
        for i in 0..<shifted.pixels.count { shifted.pixels[i] = shifted.pixels[i] &+ 7 }
        var a = RandomGenerator(seed: 21), b = RandomGenerator(seed: 21)
        let frames = policy([image, shifted, image], using: &a)
        #expect(frames[0] == frames[2])
        #expect(frames[0] != image)
        // The result equals applying the drawn steps to each frame alone.
        let steps = policy.sampleSteps(using: &b)
        #expect(steps.count == 2)
        #expect(frames[1] == policy.apply(steps, to: shifted))
        // Same seed, same clip; decoded frames keep their indices.
        var c = RandomGenerator(seed: 21)
        let video = [VideoFrame(index: 4, timestamp: 0.2, width: image.width, height: image.height, pixels: image.pixels)]
        let out = policy(video, using: &c)
        #expect(out[0].index == 4 && out[0].pixels == frames[0].pixels)
    }
}

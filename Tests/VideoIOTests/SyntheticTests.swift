import Foundation
import Testing
import TensorCore
import VideoIO

/// The mean x and y of the saturated (object) pixels of an RGB frame; the background is gray.
func objectCentroid(_ pixels: [UInt8], width: Int) -> (x: Double, y: Double, count: Int) {
    var sx = 0.0, sy = 0.0, n = 0
    for p in 0..<(pixels.count / 3) {
        let c = pixels[(3 * p)..<(3 * p + 3)]
        if Int(c.max()!) - Int(c.min()!) > 60 {
            sx += Double(p % width)
            sy += Double(p / width)
            n += 1
        }
    }
    return (sx / Double(max(n, 1)), sy / Double(max(n, 1)), n)
}

@Suite struct SyntheticTests {
    static let small = SyntheticDataset.Configuration(
        width: 32, height: 32, frameCount: 8, trainVideosPerClass: 1, valVideosPerClass: 1,
        codec: .bestLossless, seed: 5)

    @Test func temporalPairsAreEachOtherPlayedBackwards() {
        let config = SyntheticTests.small
        let pairs: [(SyntheticClass, SyntheticClass)] = [
            (.moving(.right), .moving(.left)), (.moving(.down), .moving(.up)),
            (.scaling(growing: true), .scaling(growing: false)),
        ]
        for (forward, backward) in pairs {
            var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
            let f = SyntheticDataset.render(forward, configuration: config, using: &a)
            let r = SyntheticDataset.render(backward, configuration: config, using: &b)
            #expect(f.count == 8 && f[0].count == 32 * 32 * 3)
            #expect(f == Array(r.reversed()), "\(forward) vs \(backward)")
            #expect(f.first != f.last)
        }
        var g = RandomGenerator(seed: 1)
        let right = SyntheticDataset.render(.moving(.right), configuration: config, using: &g)
        let xs = right.map { objectCentroid($0, width: 32).x }
        #expect(zip(xs, xs.dropFirst()).allSatisfy { $0 < $1 }, "\(xs)")
        #expect(xs.last! - xs.first! > 10)
        let grow = SyntheticDataset.render(.scaling(growing: true), configuration: config, using: &g)
        let areas = grow.map { objectCentroid($0, width: 32).count }
        #expect(areas.last! > 3 * areas.first!, "\(areas)")
    }

    @Test func smoothBackdropIsAGentleStaticWaveAndNoiseStaysTheDefault() {
        var smooth = SyntheticTests.small
        smooth.background = .smooth
        var a = RandomGenerator(seed: 8), b = RandomGenerator(seed: 8)
        let waves = SyntheticDataset.render(.moving(.right), configuration: smooth, using: &a)
        let noisy = SyntheticDataset.render(.moving(.right), configuration: SyntheticTests.small, using: &b)
        func gray(_ frame: [UInt8], _ p: Int) -> Int? {
            let (r, g, bl) = (frame[3 * p], frame[3 * p + 1], frame[3 * p + 2])
            return r == g && g == bl ? Int(r) : nil
        }
        // Pixels that are gray in the first and last frames are backdrop: the same in both, within
        // 120 ± 24, and neighbours differ by little (noise differs by up to 39).
        var smoothJumps = 0, noisyJumps = 0, backdrop = 0
        for p in 0..<(32 * 32) where p % 32 < 31 {
            guard let v = gray(waves[0], p), let w = gray(waves[7], p), let next = gray(waves[0], p + 1) else { continue }
            backdrop += 1
            #expect(v == w && (96...144).contains(v))
            smoothJumps = max(smoothJumps, abs(v - next))
            if let n0 = gray(noisy[0], p), let n1 = gray(noisy[0], p + 1) { noisyJumps = max(noisyJumps, abs(n0 - n1)) }
        }
        #expect(backdrop > 500)
        #expect(smoothJumps <= 9, "the smooth backdrop jumps by \(smoothJumps)")
        #expect(noisyJumps > 20)
        #expect(SyntheticDataset.Configuration(width: 8, height: 8).background == .noise)
    }

    @Test func staticClassesKeepTheirColour() {
        var g = RandomGenerator(seed: 3)
        for _ in 0..<4 {
            let frames = SyntheticDataset.render(.appearance(.disk, .blue), configuration: SyntheticTests.small, using: &g)
            for frame in frames {
                var blueDominant = 0, saturated = 0
                for p in 0..<(32 * 32) {
                    let (r, gr, b) = (Int(frame[3 * p]), Int(frame[3 * p + 1]), Int(frame[3 * p + 2]))
                    if max(r, gr, b) - min(r, gr, b) > 60 {
                        saturated += 1
                        if b > r && b > gr { blueDominant += 1 }
                    }
                }
                #expect(saturated > 20 && blueDominant == saturated)
            }
        }
        #expect(SyntheticClass.appearance(.disk, .blue).subset == .static)
        #expect(SyntheticClass.moving(.left).subset == .temporal)
        #expect(SyntheticClass.standard.map(\.name) == [
            "moving_left", "moving_right", "growing", "shrinking", "red_square", "blue_disk", "green_diamond",
            "yellow_square",
        ])
    }

    @Test func writtenDatasetIsReadableWithTheRightLabels() throws {
        let root = Fixture.directory().path
        let summary = try SyntheticDataset.write(to: root, configuration: SyntheticTests.small)
        #expect(summary.classNames == SyntheticClass.standard.map(\.name))
        let train = try VideoDataset.pathLabelList(at: summary.trainList, root: root, badItemPolicy: .throw)
        let val = try VideoDataset.pathLabelList(at: summary.valList, root: root)
        #expect(train.items.map(\.label) == Array(0..<8))
        #expect(val.items.map(\.label) == Array(0..<8))
        for item in train.items {
            // Each file sits in its class's folder.
            let folder = ((item.path as NSString).deletingLastPathComponent as NSString).lastPathComponent
            #expect(folder == summary.classNames[item.label])
            let reader = try VideoReader(path: item.path)
            #expect(reader.frameCount == 8 && reader.metadata.width == 32 && reader.metadata.height == 32)
        }
        let classes = try String(contentsOfFile: root + "/classes.txt", encoding: .utf8)
        #expect(classes == summary.classNames.joined(separator: "\n") + "\n")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/subsets.json")))
        let subsets = try #require(json as? [String: String])
        #expect(subsets.count == 8)
        #expect(subsets["moving_left"] == "temporal" && subsets["shrinking"] == "temporal")
        #expect(subsets["red_square"] == "static" && subsets["yellow_square"] == "static")
        #expect(summary.subsets["growing"] == .temporal)

        // The files feed the loader directly.
        let config = DataLoaderConfiguration(
            batchSize: 4, frameSize: FrameSize(width: 32, height: 32), sampler: UniformSampler(numFrames: 8),
            shuffle: false, workerCount: 2)
        let batches = try LoaderFixture.all(DataLoader(dataset: train, configuration: config).batches(from: .init(epoch: 0)))
        #expect(batches.map(\.clips.shape) == [[4, 8, 3, 32, 32], [4, 8, 3, 32, 32]])
        #expect(batches.flatMap(\.labels) == Array(0..<8))
    }

    @Test func writingIsDeterministicForASeed() throws {
        var config = SyntheticTests.small
        config.classes = [.moving(.right), .appearance(.square, .red)]
        config.valVideosPerClass = 0
        func decoded(_ seed: UInt64) throws -> [[VideoFrame]] {
            config.seed = seed
            let root = Fixture.directory().path
            let summary = try SyntheticDataset.write(to: root, configuration: config)
            return try VideoDataset.pathLabelList(at: summary.trainList, root: root).items.map {
                try VideoReader(path: $0.path).frames(at: Array(0..<8))
            }
        }
        let first = try decoded(9)
        #expect(try decoded(9) == first)
        #expect(try decoded(10) != first)
        let val = try String(contentsOfFile: try SyntheticDataset.write(
            to: Fixture.directory().path, configuration: config).valList, encoding: .utf8)
        #expect(val.isEmpty)
    }
}

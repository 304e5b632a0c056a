import Foundation
import Testing
import TensorCore
import VideoIO

/// Writes a `side`×`side` PNG of one colour at `path` (folders created).
private func writeImage(_ path: String, red: UInt8, green: UInt8 = 0, side: Int = 8) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    var pixels = [UInt8](repeating: 0, count: side * side * 3)
    for p in 0..<(side * side) { (pixels[3 * p], pixels[3 * p + 1]) = (red, green) }
    try PNGEncoder.writeRGB(width: side, height: side, pixels: pixels, to: URL(fileURLWithPath: path))
}

@Suite struct ImageDatasetTests {
    @Test func imagesDecodeAsOneFrameClips() throws {
        let root = Fixture.directory().path
        try writeImage(root + "/a.png", red: 200, green: 30)
        let item = DatasetItem(path: root + "/a.png", label: 0)
        var g = RandomGenerator(seed: 0)
        let clip = try item.loadClip(sampler: SegmentSampler(segments: 1, mode: .train),
                                     size: FrameSize(width: 8, height: 8), using: &g)
        #expect(clip.shape == [1, 3, 8, 8])
        #expect(clip[0, 0, 3, 3] == Float(200) / 255 && clip[0, 1, 7, 0] == Float(30) / 255 && clip[0, 2, 0, 0] == 0)
    }

    @Test func listThirdColumnIsTheCompanion() throws {
        let list = writeDatasetFile("train/a.png 1 train_bg/a.png\nwith space.png 0\nplain.png 2\n")
        let dataset = try VideoDataset.pathLabelList(at: list, root: "/data")
        #expect(dataset.items.map(\.path) == ["/data/train/a.png", "/data/with space.png", "/data/plain.png"])
        #expect(dataset.items.map(\.label) == [1, 0, 2])
        #expect(dataset.items.map(\.companion) == ["/data/train_bg/a.png", nil, nil])
        // A companion that climbs out of the root is refused like a path that does.
        let outside = writeDatasetFile("a.png 1 ../b.png\n")
        #expect(datasetError { _ = try VideoDataset.pathLabelList(at: outside, root: "/data") }?.line == 1)
    }

    @Test func classFoldersOfImagesWithCompanionsAndKnownClasses() throws {
        let root = Fixture.directory().path
        for (c, name) in ["00_dog", "01_bird"].enumerated() {
            for i in 0..<2 {
                try writeImage("\(root)/train/\(name)/\(i).PNG", red: UInt8(10 * c + i))
                try writeImage("\(root)/train_bg/\(name)/\(i).PNG", red: 99)
            }
        }
        try writeImage("\(root)/train/01_bird/notes.txt.png.bak", red: 1)
        let dataset = try VideoDataset.classFolders(root: root + "/train", extensions: VideoDataset.imageExtensions,
                                                    companionRoot: root + "/train_bg")
        #expect(dataset.classNames == ["00_dog", "01_bird"])
        #expect(dataset.items.map(\.label) == [0, 0, 1, 1])
        #expect(dataset.items.map { $0.companion! } == dataset.items.map { $0.path.replacingOccurrences(of: "/train/", with: "/train_bg/") })

        // Read with another split's classes: labels follow that list.
        let relabelled = try VideoDataset.classFolders(root: root + "/train", extensions: VideoDataset.imageExtensions,
                                                       classNames: ["x", "01_bird", "00_dog"])
        #expect(relabelled.items.map(\.label) == [2, 2, 1, 1])
        let unknown = datasetError {
            _ = try VideoDataset.classFolders(root: root + "/train", extensions: VideoDataset.imageExtensions,
                                              classNames: ["00_dog"])
        }
        #expect(unknown == .unknownClass(path: root + "/train/01_bird", name: "01_bird", known: ["00_dog"]))
        try FileManager.default.removeItem(atPath: "\(root)/train_bg/01_bird/1.PNG")
        let missing = datasetError {
            _ = try VideoDataset.classFolders(root: root + "/train", extensions: VideoDataset.imageExtensions,
                                              companionRoot: root + "/train_bg")
        }
        #expect(missing == .missingCompanion(path: "\(root)/train_bg/01_bird/1.PNG", item: "\(root)/train/01_bird/1.PNG"))
        #expect(missing?.description.contains("train_bg/01_bird/1.PNG") == true)
    }

    @Test func loaderAppendsTheCompanionWithTheSameTransform() throws {
        let root = Fixture.directory().path
        var lines = ""
        for i in 0..<4 {
            try writeImage("\(root)/img/\(i).png", red: UInt8(40 * i + 20))
            try writeImage("\(root)/bg/\(i).png", red: 0, green: UInt8(40 * i + 20))
            lines += "img/\(i).png \(i % 2) bg/\(i).png\n"
        }
        let dataset = try VideoDataset.pathLabelList(at: writeDatasetFile(lines), root: root)
        let loader = DataLoader(dataset: dataset, configuration: DataLoaderConfiguration(
            batchSize: 2, frameSize: FrameSize(width: 8, height: 8), sampler: SegmentSampler(segments: 1, mode: .train),
            shuffle: true, seed: 3, workerCount: 1,
            views: { window, generator in
                // A crop whose offset is random: both halves must get the same one.
                let cropped = try ClipTransforms.randomCrop(window, size: 4, using: &generator)
                return [cropped.indexSelect(axis: 0, indices: [0]), cropped.indexSelect(axis: 0, indices: [1])]
            }, decodesCompanions: true))
        let batches = loader.batches(from: .init(epoch: 0))
        var seen = 0
        while let batch = try batches.next() {
            #expect(batch.views.count == 2 && batch.views[1].shape == [2, 1, 3, 4, 4])
            for (b, item) in batch.itemIndices.enumerated() {
                let level = Float(40 * item + 20) / 255
                #expect(batch.clips[b, 0, 0, 1, 1] == level && batch.clips[b, 0, 1, 1, 1] == 0)
                #expect(batch.views[1][b, 0, 0, 1, 1] == 0 && batch.views[1][b, 0, 1, 1, 1] == level)
                seen += 1
            }
        }
        #expect(seen == 4)

        // An item without a companion is unreadable when companions are asked for.
        let bare = try VideoDataset.pathLabelList(at: writeDatasetFile("img/0.png 0\n"), root: root)
        var strict = bare
        strict.badItemPolicy = .throw
        let failing = DataLoader(dataset: strict, configuration: DataLoaderConfiguration(
            batchSize: 1, frameSize: FrameSize(width: 8, height: 8), sampler: SegmentSampler(segments: 1, mode: .train),
            workerCount: 1, decodesCompanions: true))
        let error = datasetError { _ = try failing.batches(from: .init(epoch: 0)).next() }
        guard case .unreadableItem(let path, _, let reason) = error else {
            Issue.record("expected unreadableItem, got \(String(describing: error))")
            return
        }
        #expect(path == root + "/img/0.png" && reason.contains("no companion"))
    }
}

@Suite struct BackgroundsChallengeLayoutTests {
    @Test func variantsWithAndWithoutValFoldersShareTheOriginalsLabels() throws {
        let root = Fixture.directory().path
        for name in ["00_dog", "01_bird", "02_wheeled"] { try writeImage("\(root)/original/val/\(name)/a.JPEG", red: 5) }
        // mixed_rand without val/ and with only two of the classes: labels still follow original.
        for name in ["01_bird", "02_wheeled"] { try writeImage("\(root)/mixed_rand/\(name)/a.JPEG", red: 5) }
        let challenge = try BackgroundsChallenge(root: root)
        #expect(challenge.classNames == ["00_dog", "01_bird", "02_wheeled"])
        #expect(challenge.availableVariants == [.original, .mixedRand])
        #expect(try challenge.dataset(.original).items.map(\.label) == [0, 1, 2])
        let mixed = try challenge.dataset(.mixedRand)
        #expect(mixed.items.map(\.label) == [1, 2] && mixed.badItemPolicy == .throw)
        #expect(BackgroundsChallenge.folder(of: .mixedRand, in: root) == root + "/mixed_rand")

        #expect(datasetError { _ = try challenge.dataset(.onlyFG) }
                == .missingFolder(path: root + "/only_fg", expected: "<root>/only_fg[/val]/<class>/<image>"))
        try writeImage("\(root)/mixed_same/val/03_fish/a.JPEG", red: 5)
        #expect(datasetError { _ = try challenge.dataset(.mixedSame) }
                == .unknownClass(path: root + "/mixed_same/val/03_fish", name: "03_fish",
                                 known: ["00_dog", "01_bird", "02_wheeled"]))
        #expect(datasetError { _ = try BackgroundsChallenge(root: root + "/nowhere") }?.path == root + "/nowhere/original")
        #expect(BackgroundsChallenge.backgroundGap(mixedSame: 0.74, mixedRand: 0.51) == 0.74 - 0.51)
    }

    @Test func undecodableImagesAreReportedWithTheirPath() throws {
        let root = Fixture.directory().path
        try writeImage("\(root)/original/00_dog/good.png", red: 5)
        let bad = "\(root)/original/00_dog/broken.png"
        _ = FileManager.default.createFile(atPath: bad, contents: Data("not a png".utf8))
        let dataset = try BackgroundsChallenge(root: root).dataset(.original)
        let loader = DataLoader(dataset: dataset, configuration: DataLoaderConfiguration(
            batchSize: 2, frameSize: FrameSize(width: 8, height: 8), sampler: SegmentSampler(segments: 1, mode: .test),
            shuffle: false, dropLast: false, workerCount: 1))
        let error = datasetError { _ = try loader.batches(from: .init(epoch: 0)).next() }
        #expect(error?.path == bad)
    }
}

@Suite struct SyntheticBackgroundsTests {
    @Test func writesTheLayoutDeterministically() throws {
        let config = SyntheticBackgrounds.Configuration(size: 16, classCount: 3, trainImagesPerClass: 3,
                                                        testImagesPerClass: 2, correlation: 1, seed: 4)
        let a = Fixture.directory().path, b = Fixture.directory().path
        let summary = try SyntheticBackgrounds.write(to: a, configuration: config)
        try SyntheticBackgrounds.write(to: b, configuration: config)
        #expect(summary.classNames == ["00_circle", "01_square", "02_triangle"])
        let train = try VideoDataset.pathLabelList(at: summary.trainList, root: a)
        #expect(train.count == 9 && train.items.allSatisfy { $0.companion != nil })
        let challenge = try BackgroundsChallenge(root: summary.challengeRoot)
        #expect(challenge.availableVariants == SyntheticBackgrounds.variants)
        let files = try FileManager.default.subpathsOfDirectory(atPath: a).filter { $0.hasSuffix(".png") }.sorted()
        #expect(files.count == 9 * 2 + 8 * 6)
        for file in files {
            #expect(FileManager.default.contents(atPath: a + "/" + file) == FileManager.default.contents(atPath: b + "/" + file),
                    "\(file) differs between two writes")
        }
        // Another seed draws other images.
        let c = Fixture.directory().path
        var reseeded = config
        reseeded.seed = 5
        try SyntheticBackgrounds.write(to: c, configuration: reseeded)
        #expect(FileManager.default.contents(atPath: a + "/" + files[0]) != FileManager.default.contents(atPath: c + "/" + files[0]))
    }

    @Test func variantsKeepAndRemoveWhatTheirNamesSay() throws {
        let config = SyntheticBackgrounds.Configuration(size: 16, classCount: 2, trainImagesPerClass: 1,
                                                        testImagesPerClass: 1, correlation: 1, seed: 1)
        let root = Fixture.directory().path
        let summary = try SyntheticBackgrounds.write(to: root, configuration: config)
        func pixels(_ variant: String) throws -> Tensor {
            var g = RandomGenerator(seed: 0)
            return try DatasetItem(path: "\(summary.challengeRoot)/\(variant)/val/00_circle/00_circle_0000.png", label: 0)
                .loadClip(sampler: SegmentSampler(segments: 1, mode: .test), size: FrameSize(width: 16, height: 16), using: &g)
        }
        let original = try pixels("original"), onlyFG = try pixels("only_fg"), onlyBG = try pixels("only_bg_t")
        let noFG = try pixels("no_fg"), mixedNext = try pixels("mixed_next")
        var foreground = 0
        for y in 0..<16 {
            for x in 0..<16 {
                let isForeground = (0..<3).contains { onlyFG[0, $0, y, x] != 0 }
                if isForeground {
                    foreground += 1
                    // The shape is drawn identically on every mixed background.
                    for c in 0..<3 { #expect(original[0, c, y, x] == onlyFG[0, c, y, x] && mixedNext[0, c, y, x] == onlyFG[0, c, y, x]) }
                    for c in 0..<3 { #expect(noFG[0, c, y, x] == 0) }
                } else {
                    for c in 0..<3 { #expect(original[0, c, y, x] == onlyBG[0, c, y, x]) }
                }
            }
        }
        #expect(foreground > 16 && foreground < 200)
        // The training background-only image is the training image without its shape.
        let train = try VideoDataset.pathLabelList(at: summary.trainList, root: root)
        var g = RandomGenerator(seed: 0)
        let image = try train.items[0].loadClip(sampler: SegmentSampler(segments: 1, mode: .test),
                                                size: FrameSize(width: 16, height: 16), using: &g)
        let background = try DatasetItem(path: train.items[0].companion!, label: 0)
            .loadClip(sampler: SegmentSampler(segments: 1, mode: .test), size: FrameSize(width: 16, height: 16), using: &g)
        let differing = zip(image.scalars, background.scalars).filter { $0 != $1 }.count
        #expect(differing > 0 && differing < image.count / 2)
    }
}

import Foundation
import Testing
import TensorCore
import VideoIO

/// Ten tiny lossless videos, written once: video `v` frame `f` is the flat colour
/// (20 v + 5, 30 f, 7), so any pixel names its video and frame. Labels are `v % 3`.
enum LoaderFixture {
    static let videoCount = 10
    static let size = FrameSize(width: 16, height: 16)

    static let paths: [String] = {
        let directory = Fixture.directory()
        return (0..<videoCount).map { v in
            let path = directory.appendingPathComponent("v\(v).mkv").path
            // Fixture videos are created by the test itself; a failure here is a broken test setup.
            let writer = try! VideoWriter(path: path, width: 16, height: 16, fps: 10, codec: .ffv1)
            for f in 0..<6 {
                let pixel: [UInt8] = [UInt8(20 * v + 5), UInt8(30 * f), 7]
                try! writer.append(rgb: Array((0..<(16 * 16)).map { _ in pixel }.joined()))
            }
            try! writer.finish()
            return path
        }
    }()

    static func dataset(policy: BadItemPolicy = .skip, replacing bad: [Int: String] = [:]) -> VideoDataset {
        VideoDataset(
            items: paths.enumerated().map { DatasetItem(path: bad[$0.offset] ?? $0.element, label: $0.offset % 3) },
            badItemPolicy: policy)
    }

    static func configuration(
        batchSize: Int = 3, workers: Int = 2, prefetch: Int? = nil, shuffle: Bool = true, dropLast: Bool = false,
        seed: UInt64 = 11, transform: DataLoader.ClipTransform? = nil
    ) -> DataLoaderConfiguration {
        DataLoaderConfiguration(
            batchSize: batchSize, frameSize: size, sampler: RandomClipSampler(clipLength: 3), shuffle: shuffle,
            dropLast: dropLast, seed: seed, workerCount: workers, prefetch: prefetch, transform: transform)
    }

    /// Adds generator-drawn noise so augmentation randomness shows in the batches.
    static let noise: DataLoader.ClipTransform = { clip, generator in
        clip = clip + Tensor.uniform(clip.shape, low: 0, high: 0.01, using: &generator)
    }

    static func all(_ iterator: DataLoaderIterator) throws -> [DataLoader.Batch] {
        var batches: [DataLoader.Batch] = []
        while let batch = try iterator.next() { batches.append(batch) }
        return batches
    }

    /// The video a decoded pixel value came from.
    static func video(ofRed red: Float) -> Int { Int((red * 255 - 5) / 20 + 0.5) }
}

@Suite struct LoaderTests {
    @Test func batchesCarryClipsLabelsAndPositions() throws {
        let loader = DataLoader(dataset: LoaderFixture.dataset(), configuration: LoaderFixture.configuration(batchSize: 4, shuffle: false))
        #expect(loader.batchesPerEpoch == 3)
        let batches = try LoaderFixture.all(loader.batches(from: .init(epoch: 0)))
        #expect(batches.map(\.clips.shape) == [[4, 3, 3, 16, 16], [4, 3, 3, 16, 16], [2, 3, 3, 16, 16]])
        #expect(batches.flatMap(\.itemIndices) == Array(0..<10))
        #expect(batches.flatMap(\.labels) == (0..<10).map { $0 % 3 })
        #expect(batches.map(\.position) == [.init(epoch: 0, batchIndex: 0), .init(epoch: 0, batchIndex: 1), .init(epoch: 0, batchIndex: 2)])
        #expect(batches.last?.nextPosition == .init(epoch: 1, batchIndex: 0))
        for batch in batches {
            for (b, item) in batch.itemIndices.enumerated() {
                // Channel 0 names the video; channel 1 rises by 30 per frame along the clip.
                #expect(LoaderFixture.video(ofRed: batch.clips[b, 0, 0, 5, 5]) == item)
                let first = batch.clips[b, 0, 1, 0, 0] * 255
                #expect(abs(batch.clips[b, 2, 1, 15, 15] * 255 - first - 60) < 0.01)
                #expect(abs(batch.clips[b, 1, 2, 3, 3] * 255 - 7) < 0.01)
            }
        }
        let dropping = DataLoader(
            dataset: LoaderFixture.dataset(), configuration: LoaderFixture.configuration(batchSize: 4, dropLast: true))
        #expect(dropping.batchesPerEpoch == 2)
        #expect(try LoaderFixture.all(dropping.batches(from: .init(epoch: 0))).count == 2)
    }

    @Test func batchesAreIdenticalForOneTwoAndThreeWorkers() throws {
        func run(_ workers: Int, epoch: Int) throws -> [DataLoader.Batch] {
            let config = LoaderFixture.configuration(workers: workers, transform: LoaderFixture.noise)
            return try LoaderFixture.all(DataLoader(dataset: LoaderFixture.dataset(), configuration: config)
                .batches(from: .init(epoch: epoch)))
        }
        let reference = try run(1, epoch: 0)
        #expect(Set(reference.flatMap(\.itemIndices)) == Set(0..<10))
        for workers in [2, 3] {
            let other = try run(workers, epoch: 0)
            #expect(other.map(\.clips) == reference.map(\.clips))
            #expect(other.map(\.labels) == reference.map(\.labels))
            #expect(other.map(\.itemIndices) == reference.map(\.itemIndices))
        }
        // A new epoch reshuffles: another order and other augmentation.
        let next = try run(2, epoch: 1)
        #expect(next.flatMap(\.itemIndices) != reference.flatMap(\.itemIndices))
        #expect(Set(next.flatMap(\.itemIndices)) == Set(0..<10))
    }

    @Test func workersNeverRunMoreThanPrefetchBatchesAhead() throws {
        let loader = DataLoader(
            dataset: LoaderFixture.dataset(), configuration: LoaderFixture.configuration(batchSize: 1, workers: 3, prefetch: 2))
        let iterator = loader.batches(from: .init(epoch: 0))
        var count = 0
        while try iterator.next() != nil {
            count += 1
            Thread.sleep(forTimeInterval: 0.01)  // a slow consumer lets the workers fill the queue
        }
        #expect(count == 10)
        #expect(iterator.statistics.peakBatchesInFlight == 2)
        #expect(iterator.statistics.batchesDelivered == 10)
    }

    @Test func dataWaitIsReportedPerBatch() throws {
        let slow: DataLoader.ClipTransform = { _, _ in Thread.sleep(forTimeInterval: 0.03) }
        let config = LoaderFixture.configuration(batchSize: 2, workers: 1, prefetch: 1, transform: slow)
        let iterator = DataLoader(dataset: LoaderFixture.dataset(), configuration: config).batches(from: .init(epoch: 0))
        let batches = try LoaderFixture.all(iterator)
        #expect(batches.count == 5)
        // One worker, one slot: each batch is built only after the previous one is taken (≥ 60 ms).
        #expect(batches.allSatisfy { $0.dataWaitSeconds >= 0.04 })
        let total = batches.map(\.dataWaitSeconds).reduce(0, +)
        #expect(abs(iterator.statistics.totalDataWaitSeconds - total) < 1e-9)
    }

    @Test func closingStopsEveryWorker() throws {
        let loader = DataLoader(
            dataset: LoaderFixture.dataset(), configuration: LoaderFixture.configuration(batchSize: 1, workers: 3, prefetch: 3))
        let iterator = loader.batches(from: .init(epoch: 0))
        #expect(try iterator.next() != nil)
        iterator.close()
        #expect(iterator.runningWorkers == 0)
        #expect(try iterator.next() == nil)
        iterator.close()

        let finished = loader.batches(from: .init(epoch: 0))
        #expect(try LoaderFixture.all(finished).count == 10)
        #expect(finished.runningWorkers == 0)
    }

    @Test func resumingFromAPositionReproducesTheRemainingBatches() throws {
        let loader = DataLoader(
            dataset: LoaderFixture.dataset(),
            configuration: LoaderFixture.configuration(batchSize: 2, workers: 2, transform: LoaderFixture.noise))
        let full = try LoaderFixture.all(loader.batches(from: .init(epoch: 3)))
        #expect(full.count == 5)
        let resumed = try LoaderFixture.all(loader.batches(from: full[1].nextPosition))
        #expect(resumed.map(\.position) == full[2...].map(\.position))
        #expect(resumed.map(\.clips) == full[2...].map(\.clips))
        #expect(resumed.map(\.itemIndices) == full[2...].map(\.itemIndices))
        #expect(try loader.batches(from: full[4].nextPosition).next()?.position == .init(epoch: 4, batchIndex: 0))
        #expect(try loader.batches(from: .init(epoch: 3, batchIndex: 5)).next() == nil)
    }

    @Test func unreadableItemsAreSkippedCountedAndReplacedDeterministically() throws {
        let missing = Fixture.directory().appendingPathComponent("gone.mp4").path
        let corrupt = writeDatasetFile("definitely not a video", name: "corrupt.mp4")
        let dataset = LoaderFixture.dataset(replacing: [3: missing, 4: corrupt, 9: missing + "x"])
        func run(_ workers: Int) throws -> ([DataLoader.Batch], DataLoaderStatistics) {
            let config = LoaderFixture.configuration(batchSize: 4, workers: workers, shuffle: false)
            let iterator = DataLoader(dataset: dataset, configuration: config).batches(from: .init(epoch: 0))
            return (try LoaderFixture.all(iterator), iterator.statistics)
        }
        let (batches, stats) = try run(1)
        // 3 and 4 fall through to 5; 9 wraps around to 0.
        #expect(batches.flatMap(\.itemIndices) == [0, 1, 2, 5, 5, 5, 6, 7, 8, 0])
        #expect(batches.flatMap(\.labels) == [0, 1, 2, 2, 2, 2, 0, 1, 2, 0])
        #expect(stats.skippedItems == 3)
        #expect(stats.skippedPaths == [corrupt, missing, missing + "x"].sorted())
        #expect(stats.replacedSamples == 3)
        let (other, otherStats) = try run(3)
        #expect(other.map(\.clips) == batches.map(\.clips))
        #expect(otherStats.skippedPaths == stats.skippedPaths)
    }

    @Test func throwPolicyStopsAtTheFirstUnreadableItem() throws {
        let missing = Fixture.directory().appendingPathComponent("gone.mp4").path
        let dataset = LoaderFixture.dataset(policy: .throw, replacing: [5: missing])
        let iterator = DataLoader(dataset: dataset, configuration: LoaderFixture.configuration(batchSize: 4, shuffle: false))
            .batches(from: .init(epoch: 0))
        #expect(try iterator.next()?.itemIndices == [0, 1, 2, 3])
        let error = datasetError { _ = try iterator.next() }
        guard case .unreadableItem(let path, let index, _) = error else {
            Issue.record("expected unreadableItem, got \(String(describing: error))")
            return
        }
        #expect(path == missing && index == 5)
        #expect(iterator.runningWorkers == 0)
        #expect(try iterator.next() == nil)
    }

    @Test func extrasAreComputedPerSampleAndStacked() throws {
        var config = LoaderFixture.configuration(batchSize: 4, shuffle: false)
        config.extras["video"] = { clip in IntTensor([LoaderFixture.video(ofRed: clip[0, 0, 0, 0]), clip.shape[0]]) }
        let batch = try #require(try DataLoader(dataset: LoaderFixture.dataset(), configuration: config)
            .batches(from: .init(epoch: 0)).next())
        #expect(batch.extras["video"] == IntTensor(shape: [4, 2], scalars: [0, 3, 1, 3, 2, 3, 3, 3]))

        // A still clip has no motion anywhere: every flow-direction label is 0 ("static").
        let still = Tensor(repeating: 0.3, shape: [3, 3, 16, 16])
        let flow = try DataLoader.flowDirections(FlowDirectionLabels(patchSize: 8))(still)
        #expect(flow == IntTensor(shape: [2, 4], scalars: Array(repeating: 0, count: 8)))
    }
}

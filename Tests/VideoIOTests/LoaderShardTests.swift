import Foundation
import Testing
import TensorCore
import VideoIO

/// Data-parallel sharding: rank r of n takes batches b with b % n == r, built exactly as one
/// process builds them, and the ranks together cover the single-process epoch.
@Suite struct LoaderShardTests {
    @Test func shardsAreDisjointAndTogetherAreTheSingleProcessEpoch() throws {
        let loader = DataLoader(dataset: LoaderFixture.dataset(),
                                configuration: LoaderFixture.configuration(batchSize: 2, transform: LoaderFixture.noise))
        #expect(loader.batchesPerEpoch == 5)
        let whole = try LoaderFixture.all(loader.batches(from: .init(epoch: 1)))
        let ranks = try (0..<2).map { r in
            try LoaderFixture.all(loader.batches(from: .init(epoch: 1), shard: .init(index: r, count: 2), end: 4))
        }
        #expect(ranks[0].map(\.position.batchIndex) == [0, 2])
        #expect(ranks[1].map(\.position.batchIndex) == [1, 3])
        // After its group of two batches, every rank is at the same place.
        #expect(ranks[0].map(\.nextPosition.batchIndex) == [2, 4])
        #expect(ranks[1].map(\.nextPosition.batchIndex) == [2, 4])
        for batch in ranks.flatMap({ $0 }) {
            let reference = whole[batch.position.batchIndex]
            #expect(batch.itemIndices == reference.itemIndices)
            #expect(batch.clips.scalars == reference.clips.scalars)
            #expect(batch.labels == reference.labels)
        }
        let covered = ranks.flatMap { $0.flatMap(\.itemIndices) }.sorted()
        #expect(covered == whole.prefix(4).flatMap(\.itemIndices).sorted())
        #expect(Set(ranks[0].flatMap(\.itemIndices)).isDisjoint(with: ranks[1].flatMap(\.itemIndices)))
    }

    @Test func aShardResumesFromAGroupBoundary() throws {
        let loader = DataLoader(dataset: LoaderFixture.dataset(), configuration: LoaderFixture.configuration(batchSize: 2))
        let rest = try LoaderFixture.all(loader.batches(from: .init(epoch: 0, batchIndex: 2), shard: .init(index: 1, count: 2)))
        #expect(rest.map(\.position.batchIndex) == [3])
        // The last group (batch 4 alone) ends the epoch.
        #expect(rest.last?.nextPosition == DataLoader.Position(epoch: 0, batchIndex: 4))
        let first = try LoaderFixture.all(loader.batches(from: .init(epoch: 0, batchIndex: 2), shard: .init(index: 0, count: 2)))
        #expect(first.map(\.position.batchIndex) == [2, 4])
        #expect(first.last?.nextPosition == DataLoader.Position(epoch: 1, batchIndex: 0))
    }
}

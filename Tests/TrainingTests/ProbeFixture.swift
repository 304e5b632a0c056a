import Foundation
import TensorCore
import Testing
import Training

/// The data and reference results of Scripts/reference/make_probe_fixtures.py (NumPy, scikit-learn).
struct ProbeFixture {
    let file: SafeTensorsFile
    let train: FeatureSet
    let test: FeatureSet

    init() throws {
        let url = try #require(Bundle.module.url(
            forResource: "probe_fixture", withExtension: "safetensors", subdirectory: "Fixtures/probes"))
        file = try SafeTensors.read(contentsOf: url)
        train = try FeatureSet(features: file.tensor(named: "train.features"), labels: file.integers(named: "train.labels").values)
        test = try FeatureSet(features: file.tensor(named: "test.features"), labels: file.integers(named: "test.labels").values)
    }

    func integers(_ name: String) throws -> (shape: [Int], values: [Int]) { try file.integers(named: name) }

    /// An `F64` array's values, exactly.
    func doubles(_ name: String) throws -> [Double] {
        let bytes = try file.rawBytes(named: name)
        return stride(from: 0, to: bytes.count, by: 8).map { offset in
            bytes[(bytes.startIndex + offset)..<(bytes.startIndex + offset + 8)].withUnsafeBytes {
                Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))
            }
        }
    }
}

/// Random features with well-separated classes: class means N(0, 1)·`spread`, rows mean + N(0, 1).
func clusteredFeatures(rows: Int, width: Int, classes: Int, spread: Float, seed: UInt64, viewsPerVideo: Int = 1) throws -> FeatureSet {
    var means = RandomGenerator(seed: 1234)
    let centres = Tensor.normal([classes, width], std: spread, using: &means).scalars
    var g = RandomGenerator(seed: seed)
    var values: [Float] = [], labels: [Int] = [], indices: [Int] = []
    for video in 0..<rows {
        let label = g.nextInt(below: classes)
        for _ in 0..<viewsPerVideo {
            values += (0..<width).map { centres[label * width + $0] + g.nextNormal() }
            labels.append(label)
            indices.append(video)
        }
    }
    return try FeatureSet(features: Tensor(shape: [labels.count, width], scalars: values), labels: labels, indices: indices)
}

import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// Runs a backbone over every view of every video of a dataset and scores the combined outputs.
///
/// The model is put in evaluation mode and run under `noGrad`; its previous mode is restored
/// afterwards. Videos are read in dataset order; one loader pass decodes each temporal clip once
/// and yields all of its crops. An unreadable video is skipped (under the dataset's `.skip`
/// policy) and left out of the scores.
///
/// ```swift
/// let evaluator = Evaluator(EvaluationConfiguration(frames: 8, cropSize: 112))
/// let both = try evaluator.evaluateOriginalAndShuffled(model, on: dataset, subsets: subsets)
/// print(both.gap.gap)
/// ```
public struct Evaluator: Sendable {
    /// The test pipeline.
    public var configuration: EvaluationConfiguration

    /// Creates an evaluator.
    public init(_ configuration: EvaluationConfiguration = EvaluationConfiguration()) {
        self.configuration = configuration
    }

    /// What each view contributes.
    public enum ViewOutput: Sendable, Hashable {
        /// Class logits `[K]` (the head applied to the class embedding).
        case logits
        /// The class embedding `[C]` before the head.
        case classEmbedding
        /// The backbone's retrieval features (``RetrievalFeatureBackbone``; the class embedding
        /// for a backbone without them).
        case retrievalFeatures
    }

    /// Per-video outputs of ``outputs(of:on:kind:shuffledFrames:)``, or per-view outputs of
    /// ``viewOutputs(of:on:kind:)``.
    public struct VideoOutputs: Sendable {
        /// One combined row per evaluated video (or one row per view), `[N, D]`.
        public var values: Tensor
        /// The label of each row's video.
        public var labels: [Int]
        /// Each row's index into the dataset's items (repeated for the views of one video).
        public var videoIndices: [Int]
        /// Videos of the dataset left out because they could not be read.
        public var skipped: Int
    }

    /// Combined view outputs of every readable video, rows in dataset order.
    ///
    /// With `shuffledFrames`, the frames of every clip in a loader batch are reordered by one
    /// permutation, ``framePermutation(seed:pass:batch:frameCount:)``, before the forward.
    /// - Throws: the loader's ``DatasetError`` under the `.throw` policy, a
    ///   ``EvaluationError/nothingEvaluated(count:)`` when no video could be read.
    public func outputs(
        of model: any VideoBackbone, on dataset: VideoDataset, kind: ViewOutput = .logits, shuffledFrames: Bool = false
    ) throws -> VideoOutputs {
        var accumulator: ViewAccumulator? = nil
        try forEachView(of: model, on: dataset, kind: kind, shuffledFrames: shuffledFrames) { out, videos, _ in
            if accumulator == nil { accumulator = ViewAccumulator(videoCount: dataset.count, width: out.shape[1]) }
            let softmax = configuration.aggregation == .softmaxMean && kind == .logits
            accumulator!.add(softmax ? noGrad { out.softmax(axis: -1) } : out, videos: videos)
        }
        guard let accumulator, !accumulator.videos.isEmpty else { throw EvaluationError.nothingEvaluated(count: dataset.count) }
        let (values, videos) = accumulator.result(configuration.aggregation)
        return VideoOutputs(values: values, labels: videos.map { dataset.items[$0].label }, videoIndices: videos,
                            skipped: dataset.count - videos.count)
    }

    /// Every view's output of every readable video, not combined: one row per view, the views of
    /// a video next to each other in view order (clip-major, then crop) and videos in dataset
    /// order. ``VideoOutputs/videoIndices`` repeats each video's index once per view.
    ///
    /// - Throws: as ``outputs(of:on:kind:shuffledFrames:)``.
    public func viewOutputs(
        of model: any VideoBackbone, on dataset: VideoDataset, kind: ViewOutput = .classEmbedding
    ) throws -> VideoOutputs {
        var rows: [(video: Int, view: Int, values: [Float])] = []
        var width = 0
        try forEachView(of: model, on: dataset, kind: kind, shuffledFrames: false) { out, videos, view in
            width = out.shape[1]
            out.withUnsafeBufferPointer { v in
                for (i, video) in videos.enumerated() {
                    rows.append((video, view, Array(v[(i * width)..<((i + 1) * width)])))
                }
            }
        }
        guard !rows.isEmpty else { throw EvaluationError.nothingEvaluated(count: dataset.count) }
        rows.sort { ($0.video, $0.view) < ($1.video, $1.view) }
        let values = Tensor(shape: [rows.count, width]) { out in
            for (i, row) in rows.enumerated() {
                for j in 0..<width { out[i * width + j] = row.values[j] }
            }
        }
        let videos = rows.map(\.video)
        return VideoOutputs(values: values, labels: videos.map { dataset.items[$0].label }, videoIndices: videos,
                            skipped: dataset.count - Set(videos).count)
    }

    /// Runs the model over every view and hands each chunk of outputs `[B, D]` to `body` with the
    /// chunk's videos and its view (`clip × crops + crop`).
    private func forEachView(
        of model: any VideoBackbone, on dataset: VideoDataset, kind: ViewOutput, shuffledFrames: Bool,
        _ body: (Tensor, [Int], Int) -> Void
    ) throws {
        let c = configuration
        let wasTraining = model.isTraining
        model.eval()
        defer { model.setTraining(wasTraining) }
        for pass in 0..<c.clips {
            let loader = DataLoader(dataset: dataset, configuration: DataLoaderConfiguration(
                batchSize: c.batchSize, frameSize: c.frameSize ?? FrameSize(width: c.cropSize, height: c.cropSize),
                sampler: ClipAtIndex(base: c.sampler, index: pass), shuffle: false, dropLast: false, seed: c.seed,
                workerCount: c.workerCount, transform: { clip, _ in clip = try c.prepare(clip) }))
            let batches = loader.batches(from: .init(epoch: 0))
            defer { batches.close() }
            // Under `.skip` an unreadable video is replaced by a later one, which then shows up twice in a
            // pass; only its first appearance counts.
            var seen = Set<Int>()
            while let batch = try batches.next() {
                let rows = batch.itemIndices.indices.filter { seen.insert(batch.itemIndices[$0]).inserted }
                guard !rows.isEmpty else { continue }
                let permutation = shuffledFrames
                    ? Evaluator.framePermutation(seed: c.seed, pass: pass, batch: batch.position.batchIndex, frameCount: c.frames)
                    : nil
                let videos = rows.map { batch.itemIndices[$0] }
                noGrad {
                    let clips = rows.count == batch.itemIndices.count
                        ? batch.clips : batch.clips.indexSelect(axis: 0, indices: rows)
                    for crop in 0..<c.crops {
                        var view = clips.slice(axis: 1, range: (crop * c.frames)..<((crop + 1) * c.frames))
                        if let permutation { view = DebiasLoss.shuffleFrames(view, permutation: permutation) }
                        for start in stride(from: 0, to: rows.count, by: c.maxClipsPerForward) {
                            let end = min(start + c.maxClipsPerForward, rows.count)
                            let chunk = start == 0 && end == rows.count ? view : view.slice(axis: 0, range: start..<end)
                            let out: Tensor
                            switch kind {
                            case .logits: out = model.head(model.classEmbedding(chunk))
                            case .classEmbedding: out = model.classEmbedding(chunk)
                            case .retrievalFeatures: out = model.retrievalEmbedding(chunk)
                            }
                            body(out, Array(videos[start..<end]), pass * c.crops + crop)
                        }
                    }
                }
            }
        }
    }

    /// The report of one evaluation, with per-subset reports when `subsets` is given.
    ///
    /// - Throws: as ``outputs(of:on:kind:shuffledFrames:)``,
    ///   ``EvaluationError/labelOutOfRange(label:classCount:path:)`` for a label the model has no class
    ///   for, and ``EvaluationError/nonFiniteOutputs(videos:first:)`` when any output is NaN or infinite.
    public func evaluate(
        _ model: any VideoBackbone, on dataset: VideoDataset, shuffledFrames: Bool = false, subsets: ClassSubsets? = nil
    ) throws -> EvaluationReport {
        let result = try outputs(of: model, on: dataset, kind: .logits, shuffledFrames: shuffledFrames)
        let broken = ClassificationMetrics.nonFiniteRows(result.values)
        if let first = broken.first {
            throw EvaluationError.nonFiniteOutputs(videos: broken.count, first: dataset.items[result.videoIndices[first]].path)
        }
        let classCount = result.values.shape[1]
        for (label, index) in zip(result.labels, result.videoIndices) where label >= classCount {
            throw EvaluationError.labelOutOfRange(label: label, classCount: classCount, path: dataset.items[index].path)
        }
        let names = dataset.classNames.flatMap { $0.count == classCount ? $0 : nil }
        return EvaluationReport(logits: result.values, labels: result.labels, classNames: names, subsets: subsets)
    }

    /// Evaluates with the original frame order and with shuffled frames, and their Gap.
    public func evaluateOriginalAndShuffled(
        _ model: any VideoBackbone, on dataset: VideoDataset, subsets: ClassSubsets? = nil
    ) throws -> ShuffledEvaluation {
        let original = try evaluate(model, on: dataset, shuffledFrames: false, subsets: subsets)
        let shuffled = try evaluate(model, on: dataset, shuffledFrames: true, subsets: subsets)
        return ShuffledEvaluation(original: original, shuffled: shuffled)
    }

    /// The frame permutation of loader batch `batch` in temporal pass `pass`: a pure function of its
    /// arguments, so a shuffled evaluation repeats exactly for a seed whatever the thread timing.
    public static func framePermutation(seed: UInt64, pass: Int, batch: Int, frameCount: Int) -> [Int] {
        var generator = RandomGenerator(seed: mix(mix(mix(seed) ^ UInt64(pass)) ^ UInt64(batch)))
        return DebiasLoss.framePermutation(frameCount: frameCount, using: &generator)
    }

    /// SplitMix64's finaliser: neighbouring inputs give unrelated seeds.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Clip `index` of another sampler's clips, so one loader pass decodes one temporal view.
struct ClipAtIndex: ClipSampler {
    let base: any ClipSampler
    let index: Int

    func clips(frameCount: Int, using generator: inout RandomGenerator) -> [ClipInfo] {
        let all = base.clips(frameCount: frameCount, using: &generator)
        precondition(index < all.count, "ClipAtIndex: clip \(index) of \(all.count)")
        return [all[index]]
    }
}

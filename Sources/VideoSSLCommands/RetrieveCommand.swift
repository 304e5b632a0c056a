import ArgumentParser
import Foundation
import Training

/// `videossl retrieve`: IIC's nearest-neighbour video retrieval R@k of frozen features.
struct RetrieveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Video retrieval top-k (R@k) of frozen features: IIC's clip retrieval protocol.",
        discussion: """
            Extract the features of the gallery (training list) and the queries (test list) first, with \
            IIC's clips (10 clips of 16 consecutive frames around evenly spaced centres, 171×128, centre \
            crop 112, values in [0, 1]):

              videossl extract-features --model M --weights W --root DIR --list train.txt \\
                  --sampling centred --clips 10 --frames 16 --decode-size 171x128 \\
                  --resize-short-side 128 --size 112 --crops 1 --mean 0,0,0 --std 1,1,1 \\
                  --retrieval-features --output train_rgb.safetensors
              (the same for test.txt; add --input residual for the residual view)
              videossl retrieve --train train_rgb.safetensors --val test_rgb.safetensors

            Each video's feature is the mean of its rows; similarity is the cosine. A query is a hit at k \
            when any of its k most similar training videos has its class; equal similarities rank in \
            list order. With --merge, give --train and --val once per modality (RGB first, as IIC): \
            each video's features are concatenated. --drop-last 8 leaves out the trailing videos that \
            IIC's batch-8 drop_last loaders never see (UCF101 split 1: 1 training and 7 test videos), \
            for exact comparison with its numbers.
            """)

    @Option(help: "Gallery features (the training list), written by extract-features; repeat with --merge.")
    var train: [String]

    @Option(help: "Query features (the test list), written by extract-features; repeat with --merge.")
    var val: [String]

    @Option(help: "Neighbours, comma-separated (default 1,5,10,20,50).")
    var k: ListOption<Int>?

    @Flag(help: "Concatenate the features of several files per split (e.g. RGB and residual), in the order given.")
    var merge = false

    @Option(help: "Leave out the trailing videos of each set beyond whole batches of this size (IIC: 8).")
    var dropLast: Int?

    @Option(help: "Write the results to this JSON file.")
    var json: String?

    func validate() throws {
        guard !train.isEmpty, !val.isEmpty else { throw ValidationError("--train and --val are required") }
        guard train.count == val.count else {
            throw ValidationError("give as many --train as --val files (\(train.count) and \(val.count))")
        }
        if train.count > 1 && !merge { throw ValidationError("several --train/--val files need --merge") }
        if let dropLast, dropLast < 1 { throw ValidationError("--drop-last must be positive") }
        if let ks = k?.values, ks.contains(where: { $0 < 1 }) { throw ValidationError("--k values must be positive") }
    }

    func run() throws {
        var gallery = try ClipRetrieval.merged(try train.map { try FeatureSet(contentsOf: $0) })
        var queries = try ClipRetrieval.merged(try val.map { try FeatureSet(contentsOf: $0) })
        if let dropLast {
            gallery = try ClipRetrieval.droppingLastPartialBatch(gallery, batchSize: dropLast)
            queries = try ClipRetrieval.droppingLastPartialBatch(queries, batchSize: dropLast)
        }
        let ks = k?.values ?? ClipRetrieval.defaultKs
        let results = try ClipRetrieval(gallery: gallery).evaluate(queries, ks: ks)
        print("gallery: \(gallery.videos.count) videos; queries: \(queries.videos.count) videos; width \(gallery.width)")
        var lines = [ProbeTables.row("k", "hits", "queries", "R@k")]
        for r in results {
            lines.append(ProbeTables.row("\(r.k)", "\(r.hits)", "\(r.queries)", ProbeTables.percent(r.accuracy)))
        }
        print(lines.joined(separator: "\n"))
        guard let json else { return }
        let record = RetrievalRecord(train: train, val: val, merge: merge, dropLast: dropLast,
                                     galleryVideos: gallery.videos.count, queryVideos: queries.videos.count,
                                     width: gallery.width, results: results)
        try ProbeTables.write(record, to: json)
        print("wrote \(json)")
    }
}

/// What `videossl retrieve --json` writes.
struct RetrievalRecord: Codable {
    var train: [String]
    var val: [String]
    var merge: Bool
    var dropLast: Int?
    var galleryVideos: Int
    var queryVideos: Int
    var width: Int
    var results: [ClipRetrieval.Result]
}

// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "VideoSSL",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "VideoIO", targets: ["VideoIO"]),
        .library(name: "VideoTransformers", targets: ["VideoTransformers"]),
        .library(name: "TemporalSSL", targets: ["TemporalSSL"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "VideoSSLCommands", targets: ["VideoSSLCommands"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .executable(name: "videossl", targets: ["videossl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        // System libraries (implementation detail: no C type appears in a public signature).
        .systemLibrary(
            name: "_CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "_CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev"])]
        ),
        // Open MPI, for the Distributed target only (Training sees a protocol, not MPI).
        .systemLibrary(
            name: "_CMPI",
            pkgConfig: "ompi",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // glibc's <malloc.h> (heap statistics for the activation-memory estimate); links nothing.
        .systemLibrary(name: "_CMalloc"),

        // Float kernels in C, each compiled for baseline x86-64, AVX2 + FMA and AVX-512 through
        // per-function target attributes (no compiler flags) and chosen at run time from the CPU.
        .target(name: "_CKernels"),

        // Libraries (imports only go downward; see Docs and DESIGN).
        .target(
            name: "TensorCore",
            dependencies: ["_CBLAS", "_CKernels", "_CMalloc", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "VideoIO",
            dependencies: ["TensorCore", "_CFFmpeg", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "VideoTransformers",
            dependencies: ["TensorCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .target(name: "TemporalSSL", dependencies: ["TensorCore"]),
        .target(
            name: "Training",
            dependencies: [
                "TensorCore", "VideoIO", "VideoTransformers", "TemporalSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Data-parallel training over Open MPI: a ProcessGroup for Training's trainer.
        .target(
            name: "Distributed",
            dependencies: ["Training", "_CMPI", .product(name: "Logging", package: "swift-log")]
        ),
        // The command set as a library, so a program with backbones of its own can offer all of it.
        .target(
            name: "VideoSSLCommands",
            dependencies: [
                "TensorCore", "VideoIO", "VideoTransformers", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "videossl", dependencies: ["VideoSSLCommands", "Distributed"]),
        .executableTarget(
            name: "TinyTransformerExample",
            dependencies: ["TensorCore"],
            path: "Examples/TinyTransformer"
        ),
        .executableTarget(
            name: "TensorCoreBenchmarks",
            dependencies: ["TensorCore", "_CBLAS"],
            path: "Benchmarks/TensorCoreBenchmarks"
        ),
        .executableTarget(
            name: "FlowBenchmarks",
            dependencies: ["VideoIO", "TensorCore"],
            path: "Benchmarks/FlowBenchmarks"
        ),

        .executableTarget(
            name: "VideoIOBenchmarks",
            dependencies: ["VideoIO", "TensorCore"],
            path: "Benchmarks/VideoIOBenchmarks"
        ),

        .executableTarget(
            name: "ModelBenchmarks",
            dependencies: ["Training", "VideoTransformers", "TensorCore"],
            path: "Benchmarks/ModelBenchmarks"
        ),

        .executableTarget(
            name: "SVTBenchmarks",
            dependencies: ["Training", "TensorCore"],
            path: "Benchmarks/SVTBenchmarks"
        ),

        .executableTarget(
            name: "VideoMAEBenchmarks",
            dependencies: ["Training", "TensorCore"],
            path: "Benchmarks/VideoMAEBenchmarks"
        ),

        .executableTarget(
            name: "ProbeBenchmarks",
            dependencies: ["Training", "TensorCore"],
            path: "Benchmarks/ProbeBenchmarks"
        ),

        .executableTarget(
            name: "CNNBenchmarks",
            dependencies: ["Training", "VideoTransformers", "TensorCore"],
            path: "Benchmarks/CNNBenchmarks"
        ),

        .executableTarget(
            name: "LoaderBenchmarks",
            dependencies: ["VideoIO", "TensorCore"],
            path: "Benchmarks/LoaderBenchmarks"
        ),

        .executableTarget(
            name: "DistributedBenchmarks",
            dependencies: ["Distributed", "_CMPI", "Training", "VideoTransformers", "TensorCore"],
            path: "Benchmarks/DistributedBenchmarks"
        ),

        // Tests: one target per library target, plus shared helpers.
        .target(name: "_TestSupport", dependencies: ["TensorCore"], path: "Tests/_TestSupport"),
        .testTarget(
            name: "TensorCoreTests", dependencies: ["TensorCore", "_CKernels", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TemporalSSLTests", dependencies: ["TemporalSSL", "TensorCore", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "VideoIOTests",
            dependencies: ["VideoIO", "TensorCore", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "VideoTransformersTests", dependencies: ["VideoTransformers", "TensorCore", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "VideoSSLCLITests",
            dependencies: ["videossl", "VideoSSLCommands", "VideoIO", "VideoTransformers", "TensorCore", "_TestSupport"]
        ),
        .testTarget(
            name: "DistributedTests",
            dependencies: ["videossl", "Distributed", "Training", "TensorCore", "VideoIO", "_TestSupport"]
        ),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "TensorCore", "VideoIO", "VideoTransformers", "TemporalSSL", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)

// swift-tools-version:6.0
// libFuzzer targets for VideoSSL's parsers of outside data, kept out of the main package so it
// carries no compiler flags. Build and run with Scripts/fuzz.sh (which passes -sanitize=fuzzer,address).
import PackageDescription

let package = Package(
    name: "VideoSSLFuzz",
    dependencies: [.package(name: "VideoSSL", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzDriver", .product(name: "TensorCore", package: "VideoSSL")]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["FuzzDriver", .product(name: "VideoTransformers", package: "VideoSSL")]),
        .executableTarget(name: "FuzzRecipe", dependencies: ["FuzzDriver", .product(name: "Training", package: "VideoSSL")]),
        .executableTarget(name: "FuzzLists", dependencies: [
            "FuzzDriver", .product(name: "VideoIO", package: "VideoSSL"), .product(name: "Training", package: "VideoSSL"),
        ]),
    ]
)

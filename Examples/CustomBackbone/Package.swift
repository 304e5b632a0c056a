// swift-tools-version:6.0
// A third-party package that adds a video backbone of its own to VideoSSL: it registers the
// backbone (and a key map for its checkpoints) and gets the whole `videossl` command set with it.
import PackageDescription

let package = Package(
    name: "CustomBackbone",
    dependencies: [.package(name: "VideoSSL", path: "../..")],
    targets: [
        .executableTarget(
            name: "CustomBackbone",
            dependencies: [
                .product(name: "TensorCore", package: "VideoSSL"),
                .product(name: "VideoTransformers", package: "VideoSSL"),
                .product(name: "VideoIO", package: "VideoSSL"),
                .product(name: "VideoSSLCommands", package: "VideoSSL"),
            ]
        )
    ]
)

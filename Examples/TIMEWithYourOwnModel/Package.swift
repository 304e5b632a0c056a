// swift-tools-version:6.0
// A third-party package that adds TIME to a video model of its own, depending on TensorCore and
// TemporalSSL only (no VideoIO, VideoTransformers or Training).
import PackageDescription

let package = Package(
    name: "TIMEWithYourOwnModel",
    dependencies: [.package(name: "VideoSSL", path: "../..")],
    targets: [
        .executableTarget(
            name: "TIMEWithYourOwnModel",
            dependencies: [
                .product(name: "TensorCore", package: "VideoSSL"),
                .product(name: "TemporalSSL", package: "VideoSSL"),
            ]
        )
    ]
)

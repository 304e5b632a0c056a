import Foundation

/// The path of an executable product built next to the running test bundle (`swift build
/// --build-tests` builds every product), or `nil` when it is not there.
public func builtExecutable(named name: String) -> URL? {
    let products = Bundle.main.bundleURL.deletingLastPathComponent()
    return [products, Bundle.main.bundleURL, products.deletingLastPathComponent()]
        .map { $0.appendingPathComponent(name) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

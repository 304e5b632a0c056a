/// The `VideoTransformers` library: the backbone zoo (ViT, TimeSformer, Motionformer, X-ViT), its registry and checkpoint import.
///
/// This library is not implemented yet: it currently exposes nothing but this namespace, so that
/// the package layout (and its dependency rules) is fixed from the start.
public enum VideoTransformersLibrary {
    /// The library's name, as listed in the package manifest.
    public static let name = "VideoTransformers"
}

/// The `VideoIO` library: FFmpeg decoding, clip sampling, augmentation, datasets, the data loader and optical flow.
///
/// This library is not implemented yet: it currently exposes nothing but this namespace, so that
/// the package layout (and its dependency rules) is fixed from the start.
public enum VideoIOLibrary {
    /// The library's name, as listed in the package manifest.
    public static let name = "VideoIO"
}

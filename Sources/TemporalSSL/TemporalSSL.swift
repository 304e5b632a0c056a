/// The `TemporalSSL` library: self-supervised objectives, starting with TIME's frame-order, debiasing and flow-direction losses.
///
/// This library is not implemented yet: it currently exposes nothing but this namespace, so that
/// the package layout (and its dependency rules) is fixed from the start.
public enum TemporalSSLLibrary {
    /// The library's name, as listed in the package manifest.
    public static let name = "TemporalSSL"
}

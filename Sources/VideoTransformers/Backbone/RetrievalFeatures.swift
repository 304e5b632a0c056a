import TensorCore

/// A backbone that offers its own clip features for nearest-neighbour retrieval, wider than the
/// class embedding.
///
/// IIC retrieves with the 3D CNNs' last convolution stage, max-pooled `(1, 2, 2)` and flattened
/// (`512×2×3×3 = 9216` values for 16×112×112 clips; `reference/SVT-VideoMS-IIC.md` §3.8), rather
/// than with the 512-wide average-pooled embedding. A backbone without this capability is
/// retrieved by its class embedding (``VideoBackbone/retrievalEmbedding(_:)``).
public protocol RetrievalFeatureBackbone: VideoBackbone {
    /// Retrieval features `[B, F]` of clips `[B, T, 3, H, W]`.
    func retrievalFeatures(_ clip: Tensor) -> Tensor
}

extension VideoBackbone {
    /// The backbone's retrieval features when it offers them (``RetrievalFeatureBackbone``),
    /// otherwise its class embedding `[B, C]`.
    public func retrievalEmbedding(_ clip: Tensor) -> Tensor {
        if let retrieval = self as? any RetrievalFeatureBackbone { return retrieval.retrievalFeatures(clip) }
        return classEmbedding(clip)
    }

    /// Whether ``retrievalEmbedding(_:)`` uses the backbone's own retrieval features.
    public var hasRetrievalFeatures: Bool { self is any RetrievalFeatureBackbone }
}

import TensorCore
import VideoTransformers

/// The backbone and an objective's heads as one module tree, with the keys of both unchanged
/// (both are flattened children, so a TIME run's keys are `blocks.*` beside `temp_head.*`, as in
/// the reference checkpoints).
///
/// Parameters, buffers, train/eval mode, random streams, strict loading and the weight average
/// all go through this one tree.
public final class TrainingModel: Module {
    /// The backbone.
    public let backbone: any VideoBackbone
    /// The objective's heads, if it has any.
    public let heads: Module?

    /// Joins `backbone` and `heads`.
    ///
    /// - Throws: ``ObjectiveError/keyCollision(_:)`` when a head key equals a backbone key.
    public init(backbone: any VideoBackbone, heads: Module?) throws(ObjectiveError) {
        self.backbone = backbone
        self.heads = heads
        super.init()
        if let heads {
            let own = Set(backbone.stateDict().map(\.0))
            let clashes = heads.stateDict().map(\.0).filter { own.contains($0) }
            if !clashes.isEmpty { throw .keyCollision(clashes) }
        }
    }

    /// The backbone, then the heads, both without a key prefix.
    public override func namedChildren() -> [(String, Module)] {
        [("", backbone)] + (heads.map { [("", $0)] } ?? [])
    }

    /// The backbone's patch-token interface, when it has one.
    public var tokenBackbone: (any TokenBackbone)? { backbone as? any TokenBackbone }

    /// Whether `key` belongs to the heads rather than the backbone.
    public func isHeadKey(_ key: String) -> Bool {
        headKeys.contains(key)
    }

    private lazy var headKeys: Set<String> = Set(heads?.stateDict().map(\.0) ?? [])
}

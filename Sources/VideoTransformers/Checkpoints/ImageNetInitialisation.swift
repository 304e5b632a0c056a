import TensorCore

extension CheckpointKeyMaps {
    /// An ImageNet ViT (timm `vit_base_patch16_224` layout) as the starting point of a Motionformer,
    /// as TIME's code does (`reference/TIME.md` §2.2): every ViT tensor is copied by name, the
    /// ImageNet `head.*` is dropped, and the layers a ViT does not have (`blocks.i.attn.proj_q`,
    /// `blocks.i.attn.proj_kv`, `pre_logits.fc`, `head`, `temp_embed`) keep their initialisation.
    ///
    /// - Throws: ``CheckpointError/keyMapRefused(map:reason:)`` for a checkpoint that already has
    ///   video keys.
    public static func timmViTToMotionformer(_ tensors: [(String, Tensor)]) throws(CheckpointError) -> KeyMapResult {
        try refuseVideoCheckpoint(tensors, map: "timm-motionformer")
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            if name.hasPrefix("head.") { result.dropped.append(name) } else { result.tensors.append((name, tensor)) }
        }
        result.initialised = ["blocks.*.attn.proj_q.*", "blocks.*.attn.proj_kv.*", "pre_logits.*", "head.*", "temp_embed"]
        return result
    }

    /// An ImageNet ViT as the per-frame backbone of an X-ViT (`reference/TIME.md` §2.3): every ViT
    /// tensor moves under `base_model.`, the ImageNet `head.*` is dropped, and `base_model.temp_embed`
    /// and the temporal head (`consensus.*`, `head.*`) keep their initialisation.
    ///
    /// - Throws: ``CheckpointError/keyMapRefused(map:reason:)`` for a checkpoint that already has
    ///   video keys.
    public static func timmViTToXViT(_ tensors: [(String, Tensor)]) throws(CheckpointError) -> KeyMapResult {
        try refuseVideoCheckpoint(tensors, map: "timm-xvit")
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            if name.hasPrefix("head.") {
                result.dropped.append(name)
            } else {
                result.renamed.append(.init(from: name, to: "base_model." + name))
                result.tensors.append(("base_model." + name, tensor))
            }
        }
        result.initialised = ["base_model.temp_embed", "consensus.*", "head.*"]
        return result
    }

    /// Refuses checkpoints whose keys show they are already video models.
    static func refuseVideoCheckpoint(_ tensors: [(String, Tensor)], map: String) throws(CheckpointError) {
        let markers = ["time_embed", "temp_embed", ".temporal_", "base_model.", "consensus.", "proj_q", "proj_kv"]
        if let video = tensors.first(where: { key in markers.contains { key.0.contains($0) } }) {
            throw .keyMapRefused(map: map, reason:
                "'\(video.0)' shows this is already a video checkpoint; load it by name instead of mapping it from a ViT")
        }
    }
}

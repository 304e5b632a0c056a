import TensorCore

extension CheckpointKeyMaps {
    /// Inflates an image ViT state dict (timm `vit_base_patch16_224` layout) into a divided
    /// space-time TimeSformer, as both the TimeSformer and TIME code do (TIME.md §2.1):
    ///
    /// - `blocks.i.attn.*` is copied to `blocks.i.temporal_attn.*` and `blocks.i.norm1.*` to
    ///   `blocks.i.temporal_norm1.*`;
    /// - `blocks.i.temporal_fc.{weight,bias}` and `time_embed` `[1, numFrames, C]` are zeros, so at
    ///   step 0 the video model computes the frame-wise image ViT (TimeSformer issues #29, #66);
    /// - the ImageNet `head.*` is dropped (the video head is trained from scratch; the result lists
    ///   `head.*` in ``KeyMapResult/initialised``);
    /// - everything else (patch embedding, `cls_token`, `pos_embed`, spatial blocks, `norm`) is kept.
    ///
    /// `pos_embed` keeps the image grid; resample it in the backbone when the crop size differs.
    ///
    /// - Throws: ``CheckpointError/keyMapRefused(map:reason:)`` when the input already has
    ///   temporal keys: inflating a video checkpoint again would overwrite its trained temporal
    ///   attention with spatial weights (TimeSformer issue #68); load those by name instead. Also
    ///   when no embedding width can be found (`cls_token` or `blocks.0.attn.proj.weight`).
    /// With `copyTemporal` false the temporal attention and its norm are not copied: they keep the
    /// model's own initialisation and are listed as initialised (SVT's paper setting,
    /// `reference/SVT-VideoMS-IIC.md` §1.2).
    public static func timmViTInflation(
        _ tensors: [(String, Tensor)], into depth: Int, numFrames: Int, copyTemporal: Bool = true
    ) throws(CheckpointError) -> KeyMapResult {
        precondition(depth > 0 && numFrames > 0, "timmViTInflation: depth \(depth) and numFrames \(numFrames) must be positive")
        let map = "timm-inflation"
        let temporalMarkers = [".temporal_attn.", ".temporal_norm1.", ".temporal_fc."]
        if let video = tensors.first(where: { key in
            key.0 == "time_embed" || temporalMarkers.contains { key.0.contains($0) }
        }) {
            throw .keyMapRefused(map: map, reason:
                "'\(video.0)' shows this is already a video checkpoint; load it by name instead of inflating it again")
        }
        let values = Dictionary(tensors, uniquingKeysWith: { first, _ in first })
        guard let width = values["cls_token"]?.shape.last ?? values["blocks.0.attn.proj.weight"]?.shape.first else {
            throw .keyMapRefused(map: map, reason: "no cls_token or blocks.0.attn.proj.weight to take the embedding width from")
        }

        var result = KeyMapResult()
        for (name, tensor) in tensors {
            if name.hasPrefix("head.") {
                result.dropped.append(name)
            } else {
                result.tensors.append((name, tensor))
            }
        }
        result.tensors.append(("time_embed", Tensor(zeros: [1, numFrames, width])))
        result.created.append("time_embed")
        for block in 0..<depth {
            let prefix = "blocks.\(block)."
            let copies = tensors.compactMap { name, tensor -> (String, Tensor)? in
                guard name.hasPrefix(prefix) else { return nil }
                let local = name.dropFirst(prefix.count)
                if local.hasPrefix("attn.") { return (prefix + "temporal_" + local, tensor) }
                if local.hasPrefix("norm1.") { return (prefix + "temporal_" + local, tensor) }
                return nil
            }
            if !copyTemporal {
                for (name, tensor) in zeros(prefix: prefix, width: width) {
                    result.tensors.append((name, tensor))
                    result.created.append(name)
                }
                continue
            }
            if copies.isEmpty {
                result.notes.append("block \(block): no attn/norm1 weights to copy into the temporal branch")
            }
            for (name, tensor) in copies + zeros(prefix: prefix, width: width) {
                result.tensors.append((name, tensor))
                result.created.append(name)
            }
        }
        // The video head is new (TIME.md §2.1): it keeps its initialisation.
        result.initialised = ["head.*"]
        if !copyTemporal { result.initialised += ["blocks.*.temporal_attn.*", "blocks.*.temporal_norm1.*"] }
        if let pos = values["pos_embed"] {
            result.notes.append("pos_embed kept at \(pos.shape); resample it if the model's patch grid differs")
        }
        return result
    }

    /// `temporal_fc` of one block as zeros, so the inflated model starts as the image model.
    private static func zeros(prefix: String, width: Int) -> [(String, Tensor)] {
        [(prefix + "temporal_fc.weight", Tensor(zeros: [width, width])),
         (prefix + "temporal_fc.bias", Tensor(zeros: [width]))]
    }
}

import TensorCore

extension CheckpointKeyMaps {
    /// The keys of SVT's checkpoints (`reference/SVT-VideoMS-IIC.md` §1.6) as VideoSSL's SVT
    /// model tree names them: `module.` (DDP) and `backbone.` are removed, so the TimeSformer keys
    /// are plain (`cls_token`, `blocks.i.temporal_attn.qkv.weight`, …) and the DINO head keeps
    /// `head.mlp.{0,2,4}.*` and `head.last_layer.weight_{g,v}`.
    ///
    /// The released `kinetics400_vitb_ssl.pth` is flat; a file wrapping it under `teacher` (and a
    /// training checkpoint holding `student` and `teacher`) is found by the loader, which takes
    /// `teacher`.
    ///
    /// - Parameter keepHead: false drops the DINO head (for probing or fine-tuning the backbone
    ///   alone); the model's own classifier `head.*`, if any, keeps its initialisation.
    public static func svt(_ tensors: [(String, Tensor)], keepHead: Bool) -> KeyMapResult {
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            var key = Substring(name)
            if key.hasPrefix("module.") { key = key.dropFirst(7) }
            if key.hasPrefix("backbone.") { key = key.dropFirst(9) }
            let plain = String(key)
            if !keepHead && isDINOHeadKey(plain) {
                result.dropped.append(name)
                continue
            }
            if plain != name { result.renamed.append(.init(from: name, to: plain)) }
            result.tensors.append((plain, tensor))
        }
        if !keepHead { result.initialised = ["head.*"] }
        return result
    }

    /// The reverse of ``svt(_:keepHead:)``: plain backbone keys get `backbone.`, the DINO head's
    /// keep `head.`, so a teacher written by VideoSSL (`videossl convert --prefix teacher.
    /// --key-map svt-export`) has the layout of the released `kinetics400_vitb_ssl.pth`.
    public static func svtExport(_ tensors: [(String, Tensor)]) -> KeyMapResult {
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            let key = isDINOHeadKey(name) || name.hasPrefix("backbone.") ? name : "backbone." + name
            if key != name { result.renamed.append(.init(from: name, to: key)) }
            result.tensors.append((key, tensor))
        }
        return result
    }

    /// An image ViT from DINO (`dino_vitbase16_pretrain.pth`, a DINO training checkpoint's
    /// `teacher`/`student` with `module.`/`backbone.` prefixes, or timm's `vit_base_patch16_224.dino`)
    /// inflated into a divided space-time TimeSformer, SVT's initialisation (§1.2): prefixes removed,
    /// DINO's projection head dropped, then ``timmViTInflation(_:into:numFrames:copyTemporal:)``.
    public static func dinoInflation(
        _ tensors: [(String, Tensor)], into depth: Int, numFrames: Int, copyTemporal: Bool
    ) throws(CheckpointError) -> KeyMapResult {
        let stripped = svt(tensors, keepHead: false)
        var result = try timmViTInflation(stripped.tensors, into: depth, numFrames: numFrames, copyTemporal: copyTemporal)
        result.renamed = stripped.renamed + result.renamed
        result.dropped = stripped.dropped + result.dropped
        return result
    }

    /// Whether `key` (without prefixes) belongs to a DINO projection head.
    static func isDINOHeadKey(_ key: String) -> Bool {
        key.hasPrefix("head.mlp.") || key.hasPrefix("head.last_layer.")
    }
}

import TensorCore

extension CheckpointKeyMaps {
    /// VideoMAE's and VideoMS's repository checkpoints (`reference/SVT-VideoMS-IIC.md` §2) as
    /// VideoSSL's VideoMAE tree names them. The loader finds the state dict under `model` or
    /// `module`.
    ///
    /// - With `encoderOnly` false (pre-training to pre-training): `encoder.` is removed from the
    ///   encoder's keys; `encoder_to_decoder.weight`, `mask_token` and `decoder.*` stay, for the
    ///   `videomae` objective's heads.
    /// - With `encoderOnly` true (pre-training to fine-tuning): as the reference's fine-tuning
    ///   script, `encoder.` is removed and the decoder side dropped; with `meanPooling` the
    ///   encoder's token `norm` is dropped too and `fc_norm` and `head` keep their initialisation.
    /// Fine-tuned checkpoints (plain keys) pass unchanged.
    public static func videoMAE(_ tensors: [(String, Tensor)], encoderOnly: Bool, meanPooling: Bool) -> KeyMapResult {
        var result = KeyMapResult()
        let pretraining = tensors.contains { $0.0.hasPrefix("encoder.") || $0.0 == "mask_token" || $0.0.hasPrefix("decoder.") }
        for (name, tensor) in tensors {
            var key = name
            if key.hasPrefix("module.") { key = String(key.dropFirst(7)) }
            if key.hasPrefix("encoder.") { key = String(key.dropFirst(8)) }
            let decoderSide = key == "mask_token" || key.hasPrefix("decoder.") || key.hasPrefix("encoder_to_decoder.")
            if encoderOnly && (decoderSide || pretraining && meanPooling && key.hasPrefix("norm.")) {
                result.dropped.append(name)
                continue
            }
            if key != name { result.renamed.append(.init(from: name, to: key)) }
            result.tensors.append((key, tensor))
        }
        if encoderOnly && pretraining { result.initialised = meanPooling ? ["fc_norm.*", "head.*"] : ["head.*"] }
        return result
    }

    /// Hugging Face `transformers`' VideoMAE (`VideoMAEForVideoClassification`,
    /// `VideoMAEForPreTraining`, `VideoMAEModel`) in VideoSSL's names: `videomae.embeddings.
    /// patch_embeddings.projection` → `patch_embed.proj`; per layer `attention.attention.{query,
    /// key, value}.weight` → one `attn.qkv.weight`, `q_bias`/`v_bias` kept, `attention.output.dense` →
    /// `attn.proj`, `layernorm_before`/`after` → `norm1`/`norm2`, `intermediate.dense` → `mlp.fc1`,
    /// `output.dense` → `mlp.fc2`; `videomae.layernorm` → `norm`, `fc_norm`, `classifier` → `head`;
    /// the pre-training decoder's `decoder.decoder_layers.i` → `decoder.blocks.i`.
    public static func huggingFaceVideoMAE(_ tensors: [(String, Tensor)]) throws(CheckpointError) -> KeyMapResult {
        var result = KeyMapResult()
        var pending: [String: [String: Tensor]] = [:]  // qkv parts by block prefix
        func layer(_ rest: Substring, prefix: String) -> String? {
            let map: [(String, String)] = [
                ("attention.attention.q_bias", "attn.q_bias"), ("attention.attention.v_bias", "attn.v_bias"),
                ("attention.output.dense.", "attn.proj."), ("layernorm_before.", "norm1."),
                ("layernorm_after.", "norm2."), ("intermediate.dense.", "mlp.fc1."), ("output.dense.", "mlp.fc2."),
            ]
            for (from, to) in map where rest.hasPrefix(from) { return prefix + to + rest.dropFirst(from.count) }
            return nil
        }
        for (name, tensor) in tensors {
            var key: String?
            var rest = Substring(name)
            if rest.hasPrefix("videomae.") { rest = rest.dropFirst(9) }
            if rest.hasPrefix("embeddings.patch_embeddings.projection.") {
                key = "patch_embed.proj." + rest.dropFirst("embeddings.patch_embeddings.projection.".count)
            } else if rest.hasPrefix("encoder.layer.") || rest.hasPrefix("decoder.decoder_layers.") {
                let decoder = rest.hasPrefix("decoder.")
                let tail = rest.dropFirst(decoder ? "decoder.decoder_layers.".count : "encoder.layer.".count)
                guard let dot = tail.firstIndex(of: "."), let index = Int(tail[..<dot]) else {
                    throw .keyMapRefused(map: "hf-videomae", reason: "cannot read the layer number of '\(name)'")
                }
                let prefix = (decoder ? "decoder.blocks." : "blocks.") + "\(index)."
                let inner = tail[tail.index(after: dot)...]
                for part in ["query", "key", "value"] where inner == "attention.attention.\(part).weight" {
                    pending[prefix, default: [:]][part] = tensor
                }
                if inner.hasPrefix("attention.attention.query.") || inner.hasPrefix("attention.attention.key.")
                    || inner.hasPrefix("attention.attention.value.") {
                    if inner.hasSuffix(".bias") {
                        throw .keyMapRefused(map: "hf-videomae", reason: "'\(name)': separate q/k/v biases are not VideoMAE's q/v-bias attention")
                    }
                    continue
                }
                key = layer(inner, prefix: prefix)
            } else if rest.hasPrefix("layernorm.") {
                key = "norm." + rest.dropFirst(10)
            } else if rest.hasPrefix("fc_norm.") {
                key = String(rest)
            } else if rest.hasPrefix("classifier.") {
                key = "head." + rest.dropFirst(11)
            } else if rest == "encoder_to_decoder.weight" || rest == "mask_token" || rest.hasPrefix("decoder.norm.")
                        || rest.hasPrefix("decoder.head.") {
                key = String(rest)
            }
            guard let key else {
                result.dropped.append(name)
                result.notes.append("no VideoSSL key for '\(name)'")
                continue
            }
            result.renamed.append(.init(from: name, to: key))
            result.tensors.append((key, tensor))
        }
        for prefix in pending.keys.sorted() {
            let parts = pending[prefix]!
            guard let q = parts["query"], let k = parts["key"], let v = parts["value"] else {
                throw .keyMapRefused(map: "hf-videomae", reason: "\(prefix) lacks one of query, key, value")
            }
            result.tensors.append((prefix + "attn.qkv.weight", Tensor.concat([q, k, v], axis: 0)))
            result.created.append(prefix + "attn.qkv.weight")
        }
        return result
    }
}

import TensorCore

extension CheckpointKeyMaps {
    /// The keys of IIC's checkpoints (BestJuly/IIC; `reference/SVT-VideoMS-IIC.md` §3.9 and "What
    /// each released repo lets a user run") as the 3D CNNs name them, which keep IIC's module names
    /// (`conv1.temporal_spatial_conv.weight`, `conv2.block1.conv1.temporal_spatial_conv.weight`,
    /// `conv3.block1.downsampleconv.…`, `bn1.running_mean`, `linear.weight`).
    ///
    /// - The self-supervised file (`{model, contrast, optimizer, epoch, opt}`) and the released R3D
    ///   SSL weights keep the state dict under `model`, which the loader finds; the fine-tuned
    ///   weights are a flat dict.
    /// - `module.` (DataParallel) and `base_network.` (the retrieval script's wrapper) prefixes are
    ///   removed.
    /// - The memory banks (`contrast.*`) and `num_batches_tracked` counters are not weights and are
    ///   dropped.
    ///
    /// - Parameter keepClassifier: false drops `linear.*` (fine-tuning on another dataset starts the
    ///   classifier afresh, as `ft_classify.py` does after SSL); the model's classifier keys are then
    ///   reported as initialised.
    public static func iic(_ tensors: [(String, Tensor)], keepClassifier: Bool) -> KeyMapResult {
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            var key = Substring(name)
            if key.hasPrefix("module.") { key = key.dropFirst(7) }
            if key.hasPrefix("base_network.") { key = key.dropFirst(13) }
            let plain = String(key)
            if plain.hasPrefix("contrast.") || plain.hasSuffix(".num_batches_tracked")
                || (!keepClassifier && plain.hasPrefix("linear.")) {
                result.dropped.append(name)
                continue
            }
            if plain != name { result.renamed.append(.init(from: name, to: plain)) }
            result.tensors.append((plain, tensor))
        }
        if !keepClassifier { result.initialised = ["linear.*"] }
        return result
    }
}

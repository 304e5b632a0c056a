import TensorCore

/// The hyper-parameters of the 3D-CNN backbones (IIC's C3D, R3D and R(2+1)D; torchvision's r3d_18
/// and r2plus1d_18), `reference/SVT-VideoMS-IIC.md` §3.6.
///
/// Widths scale with ``width``: the four residual stages are `width·(1, 2, 4, 8)` wide (64 → 512 at
/// full size) and C3D's five conv levels `width·(1, 2, 4, 8, 8)`. A smaller `width` keeps every key
/// name and only shrinks the tensors, which is how the tiny CPU variants are made.
public struct VideoCNNConfig: Sendable, Hashable {
    /// Which network and key layout.
    public enum Architecture: String, Sendable, Hashable, CaseIterable {
        /// IIC's C3D with BatchNorm (`models/c3d.py`): keys `conv1`, `bn1`, …, `conv5b`, `bn5b`, `linear`.
        case c3d
        /// IIC's R3D (`models/r3d.py`): keys `conv1.temporal_spatial_conv`, `conv2.block1.conv1…`, `linear`.
        case r3d
        /// IIC's R(2+1)D (`models/r21d.py`): every conv factored into `spatial_conv`, `bn`, `temporal_conv`.
        case r21d
        /// torchvision's `r3d_18` layout (`stem`, `layer1…4`, `fc`).
        case torchvisionR3D = "torchvision_r3d"
        /// torchvision's `r2plus1d_18` layout (`Conv2Plus1D` blocks, `R2Plus1dStem`).
        case torchvisionR2Plus1D = "torchvision_r2plus1d"
    }

    /// The network.
    public var architecture: Architecture
    /// Residual blocks per stage (`(1, 1, 1, 1)` for IIC's R3D-10, `(2, 2, 2, 2)` for the -18 nets);
    /// unused by C3D.
    public var layers: [Int]
    /// Base width (64 at full size).
    public var width: Int
    /// Classifier outputs; 0 means no classifier (IIC's pre-training has none).
    public var numClasses: Int
    /// Frames per clip the model is meant for (the network accepts any length that survives its
    /// down-sampling).
    public var numFrames: Int
    /// Side of the square crop the model is meant for.
    public var imgSize: Int

    /// Creates a configuration; defaults are IIC's R3D-10 for 16×112×112 clips, no classifier.
    public init(architecture: Architecture = .r3d, layers: [Int] = [1, 1, 1, 1], width: Int = 64,
                numClasses: Int = 0, numFrames: Int = 16, imgSize: Int = 112) {
        self.architecture = architecture
        self.layers = layers
        self.width = width
        self.numClasses = numClasses
        self.numFrames = numFrames
        self.imgSize = imgSize
    }

    /// The widths of the four residual stages.
    public var stageWidths: [Int] { [width, 2 * width, 4 * width, 8 * width] }

    /// The width of the pooled features (the class embedding).
    public var featureWidth: Int { 8 * width }

    /// The mid width of torchvision's R(2+1)D stem: its fixed 45 at width 64, scaled with the width.
    public var stemMidWidth: Int { Swift.max(1, 45 * width / 64) }
}

extension VideoCNNConfig: BackboneConfiguration {
    /// `img_size`, `num_classes`, `num_frames`, `width`.
    public static let overrideKeys: [String] = ["img_size", "num_classes", "num_frames", "width"]

    /// The first problem with these values, or `nil` when a model can be built from them.
    public var problem: String? {
        if width <= 0 || numFrames <= 0 || imgSize <= 0 { return "width, num_frames and img_size must be positive" }
        if numClasses < 0 { return "num_classes \(numClasses) must be non-negative" }
        if architecture != .c3d && (layers.count != 4 || layers.contains { $0 <= 0 }) {
            return "layers \(layers) must be four positive block counts"
        }
        return nil
    }

    /// Sets one hyper-parameter by its reference name.
    public mutating func set(_ key: String, to value: ConfigValue) throws(BackboneConfigError) {
        let v = OverrideValue(key: key, value: value)
        switch key {
        case "width": width = try v.int()
        case "num_frames": numFrames = try v.int()
        case "img_size": imgSize = try v.int()
        case "num_classes": numClasses = try v.int(minimum: 0)
        default: throw .unknownKey(key, validKeys: Self.overrideKeys)
        }
    }
}

/// The pieces the 3D CNNs share: the clip layout change and the pooled head.
enum VideoCNN {
    /// `[B, T, 3, H, W]` → `[B, 3, T, H, W]`, the layout the convolutions read.
    static func channelsFirst(_ clip: Tensor, op: String) -> Tensor {
        precondition(clip.rank == 5 && clip.shape[2] == 3 && clip.shape[0] > 0 && clip.shape[1] > 0,
                     "\(op): clip \(clip.shape) must be [B, T, 3, H, W]")
        return clip.permuted([0, 2, 1, 3, 4])
    }

    /// Global average pooling `[B, C, T, H, W]` → `[B, C]`.
    static func pooled(_ x: Tensor) -> Tensor {
        Tensor.adaptiveAvgPool3d(x).reshaped([x.shape[0], x.shape[1]])
    }

    /// Conv → BatchNorm → ReLU, the unit every 3D CNN here repeats (BatchNorm and ReLU fused).
    static func convBNReLU(_ conv: any UnaryLayer, _ bn: BatchNorm, _ x: Tensor) -> Tensor {
        bn.withReLU(conv(x))
    }

    /// Applies a torchvision-style `Sequential`, fusing each BatchNorm with the ReLU after it and
    /// descending into nested sequences (`Conv2Plus1D`); the values are those of the plain sequence.
    static func run(_ sequence: Sequential, _ x: Tensor) -> Tensor {
        let layers = sequence.layers
        var x = x, i = 0
        while i < layers.count {
            if let bn = layers[i] as? BatchNorm, i + 1 < layers.count, layers[i + 1] is ReLU {
                x = bn.withReLU(x)
                i += 2
                continue
            }
            x = (layers[i] as? Sequential).map { run($0, x) } ?? layers[i](x)
            i += 1
        }
        return x
    }
}

extension VideoCNN {
    /// IIC's retrieval feature (`retrieve_clips.py`, `return_conv=True`): the last conv map
    /// `[B, C, T', H', W']` max-pooled by (1, 2, 2) with stride (1, 2, 2) and flattened in
    /// PyTorch's order (channel, time, row, column): 512 × 2 × 3 × 3 = 9216 values for 16 × 112².
    static func retrievalFeatures(_ conv: Tensor) -> Tensor {
        let pooled = Tensor.maxPool3d(conv, kernel: (1, 2, 2), stride: (1, 2, 2))
        return pooled.reshaped([pooled.shape[0], pooled.count / pooled.shape[0]])
    }
}

extension C3D: RetrievalFeatureBackbone {
    /// The conv5 map max-pooled by (1, 2, 2) and flattened (IIC's retrieval feature).
    public func retrievalFeatures(_ clip: Tensor) -> Tensor { VideoCNN.retrievalFeatures(convFeatures(clip)) }
}

extension IICResNet: RetrievalFeatureBackbone {
    /// The conv5 map max-pooled by (1, 2, 2) and flattened (IIC's retrieval feature).
    public func retrievalFeatures(_ clip: Tensor) -> Tensor { VideoCNN.retrievalFeatures(convFeatures(clip)) }
}

extension TorchvisionVideoResNet: RetrievalFeatureBackbone {
    /// The `layer4` map max-pooled by (1, 2, 2) and flattened, as IIC retrieves with its ResNets.
    public func retrievalFeatures(_ clip: Tensor) -> Tensor { VideoCNN.retrievalFeatures(convFeatures(clip)) }
}

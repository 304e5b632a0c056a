import TensorCore

/// IIC's C3D with BatchNorm (`models/c3d.py`, `reference/SVT-VideoMS-IIC.md` §3.6): eight 3×3×3
/// convolutions (padding 1, with bias), each followed by BatchNorm3d and ReLU, max-pools
/// (1,2,2) after `conv1` and (2,2,2) after `conv2`, `conv3b` and `conv4b`, then global average
/// pooling to the class embedding (512 at full width) and an optional `linear` classifier.
///
/// For a 16×112×112 clip the last conv map is 512×2×7×7. Keys: `conv1`, `bn1`, `conv2`, `bn2`,
/// `conv3a`, `bn3a`, `conv3b`, `bn3b`, `conv4a`, …, `conv5b`, `bn5b`, `linear`.
public final class C3D: Module, VideoBackbone {
    /// `conv1`: 3×3×3 convolution.
    public let conv1: Conv3d
    /// `bn1`: its BatchNorm3d.
    public let bn1: BatchNorm
    /// `conv2`: 3×3×3 convolution.
    public let conv2: Conv3d
    /// `bn2`: its BatchNorm3d.
    public let bn2: BatchNorm
    /// `conv3a`: 3×3×3 convolution.
    public let conv3a: Conv3d
    /// `bn3a`: its BatchNorm3d.
    public let bn3a: BatchNorm
    /// `conv3b`: 3×3×3 convolution.
    public let conv3b: Conv3d
    /// `bn3b`: its BatchNorm3d.
    public let bn3b: BatchNorm
    /// `conv4a`: 3×3×3 convolution.
    public let conv4a: Conv3d
    /// `bn4a`: its BatchNorm3d.
    public let bn4a: BatchNorm
    /// `conv4b`: 3×3×3 convolution.
    public let conv4b: Conv3d
    /// `bn4b`: its BatchNorm3d.
    public let bn4b: BatchNorm
    /// `conv5a`: 3×3×3 convolution.
    public let conv5a: Conv3d
    /// `bn5a`: its BatchNorm3d.
    public let bn5a: BatchNorm
    /// `conv5b`: 3×3×3 convolution.
    public let conv5b: Conv3d
    /// `bn5b`: its BatchNorm3d.
    public let bn5b: BatchNorm
    /// The classifier, absent when ``VideoCNNConfig/numClasses`` is 0.
    public let linear: Linear?
    /// The configuration the model was built from.
    public let config: VideoCNNConfig

    /// Builds the network with PyTorch's default initialisation, drawn from `generator` in key order.
    public init(_ config: VideoCNNConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil, "C3D: \(config.problem ?? "")")
        self.config = config
        let w = config.width
        let widths = [w, 2 * w, 4 * w, 4 * w, 8 * w, 8 * w, 8 * w, 8 * w]
        let inputs = [3] + widths.dropLast()
        func conv(_ i: Int, _ g: inout RandomGenerator) -> Conv3d {
            Conv3d(inChannels: inputs[i], outChannels: widths[i], kernelSize: 3, padding: 1, using: &g)
        }
        conv1 = conv(0, &generator); bn1 = BatchNorm(widths[0])
        conv2 = conv(1, &generator); bn2 = BatchNorm(widths[1])
        conv3a = conv(2, &generator); bn3a = BatchNorm(widths[2])
        conv3b = conv(3, &generator); bn3b = BatchNorm(widths[3])
        conv4a = conv(4, &generator); bn4a = BatchNorm(widths[4])
        conv4b = conv(5, &generator); bn4b = BatchNorm(widths[5])
        conv5a = conv(6, &generator); bn5a = BatchNorm(widths[6])
        conv5b = conv(7, &generator); bn5b = BatchNorm(widths[7])
        linear = config.numClasses > 0
            ? Linear(inFeatures: config.featureWidth, outFeatures: config.numClasses, using: &generator) : nil
        super.init()
    }

    public var embedDim: Int { config.featureWidth }
    public var frameCount: Int { config.numFrames }
    public var noWeightDecayKeys: Set<String> { [] }

    /// The last conv map `[B, C, T/8, H/16, W/16]` of a clip `[B, T, 3, H, W]` (IIC's
    /// `return_conv` input, before its feature pool).
    public func convFeatures(_ clip: Tensor) -> Tensor {
        var x = VideoCNN.channelsFirst(clip, op: "C3D")
        x = Tensor.maxPool3d(VideoCNN.convBNReLU(conv1, bn1, x), kernel: (1, 2, 2))
        x = Tensor.maxPool3d(VideoCNN.convBNReLU(conv2, bn2, x), kernel: (2, 2, 2))
        x = VideoCNN.convBNReLU(conv3b, bn3b, VideoCNN.convBNReLU(conv3a, bn3a, x))
        x = Tensor.maxPool3d(x, kernel: (2, 2, 2))
        x = VideoCNN.convBNReLU(conv4b, bn4b, VideoCNN.convBNReLU(conv4a, bn4a, x))
        x = Tensor.maxPool3d(x, kernel: (2, 2, 2))
        return VideoCNN.convBNReLU(conv5b, bn5b, VideoCNN.convBNReLU(conv5a, bn5a, x))
    }

    /// The pooled features `[B, C]` (IIC's 512-d feature at full width).
    public func classEmbedding(_ clip: Tensor) -> Tensor { VideoCNN.pooled(convFeatures(clip)) }

    /// `linear(features)`, or the features when the model has no classifier.
    public func head(_ cls: Tensor) -> Tensor { linear.map { $0(cls) } ?? cls }
}

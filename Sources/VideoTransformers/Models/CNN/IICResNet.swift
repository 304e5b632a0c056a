import TensorCore

/// IIC's R3D and R(2+1)D (`models/r3d.py`, `models/r21d.py`; `reference/SVT-VideoMS-IIC.md` §3.6),
/// with the repository's key names.
///
/// Stem: a 3×7×7 convolution, stride (1,2,2), padding (1,3,3), then `bn1` and ReLU (no max-pool).
/// Four stages `conv2…conv5` of ``IICResBlock``s (`block1`, then `blocks.0…`); stages 3–5 halve
/// time, height and width in their first block. Global average pooling gives the class embedding
/// (512 at full width); `linear` is the optional classifier. R(2+1)D replaces every t×d×d
/// convolution by ``IICFactoredConv`` (spatial, BN, ReLU, temporal), shortcuts included.
public final class IICResNet: Module, VideoBackbone {
    /// The stem convolution.
    public let conv1: any UnaryLayer
    /// The stem BatchNorm.
    public let bn1: BatchNorm
    /// Stage 1 (no down-sampling).
    public let conv2: IICResLayer
    /// Stage 2.
    public let conv3: IICResLayer
    /// Stage 3.
    public let conv4: IICResLayer
    /// Stage 4.
    public let conv5: IICResLayer
    /// The classifier, absent when ``VideoCNNConfig/numClasses`` is 0.
    public let linear: Linear?
    /// The configuration the model was built from.
    public let config: VideoCNNConfig

    /// Builds R3D (``VideoCNNConfig/Architecture/r3d``) or R(2+1)D (`.r21d`) with PyTorch's default
    /// initialisation, drawn from `generator` in key order.
    public init(_ config: VideoCNNConfig, using generator: inout RandomGenerator) {
        precondition(config.problem == nil && (config.architecture == .r3d || config.architecture == .r21d),
                     "IICResNet: configuration \(config.architecture.rawValue) \(config.problem ?? "")")
        self.config = config
        let factored = config.architecture == .r21d
        let w = config.stageWidths
        conv1 = IICResNet.conv(3, w[0], kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3),
                               factored: factored, using: &generator)
        bn1 = BatchNorm(w[0])
        conv2 = IICResLayer(w[0], w[0], blocks: config.layers[0], downsample: false, factored: factored, using: &generator)
        conv3 = IICResLayer(w[0], w[1], blocks: config.layers[1], downsample: true, factored: factored, using: &generator)
        conv4 = IICResLayer(w[1], w[2], blocks: config.layers[2], downsample: true, factored: factored, using: &generator)
        conv5 = IICResLayer(w[2], w[3], blocks: config.layers[3], downsample: true, factored: factored, using: &generator)
        linear = config.numClasses > 0
            ? Linear(inFeatures: config.featureWidth, outFeatures: config.numClasses, using: &generator) : nil
        super.init()
    }

    /// One t×d×d convolution without bias: plain (`temporal_spatial_conv`) or factored.
    static func conv(
        _ cin: Int, _ cout: Int, kernel: (Int, Int, Int), stride: (Int, Int, Int), padding: (Int, Int, Int),
        factored: Bool, using generator: inout RandomGenerator
    ) -> any UnaryLayer {
        factored
            ? IICFactoredConv(cin, cout, kernel: kernel, stride: stride, padding: padding, using: &generator)
            : IICConv(cin, cout, kernel: kernel, stride: stride, padding: padding, using: &generator)
    }

    public var embedDim: Int { config.featureWidth }
    public var frameCount: Int { config.numFrames }
    public var noWeightDecayKeys: Set<String> { [] }

    /// The last conv map `[B, C, T/8, H/16, W/16]` of a clip `[B, T, 3, H, W]`.
    public func convFeatures(_ clip: Tensor) -> Tensor {
        var x = VideoCNN.channelsFirst(clip, op: "IICResNet")
        x = VideoCNN.convBNReLU(conv1, bn1, x)
        return conv5(conv4(conv3(conv2(x))))
    }

    /// The pooled features `[B, C]`.
    public func classEmbedding(_ clip: Tensor) -> Tensor { VideoCNN.pooled(convFeatures(clip)) }

    /// `linear(features)`, or the features when the model has no classifier.
    public func head(_ cls: Tensor) -> Tensor { linear.map { $0(cls) } ?? cls }
}

/// R3D's `SpatioTemporalConv`: one bias-free Conv3d under the key `temporal_spatial_conv`.
public final class IICConv: Module, UnaryLayer {
    /// The convolution.
    public let temporalSpatialConv: Conv3d

    /// Creates the convolution (PyTorch default initialisation).
    public init(_ cin: Int, _ cout: Int, kernel: (Int, Int, Int), stride: (Int, Int, Int), padding: (Int, Int, Int),
                using generator: inout RandomGenerator) {
        temporalSpatialConv = Conv3d(inChannels: cin, outChannels: cout, kernelSize: kernel, stride: stride,
                                     padding: padding, bias: false, using: &generator)
        super.init()
    }

    /// Convolves `x` `[N, C, T, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { temporalSpatialConv(x) }
}

/// R(2+1)D's `SpatioTemporalConv`: a spatial 1×d×d convolution (stride (1,s,s), padding (0,p,p)),
/// BatchNorm, ReLU, then a temporal t×1×1 convolution (stride (s,1,1), padding (p,0,0)), with
/// ``midChannels(_:_:kernel:)`` channels in between. Keys `spatial_conv`, `bn`, `temporal_conv`.
public final class IICFactoredConv: Module, UnaryLayer {
    /// The spatial convolution.
    public let spatialConv: Conv3d
    /// The BatchNorm between the two convolutions.
    public let bn: BatchNorm
    /// The temporal convolution.
    public let temporalConv: Conv3d

    /// The intermediate width `⌊t·d²·Cin·Cout / (d²·Cin + t·Cout)⌋` (the paper's §3.5 rule, which
    /// keeps the parameter count of the full t×d×d convolution; d² stands for kh·kw).
    public static func midChannels(_ cin: Int, _ cout: Int, kernel: (Int, Int, Int)) -> Int {
        let (t, spatial) = (kernel.0, kernel.1 * kernel.2)
        return (t * spatial * cin * cout) / (spatial * cin + t * cout)
    }

    /// Creates the factored convolution (PyTorch default initialisation, spatial first).
    public init(_ cin: Int, _ cout: Int, kernel: (Int, Int, Int), stride: (Int, Int, Int), padding: (Int, Int, Int),
                using generator: inout RandomGenerator) {
        let mid = IICFactoredConv.midChannels(cin, cout, kernel: kernel)
        spatialConv = Conv3d(inChannels: cin, outChannels: mid, kernelSize: (1, kernel.1, kernel.2),
                             stride: (1, stride.1, stride.2), padding: (0, padding.1, padding.2), bias: false,
                             using: &generator)
        bn = BatchNorm(mid)
        temporalConv = Conv3d(inChannels: mid, outChannels: cout, kernelSize: (kernel.0, 1, 1),
                              stride: (stride.0, 1, 1), padding: (padding.0, 0, 0), bias: false, using: &generator)
        super.init()
    }

    /// `temporal_conv(relu(bn(spatial_conv(x))))`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        temporalConv(VideoCNN.convBNReLU(spatialConv, bn, x))
    }
}

/// IIC's `SpatioTemporalResLayer`: `block1` (down-sampling in stages 3–5) then `blocks.0…`.
public final class IICResLayer: Module, UnaryLayer {
    /// The first block.
    public let block1: IICResBlock
    /// The remaining blocks.
    public let blocks: [IICResBlock]

    /// Creates a stage of `blocks` residual blocks.
    public init(_ cin: Int, _ cout: Int, blocks count: Int, downsample: Bool, factored: Bool,
                using generator: inout RandomGenerator) {
        block1 = IICResBlock(cin, cout, downsample: downsample, factored: factored, using: &generator)
        var rest: [IICResBlock] = []
        for _ in 1..<Swift.max(1, count) {
            rest.append(IICResBlock(cout, cout, downsample: false, factored: factored, using: &generator))
        }
        blocks = rest
        super.init()
    }

    /// Applies the blocks in turn.
    public func callAsFunction(_ x: Tensor) -> Tensor { blocks.reduce(block1(x)) { $1($0) } }
}

/// IIC's `SpatioTemporalResBlock`: `relu(bn1(conv1(x)))` → `bn2(conv2(·))`, plus the shortcut
/// (`downsamplebn(downsampleconv(x))`, a 1×1×1 stride-2 projection, when down-sampling), then ReLU.
/// Keys in registration order: `downsampleconv`, `downsamplebn`, `conv1`, `bn1`, `conv2`, `bn2`.
public final class IICResBlock: Module, UnaryLayer {
    /// The shortcut projection, when the block down-samples.
    public let downsampleconv: (any UnaryLayer)?
    /// The shortcut BatchNorm, when the block down-samples.
    public let downsamplebn: BatchNorm?
    /// The first 3×3×3 convolution (stride 2 when down-sampling).
    public let conv1: any UnaryLayer
    /// BatchNorm after `conv1`.
    public let bn1: BatchNorm
    /// The second 3×3×3 convolution.
    public let conv2: any UnaryLayer
    /// BatchNorm after `conv2`.
    public let bn2: BatchNorm

    /// Creates a block `cin → cout`.
    public init(_ cin: Int, _ cout: Int, downsample: Bool, factored: Bool, using generator: inout RandomGenerator) {
        if downsample {
            downsampleconv = IICResNet.conv(cin, cout, kernel: (1, 1, 1), stride: (2, 2, 2), padding: (0, 0, 0),
                                            factored: factored, using: &generator)
            downsamplebn = BatchNorm(cout)
        } else {
            downsampleconv = nil
            downsamplebn = nil
        }
        let s = downsample ? 2 : 1
        conv1 = IICResNet.conv(cin, cout, kernel: (3, 3, 3), stride: (s, s, s), padding: (1, 1, 1),
                               factored: factored, using: &generator)
        bn1 = BatchNorm(cout)
        conv2 = IICResNet.conv(cout, cout, kernel: (3, 3, 3), stride: (1, 1, 1), padding: (1, 1, 1),
                               factored: factored, using: &generator)
        bn2 = BatchNorm(cout)
        super.init()
    }

    /// The block's output.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let res = bn2(conv2(VideoCNN.convBNReLU(conv1, bn1, x)))
        let shortcut = downsampleconv.map { downsamplebn!($0(x)) } ?? x
        return (shortcut + res).relu()
    }
}

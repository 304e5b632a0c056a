import TensorCore

/// torchvision's `VideoResNet` as `r3d_18` and `r2plus1d_18` build it
/// (`torchvision/models/video/resnet.py`), with torchvision's key names: `stem.*`, `layer1…4.<i>.`
/// `conv1.*`, `conv2.*`, `downsample.*`, `fc`.
///
/// - `r3d_18`: stem Conv3d 3×7×7, stride (1,2,2), padding (1,3,3) → BN → ReLU (`stem.0`, `stem.1`);
///   blocks of two 3×3×3 convolutions (`conv1.0`, `conv1.1` BN, `conv2.0`, `conv2.1` BN).
/// - `r2plus1d_18`: stem 1×7×7 to 45 channels (stride (1,2,2)) → BN → ReLU → 3×1×1 to 64 → BN →
///   ReLU (`stem.0`, `stem.1`, `stem.3`, `stem.4`); each 3×3×3 convolution is `Conv2Plus1D`
///   (`conv1.0.0` spatial, `conv1.0.1` BN, `conv1.0.3` temporal) with torchvision's mid-plane width
///   `⌊Cin·Cout·27 / (9·Cin + 3·Cout)⌋`, computed once per block from its input and output widths
///   and used by both of its convolutions.
/// - Shortcuts (first block of stages 2–4): a 1×1×1 Conv3d of stride 2 and BN (`downsample.0`,
///   `downsample.1`), not factored.
/// - The class embedding is the global average pool (512 at full width); `fc` the classifier.
public final class TorchvisionVideoResNet: Module, VideoBackbone {
    /// The stem (`stem.0` …).
    public let stem: Sequential
    /// Stage 1.
    public let layer1: Sequential
    /// Stage 2.
    public let layer2: Sequential
    /// Stage 3.
    public let layer3: Sequential
    /// Stage 4.
    public let layer4: Sequential
    /// The classifier, absent when ``VideoCNNConfig/numClasses`` is 0.
    public let fc: Linear?
    /// The configuration the model was built from.
    public let config: VideoCNNConfig

    /// Builds the network with torchvision's initialisation: convolutions `kaiming_normal_`
    /// (fan-out, ReLU gain), BatchNorm 1/0, the classifier normal (std 0.01) with zero bias; drawn
    /// from `generator` in key order.
    public init(_ config: VideoCNNConfig, using generator: inout RandomGenerator) {
        let factored = config.architecture == .torchvisionR2Plus1D
        precondition(config.problem == nil && (factored || config.architecture == .torchvisionR3D),
                     "TorchvisionVideoResNet: configuration \(config.architecture.rawValue) \(config.problem ?? "")")
        self.config = config
        let w = config.stageWidths
        if factored {
            let mid = config.stemMidWidth
            stem = Sequential(
                Conv3d(inChannels: 3, outChannels: mid, kernelSize: (1, 7, 7), stride: (1, 2, 2), padding: (0, 3, 3),
                       bias: false, using: &generator),
                BatchNorm(mid), ReLU(),
                Conv3d(inChannels: mid, outChannels: w[0], kernelSize: (3, 1, 1), stride: (1, 1, 1), padding: (1, 0, 0),
                       bias: false, using: &generator),
                BatchNorm(w[0]), ReLU())
        } else {
            stem = Sequential(
                Conv3d(inChannels: 3, outChannels: w[0], kernelSize: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3),
                       bias: false, using: &generator),
                BatchNorm(w[0]), ReLU())
        }
        var inplanes = w[0]
        func stage(_ planes: Int, _ blocks: Int, _ stride: Int, _ g: inout RandomGenerator) -> Sequential {
            var layers: [any UnaryLayer] = []
            for i in 0..<blocks {
                layers.append(TorchvisionBasicBlock(inplanes, planes, stride: i == 0 ? stride : 1, factored: factored,
                                                    using: &g))
                inplanes = planes
            }
            return Sequential(layers)
        }
        layer1 = stage(w[0], config.layers[0], 1, &generator)
        layer2 = stage(w[1], config.layers[1], 2, &generator)
        layer3 = stage(w[2], config.layers[2], 2, &generator)
        layer4 = stage(w[3], config.layers[3], 2, &generator)
        fc = config.numClasses > 0
            ? Linear(inFeatures: config.featureWidth, outFeatures: config.numClasses, using: &generator) : nil
        super.init()
        for (_, module) in namedModules() {
            if let conv = module as? Conv3d { Init.kaimingNormalFanOut(conv.weight, using: &generator) }
        }
        if let fc {
            Init.normal(fc.weight, std: 0.01, using: &generator)
            if let b = fc.bias { Init.zeros(b) }
        }
    }

    public var embedDim: Int { config.featureWidth }
    public var frameCount: Int { config.numFrames }
    public var noWeightDecayKeys: Set<String> { [] }

    /// The last conv map `[B, C, T/8, H/16, W/16]` of a clip `[B, T, 3, H, W]`.
    public func convFeatures(_ clip: Tensor) -> Tensor {
        var x = VideoCNN.run(stem, VideoCNN.channelsFirst(clip, op: "TorchvisionVideoResNet"))
        for stage in [layer1, layer2, layer3, layer4] {
            for block in stage.layers { x = block(x) }
        }
        return x
    }

    /// The pooled features `[B, C]`.
    public func classEmbedding(_ clip: Tensor) -> Tensor { VideoCNN.pooled(convFeatures(clip)) }

    /// `fc(features)`, or the features when the model has no classifier.
    public func head(_ cls: Tensor) -> Tensor { fc.map { $0(cls) } ?? cls }
}

/// torchvision's video `BasicBlock`: `conv1` = (conv, BN, ReLU), `conv2` = (conv, BN), the optional
/// `downsample` = (1×1×1 conv of stride s, BN), sum, ReLU.
public final class TorchvisionBasicBlock: Module, UnaryLayer {
    /// Convolution, BatchNorm and ReLU.
    public let conv1: Sequential
    /// Convolution and BatchNorm.
    public let conv2: Sequential
    /// The shortcut projection, when the block changes shape.
    public let downsample: Sequential?

    /// Creates a block `inplanes → planes` with the given stride; `factored` builds `Conv2Plus1D`
    /// convolutions.
    public init(_ inplanes: Int, _ planes: Int, stride: Int, factored: Bool, using generator: inout RandomGenerator) {
        let mid = (inplanes * planes * 27) / (inplanes * 9 + 3 * planes)
        func conv(_ cin: Int, _ s: Int, _ g: inout RandomGenerator) -> any UnaryLayer {
            if factored {
                return Sequential(
                    Conv3d(inChannels: cin, outChannels: mid, kernelSize: (1, 3, 3), stride: (1, s, s), padding: (0, 1, 1),
                           bias: false, using: &g),
                    BatchNorm(mid), ReLU(),
                    Conv3d(inChannels: mid, outChannels: planes, kernelSize: (3, 1, 1), stride: (s, 1, 1), padding: (1, 0, 0),
                           bias: false, using: &g))
            }
            return Conv3d(inChannels: cin, outChannels: planes, kernelSize: 3, stride: s, padding: 1, bias: false, using: &g)
        }
        conv1 = Sequential(conv(inplanes, stride, &generator), BatchNorm(planes), ReLU())
        conv2 = Sequential(conv(planes, 1, &generator), BatchNorm(planes))
        if stride != 1 || inplanes != planes {
            downsample = Sequential(
                Conv3d(inChannels: inplanes, outChannels: planes, kernelSize: 1, stride: stride, bias: false, using: &generator),
                BatchNorm(planes))
        } else {
            downsample = nil
        }
        super.init()
    }

    /// The block's output.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let out = VideoCNN.run(conv2, VideoCNN.run(conv1, x))
        return (out + (downsample.map { VideoCNN.run($0, x) } ?? x)).relu()
    }
}

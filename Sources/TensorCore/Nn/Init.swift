import Foundation

/// Parameter initialisers matching `torch.nn.init` and timm, applied in place to a ``Parameter``.
///
/// Each function replaces the parameter's value (its identity and gradient leaf are kept) and
/// draws from an explicit generator where it is random. Fans follow PyTorch's
/// `_calculate_fan_in_and_fan_out`: for a weight `[out, in, k…]`, `fanIn = in·Πk` and
/// `fanOut = out·Πk`.
public enum Init {
    /// Fills with zeros (`nn.init.zeros_`).
    public static func zeros(_ parameter: Parameter) {
        constant(parameter, 0)
    }

    /// Fills with ones (`nn.init.ones_`).
    public static func ones(_ parameter: Parameter) {
        constant(parameter, 1)
    }

    /// Fills with one value (`nn.init.constant_`).
    public static func constant(_ parameter: Parameter, _ value: Float) {
        parameter.value = Tensor(repeating: value, shape: parameter.shape)
    }

    /// Normal values with the given mean and standard deviation (`nn.init.normal_`).
    public static func normal(
        _ parameter: Parameter, mean: Float = 0, std: Float = 1, using generator: inout RandomGenerator
    ) {
        parameter.value = Tensor.normal(parameter.shape, mean: mean, std: std, using: &generator)
    }

    /// Normal values redrawn until they fall in the absolute interval `[a, b]`, as timm's
    /// `trunc_normal_(std=0.02)` (whose bounds ±2 are absolute, so with a small `std` they
    /// practically never bind).
    public static func truncatedNormal(
        _ parameter: Parameter, mean: Float = 0, std: Float = 0.02, a: Float = -2, b: Float = 2,
        using generator: inout RandomGenerator
    ) {
        parameter.value = Tensor.truncatedNormal(parameter.shape, mean: mean, std: std, a: a, b: b,
                                                 using: &generator)
    }

    /// Uniform values in `[−bound, bound)` with `bound = gain·√(6/(fanIn + fanOut))`
    /// (`nn.init.xavier_uniform_`).
    public static func xavierUniform(
        _ parameter: Parameter, gain: Float = 1, using generator: inout RandomGenerator
    ) {
        let (fanIn, fanOut) = fans(parameter.shape, op: "xavierUniform")
        let bound = gain * (6 / Float(Swift.max(fanIn + fanOut, 1))).squareRoot()
        uniform(parameter, bound: bound, using: &generator)
    }

    /// Uniform values in `[−bound, bound)` with `bound = √(6/((1 + a²)·fanIn))`
    /// (`nn.init.kaiming_uniform_` with the leaky-ReLU gain and `mode='fan_in'`).
    public static func kaimingUniform(
        _ parameter: Parameter, a: Float = 0, using generator: inout RandomGenerator
    ) {
        let (fanIn, _) = fans(parameter.shape, op: "kaimingUniform")
        let bound = (6 / ((1 + a * a) * Float(Swift.max(fanIn, 1)))).squareRoot()
        uniform(parameter, bound: bound, using: &generator)
    }

    /// Normal values with standard deviation `√2/√fanOut` (`nn.init.kaiming_normal_` with
    /// `mode='fan_out', nonlinearity='relu'`, as torchvision initialises its convolutions).
    public static func kaimingNormalFanOut(_ parameter: Parameter, using generator: inout RandomGenerator) {
        let (_, fanOut) = fans(parameter.shape, op: "kaimingNormalFanOut")
        normal(parameter, std: (2 / Float(Swift.max(fanOut, 1))).squareRoot(), using: &generator)
    }

    /// PyTorch's default initialisation of `nn.Linear` and `nn.ConvNd`: `kaiming_uniform_(a=√5)`
    /// on the weight, which is `U(−1/√fanIn, 1/√fanIn)`, and the same bound for the bias.
    /// timm's transformer initialisation over a whole tree (`_init_weights`): every `Linear` weight
    /// truncated-normal (std 0.02) with zero bias, every `LayerNorm` 1/0; other layers keep theirs.
    /// Draws in tree order from `generator`.
    public static func truncatedNormalLinears(in module: Module, using generator: inout RandomGenerator) {
        for (_, child) in module.namedModules() {
            if let linear = child as? Linear {
                truncatedNormal(linear.weight, std: 0.02, using: &generator)
                if let bias = linear.bias { zeros(bias) }
            } else if let norm = child as? LayerNorm {
                if let w = norm.weight { ones(w) }
                if let b = norm.bias { zeros(b) }
            }
        }
    }

    public static func pytorchDefault(
        weight: Parameter, bias: Parameter?, using generator: inout RandomGenerator
    ) {
        kaimingUniform(weight, a: Float(5).squareRoot(), using: &generator)
        if let bias {
            let (fanIn, _) = fans(weight.shape, op: "pytorchDefault")
            let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
            uniform(bias, bound: bound, using: &generator)
        }
    }

    /// Fills with uniform values in `[−bound, bound)`.
    public static func uniform(
        _ parameter: Parameter, bound: Float, using generator: inout RandomGenerator
    ) {
        parameter.value = Tensor.uniform(parameter.shape, low: -bound, high: bound, using: &generator)
    }

    /// `(fanIn, fanOut)` of a weight shape, as PyTorch computes them.
    ///
    /// - Precondition: the shape has rank ≥ 2.
    public static func fans(_ shape: [Int], op: String = "fans") -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "\(op): fan in and fan out need rank ≥ 2, got shape \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }
}

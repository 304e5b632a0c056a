/// Dense optical flow.
public enum OpticalFlow {
    /// OpenCV's smallest pyramid level side: coarser levels are skipped.
    static let minimumLevelSize = 32

    /// Gunnar Farnebäck's two-frame dense optical flow, computed exactly as OpenCV's
    /// `calcOpticalFlowFarneback` does.
    ///
    /// Each level of a Gaussian pyramid expands both images into local quadratic polynomials and
    /// refines the displacement `iterations` times from window-averaged equations; the result is
    /// upsampled into the next finer level. Pixel values are used as given (OpenCV does not
    /// normalise either). Rows are processed in parallel within ``TensorCore/ComputeContext``'s
    /// thread budget.
    ///
    /// - Parameters:
    ///   - previous: the first frame.
    ///   - next: the second frame, the same size as `previous`.
    ///   - parameters: the algorithm settings (defaults: TIME's).
    ///   - initialFlow: a starting estimate (OpenCV's `OPTFLOW_USE_INITIAL_FLOW`), the frame size.
    /// - Returns: the flow from `previous` to `next` at every pixel of `previous`.
    /// - Throws: ``OpticalFlowError`` for mismatched sizes, non-finite values or invalid parameters.
    public static func farneback(
        previous: GrayImage, next: GrayImage,
        parameters: FarnebackParameters = .time, initialFlow: FlowField? = nil
    ) throws(OpticalFlowError) -> FlowField {
        try parameters.validate()
        try validate(previous: previous, next: next, initialFlow: initialFlow)
        let pyramid = FarnebackPyramid(parameters: parameters, width: previous.width, height: previous.height)
        return pyramid.flow(
            from: pyramid.expand(previous.pixels), to: pyramid.expand(next.pixels), initialFlow: initialFlow)
    }

    static func validate(previous: GrayImage, next: GrayImage, initialFlow: FlowField?) throws(OpticalFlowError) {
        guard previous.width == next.width && previous.height == next.height else {
            throw .sizeMismatch(previous: [previous.height, previous.width], next: [next.height, next.width])
        }
        if let i = previous.firstNonFiniteIndex { throw .nonFinite(input: "previous", index: i) }
        if let i = next.firstNonFiniteIndex { throw .nonFinite(input: "next", index: i) }
        if let flow = initialFlow {
            guard flow.width == previous.width && flow.height == previous.height else {
                throw .sizeMismatch(previous: [previous.height, previous.width], next: [flow.height, flow.width])
            }
            if let i = flow.vectors.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(input: "initialFlow", index: i) }
        }
    }
}

/// The pyramid geometry for one frame size and the per-frame work that does not depend on the
/// other frame (blur, resize, polynomial expansion), so a clip can expand each frame once.
struct FarnebackPyramid {
    let parameters: FarnebackParameters
    let width: Int, height: Int
    /// The number of extra levels actually used.
    let levelCount: Int
    let expansion: PolynomialExpansion

    init(parameters: FarnebackParameters, width: Int, height: Int) {
        self.parameters = parameters
        self.width = width
        self.height = height
        // Same stopping rule as OpenCV: stop before a level narrower than 32 pixels.
        var count = 0
        var scale = 1.0
        while count < parameters.levels {
            scale *= parameters.pyramidScale
            let minimum = Double(OpticalFlow.minimumLevelSize)
            if Double(width) * scale < minimum || Double(height) * scale < minimum { break }
            count += 1
        }
        levelCount = count
        expansion = PolynomialExpansion(n: parameters.polynomialNeighborhood, sigma: parameters.polynomialSigma)
    }

    /// Polynomial expansions of every level of one frame, finest first.
    func expand(_ pixels: [Float]) -> [[Float]] {
        (0...levelCount).map { k in
            let level = GaussianPyramid.level(k, width: width, height: height, pyramidScale: parameters.pyramidScale)
            let kernel = GaussianPyramid.gaussianKernel(size: level.kernelSize, sigma: level.sigma)
            let blurred = GaussianPyramid.blur(pixels, width: width, height: height, kernel: kernel)
            let image = GaussianPyramid.resizeLinear(
                blurred, width: width, height: height, channels: 1, toWidth: level.width, toHeight: level.height)
            return expansion(image, width: level.width, height: level.height)
        }
    }

    /// Coarse-to-fine estimation from two frames' expansions.
    func flow(from previous: [[Float]], to next: [[Float]], initialFlow: FlowField?) -> FlowField {
        var flow: [Float] = []
        var flowWidth = 0, flowHeight = 0
        for k in stride(from: levelCount, through: 0, by: -1) {
            let level = GaussianPyramid.level(k, width: width, height: height, pyramidScale: parameters.pyramidScale)
            let w = level.width, h = level.height
            if k == levelCount {
                if let initial = initialFlow {
                    flow = GaussianPyramid.resizeArea(
                        initial.vectors, width: width, height: height, channels: 2, toWidth: w, toHeight: h)
                    for i in flow.indices { flow[i] = Float(Double(flow[i]) * level.scale) }
                } else {
                    flow = [Float](repeating: 0, count: 2 * w * h)
                }
            } else {
                flow = GaussianPyramid.resizeLinear(
                    flow, width: flowWidth, height: flowHeight, channels: 2, toWidth: w, toHeight: h)
                let factor = 1 / parameters.pyramidScale
                for i in flow.indices { flow[i] = Float(Double(flow[i]) * factor) }
            }
            flowWidth = w
            flowHeight = h
            let solver = FarnebackLevel(width: w, height: h, r0: previous[k], r1: next[k])
            var m = [Float](repeating: 0, count: 5 * w * h)
            solver.updateMatrices(flow: flow, into: &m)
            for iteration in 0..<parameters.iterations {
                switch parameters.window {
                case .box: solver.boxFlow(m: m, windowSize: parameters.windowSize, flow: &flow)
                case .gaussian: solver.gaussianFlow(m: m, windowSize: parameters.windowSize, flow: &flow)
                }
                if iteration < parameters.iterations - 1 { solver.updateMatrices(flow: flow, into: &m) }
            }
        }
        return FlowField(unchecked: width, height, flow)
    }
}

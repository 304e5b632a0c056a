/// The settings of ``OpticalFlow/farneback(previous:next:parameters:initialFlow:)``, named after
/// the arguments of OpenCV's `calcOpticalFlowFarneback`.
public struct FarnebackParameters: Sendable, Equatable {
    /// How the displacement equations are averaged over the neighbourhood of each pixel.
    public enum Window: Sendable, Equatable {
        /// A uniform `windowSize²` box (OpenCV flags 0): faster.
        case box
        /// A Gaussian with σ = 0.3·(windowSize/2) (`OPTFLOW_FARNEBACK_GAUSSIAN`): more accurate, slower.
        case gaussian
    }

    /// `pyr_scale`: each pyramid level is this fraction of the one below, in (0, 1).
    public var pyramidScale: Double
    /// `levels`: the number of extra pyramid levels; fewer are used when a level would be narrower
    /// than 32 pixels. 0 uses the full-size images only.
    public var levels: Int
    /// `winsize`: the averaging window side in pixels (≥ 1).
    public var windowSize: Int
    /// `iterations`: the number of estimation sweeps per level (≥ 1).
    public var iterations: Int
    /// `poly_n`: the polynomial-expansion neighbourhood half-size (OpenCV suggests 5 or 7).
    public var polynomialNeighborhood: Int
    /// `poly_sigma`: the σ of the expansion's Gaussian applicability (1.1 for n = 5, 1.5 for n = 7).
    public var polynomialSigma: Double
    /// The averaging window (the `OPTFLOW_FARNEBACK_GAUSSIAN` flag).
    public var window: Window

    /// Creates parameters; the defaults are the ones TIME uses (see ``time``).
    public init(
        pyramidScale: Double = 0.5, levels: Int = 3, windowSize: Int = 15, iterations: Int = 3,
        polynomialNeighborhood: Int = 5, polynomialSigma: Double = 1.2, window: Window = .box
    ) {
        self.pyramidScale = pyramidScale
        self.levels = levels
        self.windowSize = windowSize
        self.iterations = iterations
        self.polynomialNeighborhood = polynomialNeighborhood
        self.polynomialSigma = polynomialSigma
        self.window = window
    }

    /// TIME's label settings: `calcOpticalFlowFarneback(prev, next, None, 0.5, 3, 15, 3, 5, 1.2, 0)`.
    public static let time = FarnebackParameters()

    func validate() throws(OpticalFlowError) {
        func bad(_ name: String, _ value: Any, _ requirement: String) -> OpticalFlowError {
            .invalidParameter(name: name, value: "\(value)", requirement: requirement)
        }
        guard pyramidScale > 0 && pyramidScale < 1 else { throw bad("pyramidScale", pyramidScale, "it must lie in (0, 1)") }
        guard levels >= 0 else { throw bad("levels", levels, "it must be 0 or more") }
        guard windowSize >= 1 else { throw bad("windowSize", windowSize, "it must be at least 1") }
        guard iterations >= 1 else { throw bad("iterations", iterations, "it must be at least 1") }
        guard (1...32).contains(polynomialNeighborhood) else {
            throw bad("polynomialNeighborhood", polynomialNeighborhood, "it must be between 1 and 32 (5 or 7 usual)")
        }
        guard polynomialSigma.isFinite && polynomialSigma >= 0 else {
            throw bad("polynomialSigma", polynomialSigma, "it must be finite and not negative")
        }
    }
}

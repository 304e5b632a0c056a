import Foundation
import Testing
import TensorCore
import VideoIO
import _TestSupport

/// Agreement with OpenCV 4.x `calcOpticalFlowFarneback` on the golden pairs of
/// `Scripts/reference/make_farneback_fixtures.py` (mean end-point error ≤ 0.02 px, max ≤ 0.5 px).
@Suite struct FarnebackTests {
    let fixtures = FarnebackFixtures.shared

    func gray(_ clip: String) -> [GrayImage] {
        try! FlowDirectionLabels.grayFrames(clip: fixtures.normalisedClip(clip))
    }

    @Test(arguments: [0, 1, 2])
    func matchesOpenCVAt112(pair: Int) throws {
        let frames = gray("clip112")
        let flow = try OpticalFlow.farneback(previous: frames[pair], next: frames[pair + 1])
        let error = EndPointError(flow, fixtures.flow("flow112", index: pair))
        #expect(error.mean <= 0.02 && error.max <= 0.5, "\(error)")
    }

    @Test func matchesOpenCVAt224() throws {
        let frames = gray("gray224")
        let flow = try OpticalFlow.farneback(previous: frames[0], next: frames[1])
        let error = EndPointError(flow, fixtures.flow("flow224"))
        #expect(error.mean <= 0.02 && error.max <= 0.5, "\(error)")
    }

    @Test func matchesOpenCVWithGaussianWindow() throws {
        let frames = gray("clip112")
        var parameters = FarnebackParameters.time
        parameters.window = .gaussian
        let flow = try OpticalFlow.farneback(previous: frames[0], next: frames[1], parameters: parameters)
        let error = EndPointError(flow, fixtures.flow("flow112_gaussian"))
        #expect(error.mean <= 0.02 && error.max <= 0.5, "\(error)")
    }

    @Test func matchesOpenCVWithInitialFlow() throws {
        let frames = gray("clip112")
        let initial = FlowField(width: 112, height: 112, dx: 0.75, dy: -0.5)
        let flow = try OpticalFlow.farneback(previous: frames[1], next: frames[2], initialFlow: initial)
        let error = EndPointError(flow, fixtures.flow("flow112_initial"))
        #expect(error.mean <= 0.02 && error.max <= 0.5, "\(error)")
    }

    @Test func matchesOpenCVOnOddSizeAndOtherParameters() throws {
        let frames = gray("clip112")
        func crop(_ image: GrayImage) throws -> GrayImage {
            let pixels = (0..<101).flatMap { y in image.pixels[(y * 112)..<(y * 112 + 90)] }
            return try GrayImage(width: 90, height: 101, pixels: pixels)
        }
        let parameters = FarnebackParameters(
            pyramidScale: 0.6, levels: 4, windowSize: 9, iterations: 2,
            polynomialNeighborhood: 7, polynomialSigma: 1.5, window: .gaussian)
        let flow = try OpticalFlow.farneback(
            previous: crop(frames[0]), next: crop(frames[1]), parameters: parameters)
        let error = EndPointError(flow, fixtures.flow("flow_odd_101x90"))
        #expect(error.mean <= 0.02 && error.max <= 0.5, "\(error)")
    }

    /// A whole-pixel shift of a smooth pattern is recovered in the interior.
    @Test func recoversIntegerShift() throws {
        let w = 64, h = 64
        func pattern(_ x: Int, _ y: Int) -> Float {
            let fx = Float(x), fy = Float(y)
            return 60 * sin(fx * 0.31) * cos(fy * 0.23) + 40 * sin((fx + fy) * 0.17)
        }
        let a = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { pattern($0 % w, $0 / w) })
        let b = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { pattern($0 % w - 2, $0 / w + 1) })
        let flow = try OpticalFlow.farneback(previous: a, next: b)
        let centre = flow[x: 32, y: 32]
        #expect(abs(centre.dx - 2) < 0.1 && abs(centre.dy + 1) < 0.1, "\(centre)")
    }

    /// Away from the edge, where OpenCV (and this port) damp the equations asymmetrically, a
    /// frame compared with itself does not move.
    @Test func identicalFramesGiveZeroFlowInside() throws {
        let frames = gray("clip112")
        let flow = try OpticalFlow.farneback(previous: frames[0], next: frames[0])
        var worst: Float = 0
        for y in 20..<92 {
            for x in 20..<92 { worst = max(worst, abs(flow[x: x, y: y].dx), abs(flow[x: x, y: y].dy)) }
        }
        #expect(worst < 1e-4, "largest interior component \(worst)")
    }

    @Test func rejectsBadInput() throws {
        let a = try GrayImage(width: 8, height: 8, pixels: [Float](repeating: 1, count: 64))
        let b = try GrayImage(width: 8, height: 9, pixels: [Float](repeating: 1, count: 72))
        #expect(throws: OpticalFlowError.sizeMismatch(previous: [8, 8], next: [9, 8])) {
            try OpticalFlow.farneback(previous: a, next: b)
        }
        var pixels = [Float](repeating: 1, count: 64)
        pixels[10] = .nan
        let c = try GrayImage(width: 8, height: 8, pixels: pixels)
        #expect(throws: OpticalFlowError.nonFinite(input: "next", index: 10)) {
            try OpticalFlow.farneback(previous: a, next: c)
        }
        #expect(throws: OpticalFlowError.emptyImage(width: 0, height: 5)) {
            try GrayImage(width: 0, height: 5, pixels: [])
        }
        #expect(throws: OpticalFlowError.bufferSizeMismatch(expected: 64, actual: 63)) {
            try GrayImage(width: 8, height: 8, pixels: [Float](repeating: 0, count: 63))
        }
        var parameters = FarnebackParameters.time
        parameters.pyramidScale = 1
        do {
            _ = try OpticalFlow.farneback(previous: a, next: a, parameters: parameters)
            Issue.record("pyramidScale 1 was accepted")
        } catch {
            #expect("\(error)".contains("pyramidScale"))
        }
        let wrongInitial = FlowField(width: 4, height: 4, dx: 0, dy: 0)
        #expect(throws: OpticalFlowError.sizeMismatch(previous: [8, 8], next: [4, 4])) {
            try OpticalFlow.farneback(previous: a, next: a, initialFlow: wrongInitial)
        }
    }

    /// Frames smaller than a pyramid level or the 10-pixel border zone still work.
    @Test func tinyImagesDoNotCrash() throws {
        for (w, h) in [(1, 1), (3, 7), (9, 2)] {
            let a = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { Float($0 % 5) })
            let b = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { Float(($0 + 1) % 5) })
            let flow = try OpticalFlow.farneback(previous: a, next: b)
            #expect(flow.width == w && flow.height == h && flow.vectors.allSatisfy { $0.isFinite })
        }
    }
}

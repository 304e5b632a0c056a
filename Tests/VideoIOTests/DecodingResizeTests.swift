import Foundation
import Testing
import TensorCore
import VideoIO

@Suite struct DecodingResizeTests {
    @Test func solidColourSurvivesEveryFilter() throws {
        let solid = [UInt8]([200, 100, 50]).repeated(Fixture.width * Fixture.height)
        let reader = try VideoReader(path: try Fixture.write(frames: 2, frame: { _ in solid }))
        for filter in [ResizeFilter.bilinear, .bicubic, .area, .nearest] {
            let f = try reader.frame(at: 1, size: FrameSize(width: 40, height: 30), filter: filter)
            #expect(f.width == 40 && f.height == 30)
            #expect(f.pixels == [UInt8]([200, 100, 50]).repeated(40 * 30), "\(filter)")
        }
    }

    @Test func areaHalvingAveragesTwoByTwoBlocks() throws {
        // Constant 2×2 blocks: halving with area averaging must give back exactly one block each.
        func blocks(_ k: Int) -> [UInt8] {
            var p = [UInt8](repeating: 0, count: Fixture.width * Fixture.height * 3)
            for y in 0..<Fixture.height {
                for x in 0..<Fixture.width {
                    let o = (y * Fixture.width + x) * 3
                    p[o] = UInt8((x / 2) * 8); p[o + 1] = UInt8((y / 2) * 10); p[o + 2] = UInt8(k * 40)
                }
            }
            return p
        }
        let reader = try VideoReader(path: try Fixture.write(frames: 3, frame: blocks))
        let f = try reader.frame(at: 2, size: FrameSize(width: 32, height: 24), filter: .area)
        var worst = 0
        for y in 0..<24 {
            for x in 0..<32 {
                let (r, g, b) = f.rgb(x: x, y: y)
                worst = max(worst, abs(Int(r) - x * 8), abs(Int(g) - y * 10), abs(Int(b) - 80))
            }
        }
        // swscale's fixed-point filter coefficients may round by one step.
        #expect(worst <= 1, "largest deviation \(worst)")
    }

    @Test func clipTensorHoldsNormalisedFramesInRequestOrder() throws {
        let reader = try VideoReader(path: try Fixture.write(frames: 8))
        let clip = try reader.clip(at: [5, 1])
        #expect(clip.shape == [2, 48, 64, 3])
        let expected = (Fixture.pattern(5) + Fixture.pattern(1)).map { Float($0) / 255 }
        let worst = zip(clip.scalars, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-6)
        #expect(try reader.clip(at: [0], size: FrameSize(width: 16, height: 12)).shape == [1, 12, 16, 3])
    }

    @Test func frameTensorMatchesBytes() throws {
        let frame = VideoFrame(index: 0, timestamp: 0, width: 2, height: 1, pixels: [0, 51, 255, 102, 153, 204])
        #expect(frame.tensor().shape == [1, 2, 3])
        #expect(frame.tensor().scalars == [0, 0.2, 1, 0.4, 0.6, 0.8].map { Float($0) })
    }
}

extension Array {
    func repeated(_ n: Int) -> [Element] { Array((0..<n).map { _ in self }.joined()) }
}

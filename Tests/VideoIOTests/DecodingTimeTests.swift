import Foundation
import Testing
import VideoIO

@Suite struct DecodingTimeTests {
    @Test func timeMapsToTheFrameOnScreen() throws {
        let reader = try VideoReader(path: try Fixture.write())
        for k in [0, 1, 14, 29] {
            #expect(try reader.frameIndex(atTime: Double(k) / 30) == k)
            #expect(try reader.frameIndex(atTime: (Double(k) + 0.6) / 30) == k)
        }
        #expect(try reader.frame(atTime: 0.5).pixels == Fixture.pattern(15))
        #expect(try reader.frameIndex(atTime: 1.0) == 29)
    }

    @Test func variableFrameRateUsesRealTimestamps() throws {
        // Gaps of 1, 2 and 3 frame periods: index and time no longer agree through the fps.
        let pts: [Int64] = [0, 1, 3, 6, 7, 9, 12, 13, 15, 18]
        let path = try Fixture.write(frames: pts.count, maxBFrames: 0, pts: pts)
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == pts.count)
        for (k, p) in pts.enumerated() {
            #expect(abs(try reader.timestamp(ofFrame: k) - Double(p) / 30) < 1e-9)
            // Halfway into the gap after frame k, frame k is still shown.
            #expect(try reader.frameIndex(atTime: (Double(p) + 0.5) / 30) == k)
        }
        #expect(try reader.frame(atTime: 10.0 / 30).pixels == Fixture.pattern(5))
        #expect(try reader.frame(at: 6).pixels == Fixture.pattern(6))
    }

    @Test func timesOutsideTheVideoThrow() throws {
        let path = try Fixture.write(frames: 6)
        let reader = try VideoReader(path: path)
        for bad in [-0.1, 0.5, Double.nan] {
            #expect(throws: VideoIOError.self) { try reader.frameIndex(atTime: bad) }
        }
        do {
            _ = try reader.frame(atTime: 3)
            Issue.record("expected timeOutOfRange")
        } catch let error as VideoIOError {
            guard case .timeOutOfRange(let p, 3, let duration) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(p == path && abs(duration - 0.2) < 1e-9)
        }
    }
}

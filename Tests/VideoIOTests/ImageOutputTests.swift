import Foundation
import _TestSupport
import Testing
import VideoIO

@Suite("PNG output and flow colour coding")
struct ImageOutputTests {
    @Test func pngDecodesBackExactlyThroughFFmpeg() throws {
        let (w, h) = (70, 300)  // rows long enough to need several stored deflate blocks in total
        let pixels: [UInt8] = (0..<(w * h * 3)).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i * 37 + i / 211) }
        let url = Scratch.directory("videossl-png").appendingPathComponent("image.png")
        defer { try? FileManager.default.removeItem(at: url) }
        try PNGEncoder.writeRGB(width: w, height: h, pixels: pixels, to: url)
        let reader = try VideoReader(path: url.path)
        #expect(reader.metadata.width == w && reader.metadata.height == h)
        let frame = try reader.frame(at: 0)
        #expect(frame.pixels == pixels)
    }

    @Test func pngChecksumsMatchTheStandardVectors() {
        // The PNG signature's IEND chunk always ends with the CRC AE 42 60 82.
        let png = PNGEncoder.encodeRGB(width: 1, height: 1, pixels: [255, 0, 0])
        #expect(Array(png.suffix(4)) == [0xAE, 0x42, 0x60, 0x82])
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test func flowColoursFollowDirectionAndMagnitude() throws {
        // Four vectors: right, down, left, up (y down), the last one at half magnitude.
        let flow = try FlowField(width: 4, height: 1, vectors: [2, 0, 0, 2, -2, 0, 0, -1])
        let rgb = FlowVisualization.rgb(flow)
        #expect(Array(rgb[0..<3]) == [255, 0, 0])      // 0°: red
        // 90°: hue 90 → yellow-green (red half on: 127.5 either way within rounding of atan2)
        #expect([127, 128].contains(rgb[3]) && rgb[4] == 255 && rgb[5] == 0)
        #expect(Array(rgb[6..<9]) == [0, 255, 255])    // 180°: cyan
        #expect(Array(rgb[9..<12]) == [64, 0, 128])    // 270° at half brightness: violet
        #expect(FlowVisualization.rgb(try FlowField(width: 2, height: 1, vectors: [0, 0, 0, 0])) == [UInt8](repeating: 0, count: 6))
    }
}

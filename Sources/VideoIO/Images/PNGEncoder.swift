import Foundation

/// Writes 8-bit RGB images as PNG files, so that frames and flow fields can be looked at.
///
/// The image data is stored in uncompressed deflate blocks: files are larger than an optimising
/// encoder's, but encoding is a copy plus two checksums and needs no compression library.
public enum PNGEncoder {
    /// PNG bytes for an RGB image given as `[height, width, 3]` bytes in row-major order.
    ///
    /// - Precondition: `pixels.count == width * height * 3` and both sides are positive.
    public static func encodeRGB(width: Int, height: Int, pixels: [UInt8]) -> Data {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "PNGEncoder.encodeRGB: \(pixels.count) bytes for a \(width)×\(height) RGB image")
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)  // filter type None
            raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = [UInt8]()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 2, 0, 0, 0])  // 8 bits, RGB, deflate, no filter, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Writes an RGB image to `url` atomically.
    public static func writeRGB(width: Int, height: Int, pixels: [UInt8], to url: URL) throws {
        let data = encodeRGB(width: width, height: height, pixels: pixels)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw VideoIOError.encodeFailed(path: url.path, reason: "cannot write the PNG file (\(error.localizedDescription))")
        }
    }

    private static func appendChunk(_ type: String, _ body: [UInt8], to png: inout Data) {
        var length = [UInt8]()
        length.appendBigEndian(UInt32(body.count))
        png.append(contentsOf: length)
        let typed = Array(type.utf8) + body
        png.append(contentsOf: typed)
        var crc = [UInt8]()
        crc.appendBigEndian(crc32(typed))
        png.append(contentsOf: crc)
    }

    /// A zlib stream of stored (uncompressed) deflate blocks of at most 65,535 bytes each.
    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = Swift.min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
            out.append(UInt8(~n & 0xFF)); out.append(UInt8((~n >> 8) & 0xFF))
            out.append(contentsOf: data[offset..<(offset + n)])
            offset += n
        } while offset < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for chunk in stride(from: 0, to: bytes.count, by: 5552) {
            for byte in bytes[chunk..<Swift.min(chunk + 5552, bytes.count)] {
                a += UInt32(byte)
                b += a
            }
            a %= 65_521
            b %= 65_521
        }
        return (b << 16) | a
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24)); append(UInt8((value >> 16) & 0xFF))
        append(UInt8((value >> 8) & 0xFF)); append(UInt8(value & 0xFF))
    }
}

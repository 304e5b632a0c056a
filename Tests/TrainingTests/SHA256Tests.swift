import Foundation
import Testing
import Training

/// The checkpoint-manifest hasher against the FIPS 180-2 example vectors, its buffering across
/// update boundaries, and the streaming file path.
@Suite("SHA-256")
struct SHA256Tests {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Bytes that differ at every position, so a misplaced piece changes the digest.
    private func pattern(count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    }

    @Test func emptyMessage() {
        #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func abc() {
        #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// 448 bits: the length no longer fits after the padding byte, so padding spans two blocks.
    @Test func twoBlockMessage() {
        let message = Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(of: message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionA() {
        let message = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(of: message) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Pieces that end just before, on and just after block boundaries exercise the partial-block buffer.
    @Test(arguments: [[1, 63, 64, 65], [63, 1, 65, 64, 7], [65, 65, 65, 65], [1, 1, 1, 128, 127, 2]])
    func splitUpdatesMatchOneUpdate(pieces: [Int]) {
        let total = pieces.reduce(0, +) + 100
        let data = pattern(count: total)
        var split = SHA256()
        var offset = 0
        for piece in pieces + [100] {
            split.update(data.subdata(in: offset..<(offset + piece)))
            offset += piece
        }
        var whole = SHA256()
        whole.update(data)
        #expect(hex(split.finalize()) == hex(whole.finalize()))
    }

    @Test func rawBufferUpdatesMatchData() {
        let data = pattern(count: 1_000)
        var raw = SHA256()
        data.withUnsafeBytes { bytes in
            raw.update(UnsafeRawBufferPointer(rebasing: bytes[0..<3]))
            raw.update(UnsafeRawBufferPointer(rebasing: bytes[3..<3]))
            raw.update(UnsafeRawBufferPointer(rebasing: bytes[3..<700]))
            raw.update(UnsafeRawBufferPointer(rebasing: bytes[700..<1_000]))
        }
        #expect(hex(raw.finalize()) == SHA256.hex(of: data))
    }

    @Test func fileDigestMatchesInMemoryDigest() throws {
        // Over one 4 MiB read chunk and not a multiple of 64, so the file path crosses a chunk edge.
        let data = pattern(count: (4 << 20) + 1_000_003)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sha256-\(UUID().uuidString).bin")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try SHA256.hexOfFile(atPath: url.path) == SHA256.hex(of: data))
    }

    @Test func missingFileThrowsWithItsPath() {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("sha256-missing-\(UUID().uuidString).bin").path
        let error = #expect(throws: SHA256FileError.self) { try SHA256.hexOfFile(atPath: path) }
        #expect(error?.path == path)
    }
}

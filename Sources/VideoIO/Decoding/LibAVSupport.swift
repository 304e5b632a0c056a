internal import _CFFmpeg

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Function-like C macros that Swift cannot import, spelled out once here.

/// `AVERROR(EAGAIN)`: the codec wants the other half of the send/receive pair first.
let averrorAgain: Int32 = -EAGAIN
/// `AVERROR_EOF`, i.e. `-MKTAG('E','O','F',' ')`.
let averrorEOF: Int32 = -Int32(bitPattern: 0x2046_4F45)
/// `AV_NOPTS_VALUE`.
let avNoPTS: Int64 = Int64.min

/// The text FFmpeg gives for an error code (what `av_err2str` would print).
func libavErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 128)
    av_strerror(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Owns one `AVPacket`; freed with the owner on every path.
final class OwnedPacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() {
        // av_packet_alloc only fails when malloc does; there is nothing sensible to recover then.
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// Owns one `AVFrame`.
final class OwnedFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() {
        guard let p = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }
}

/// Owns one `AVCodecContext` (decoder or encoder).
final class OwnedCodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    init?(codec: UnsafePointer<AVCodec>) {
        guard let p = avcodec_alloc_context3(codec) else { return nil }
        pointer = p
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&p)
    }
}

/// Owns an input `AVFormatContext` opened with `avformat_open_input`.
final class OwnedInputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>

    /// The only protocol a reader opens: local files. No network access, and a container cannot
    /// make the reader fetch another URL.
    static let protocolWhitelist = "file"

    /// The demuxers a reader accepts, chosen by content whatever the file's name: ordinary video
    /// containers and single images (and plain audio and subtitle formats, so that such a file is
    /// reported as having no video stream). Demuxers that follow references to other files or URLs
    /// (HLS and DASH playlists, `concat` lists, `tee`, …) are not on it, so a playlist saved as
    /// `.mp4` is refused instead of opening the paths it names.
    static let formatWhitelist = [
        "mov", "matroska", "avi", "mpegts", "mpeg", "flv", "ogg", "asf", "nut", "ivf", "h264", "hevc", "m4v",
        "mpegvideo", "rawvideo", "yuv4mpegpipe", "gif", "image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe",
        "tiff_pipe", "obu", "av1", "wav", "mp3", "aac", "flac", "ac3", "srt", "ass", "webvtt",
    ].joined(separator: ",")

    /// Opens `path` as a local file with the demuxer allow-list, returning the FFmpeg error code on
    /// failure (nothing is left allocated then).
    init(path: String) throws(LibAVFailure) {
        var p: UnsafeMutablePointer<AVFormatContext>?
        var options: OpaquePointer? = nil
        av_dict_set(&options, "protocol_whitelist", Self.protocolWhitelist, 0)
        av_dict_set(&options, "format_whitelist", Self.formatWhitelist, 0)
        defer { av_dict_free(&options) }
        // `file:` keeps a name with a colon in it (`clip:1.mp4`) from being read as a protocol.
        let url = "file:" + path
        let status = avformat_open_input(&p, url, nil, &options)
        guard status >= 0, let opened = p else { throw LibAVFailure(code: status, call: "avformat_open_input") }
        pointer = opened
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&p)
    }
}

/// A failed libav call, converted into a ``VideoIOError`` by the caller that knows the path.
struct LibAVFailure: Error {
    var code: Int32
    var call: String

    var text: String { "\(call): \(libavErrorText(code))" }
}

/// Converts frames between pixel formats and sizes with swscale, into a reusable aligned buffer.
///
/// swscale's SIMD paths want 16-byte aligned rows and may write up to the padded line end, so it
/// writes into an `av_image_alloc` buffer and rows are copied out from there.
final class ScaleConverter {
    private var context: OpaquePointer?
    private var buffer: UnsafeMutablePointer<UInt8>?
    private var lineSize: Int32 = 0
    private var key = ScaleKey()

    deinit {
        sws_freeContext(context)
        av_freep(&buffer)
    }

    /// Converts `source` to packed RGB24 at `width`×`height` and hands each output row to `row`.
    func convertToRGB(
        _ source: UnsafePointer<AVFrame>, width: Int, height: Int, flags: Int32,
        row: (_ y: Int, _ pixels: UnsafeBufferPointer<UInt8>) -> Void
    ) -> Bool {
        let src = source.pointee
        let newKey = ScaleKey(src.width, src.height, src.format, Int32(width), Int32(height), flags, AV_PIX_FMT_RGB24.rawValue)
        guard prepare(newKey, sourceFormat: AVPixelFormat(rawValue: src.format)) else { return false }
        var dst: [UnsafeMutablePointer<UInt8>?] = [buffer, nil, nil, nil]
        var dstStride: [Int32] = [lineSize, 0, 0, 0]
        let rows = withUnsafePointer(to: source.pointee.data) { dataTuple in
            dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { data in
                withUnsafePointer(to: source.pointee.linesize) { strideTuple in
                    strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        sws_scale(context, data, strides, 0, src.height, &dst, &dstStride)
                    }
                }
            }
        }
        guard rows == Int32(height), let out = buffer else { return false }
        for y in 0..<height {
            row(y, UnsafeBufferPointer(start: out + y * Int(lineSize), count: width * 3))
        }
        return true
    }

    /// Converts packed RGB24 pixels into the planes of `destination` (already allocated).
    func convertFromRGB(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
        into destination: UnsafeMutablePointer<AVFrame>
    ) -> Bool {
        let dstFormat = destination.pointee.format
        let newKey = ScaleKey(Int32(width), Int32(height), AV_PIX_FMT_RGB24.rawValue, Int32(width), Int32(height), SWS_BICUBIC, dstFormat)
        guard prepareContext(newKey, from: AV_PIX_FMT_RGB24, to: AVPixelFormat(rawValue: dstFormat)) else { return false }
        // The RGB rows go through the aligned buffer too, for the same alignment reason.
        guard ensureBuffer(width: width, height: height), let staging = buffer else { return false }
        for y in 0..<height {
            (staging + y * Int(lineSize)).update(from: pixels.baseAddress! + y * width * 3, count: width * 3)
        }
        var src: [UnsafePointer<UInt8>?] = [UnsafePointer(staging), nil, nil, nil]
        var srcStride: [Int32] = [lineSize, 0, 0, 0]
        let rows = withUnsafeMutablePointer(to: &destination.pointee.data) { dataTuple in
            dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { data in
                withUnsafePointer(to: destination.pointee.linesize) { strideTuple in
                    strideTuple.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        sws_scale(context, &src, &srcStride, 0, Int32(height), data, strides)
                    }
                }
            }
        }
        return rows == Int32(height)
    }

    private func prepare(
        _ newKey: ScaleKey, sourceFormat: AVPixelFormat
    ) -> Bool {
        guard prepareContext(newKey, from: sourceFormat, to: AV_PIX_FMT_RGB24) else { return false }
        return ensureBuffer(width: Int(newKey.dstWidth), height: Int(newKey.dstHeight))
    }

    private func prepareContext(
        _ newKey: ScaleKey, from: AVPixelFormat, to: AVPixelFormat
    ) -> Bool {
        if context != nil && key == newKey { return true }
        sws_freeContext(context)
        // Full-resolution chroma and accurate rounding keep 4:4:4 and RGB streams bit-exact; for
        // subsampled chroma (most real video) they only cost speed (about 2× at 720p), so the
        // fast SIMD paths are kept there.
        var flags = newKey.flags
        let subsampled = [from, to].contains { format in
            guard let descriptor = av_pix_fmt_desc_get(format) else { return false }
            return descriptor.pointee.log2_chroma_w > 0 || descriptor.pointee.log2_chroma_h > 0
        }
        if !subsampled { flags |= SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP }
        context = sws_getContext(newKey.srcWidth, newKey.srcHeight, from, newKey.dstWidth, newKey.dstHeight, to, flags, nil, nil, nil)
        key = newKey
        return context != nil
    }

    private var bufferSize: (Int, Int) = (0, 0)

    private func ensureBuffer(width: Int, height: Int) -> Bool {
        if buffer != nil && bufferSize == (width, height) { return true }
        av_freep(&buffer)
        var planes: [UnsafeMutablePointer<UInt8>?] = [nil, nil, nil, nil]
        var strides: [Int32] = [0, 0, 0, 0]
        guard av_image_alloc(&planes, &strides, Int32(width), Int32(height), AV_PIX_FMT_RGB24, 64) >= 0 else {
            return false
        }
        buffer = planes[0]
        lineSize = strides[0]
        bufferSize = (width, height)
        return true
    }
}

/// What a cached swscale context was built for.
struct ScaleKey: Equatable {
    var srcWidth: Int32 = 0, srcHeight: Int32 = 0, srcFormat: Int32 = -1
    var dstWidth: Int32 = 0, dstHeight: Int32 = 0, flags: Int32 = 0, dstFormat: Int32 = -1

    init() {}

    init(_ sw: Int32, _ sh: Int32, _ sf: Int32, _ dw: Int32, _ dh: Int32, _ flags: Int32, _ df: Int32) {
        srcWidth = sw; srcHeight = sh; srcFormat = sf; dstWidth = dw; dstHeight = dh; self.flags = flags; dstFormat = df
    }
}

import Foundation
internal import _CFFmpeg

/// Writes RGB frames to a video file with libavcodec.
///
/// The container follows the file extension (`.mp4`, `.mkv`, `.avi`, ...). Call ``finish()`` to
/// flush the encoder and write the trailer; a writer released without it still finishes, but
/// cannot report errors then.
///
/// ```swift
/// let writer = try VideoWriter(path: "out.mp4", width: 64, height: 48, fps: 30)
/// for frame in frames { try writer.append(rgb: frame) }
/// try writer.finish()
/// ```
public final class VideoWriter {
    /// The file being written.
    public let path: String
    /// Frame width in pixels.
    public let width: Int
    /// Frame height in pixels.
    public let height: Int
    /// How many frames have been appended.
    public private(set) var frameCount = 0

    private let output: OwnedOutputContext
    private let encoder: OwnedCodecContext
    private let stream: UnsafeMutablePointer<AVStream>
    private let picture = OwnedFrame()
    private let packet = OwnedPacket()
    private let converter = ScaleConverter()
    private var lastPTS: Int64 = -1
    private var finished = false

    /// Opens `path` for writing.
    ///
    /// - Parameters:
    ///   - fps: frames per second; each appended frame lasts `1 / fps` unless given its own pts.
    ///   - codec: the encoder (``VideoCodecChoice/bestLossless`` by default).
    ///   - maxBFrames: B-frames allowed between references (H.264 and MPEG-4; 0 for none).
    ///   - keyframeInterval: frames between keyframes (the GOP size).
    ///   - rotation: clockwise degrees (0, 90, 180, 270) a player should rotate by, stored as a
    ///     display matrix (MP4/MOV only).
    /// - Throws: ``VideoIOError/codecUnsupported(path:codec:)`` when the encoder is missing,
    ///   ``VideoIOError/encodeFailed(path:reason:)`` when the file or container refuses.
    public init(
        path: String, width: Int, height: Int, fps: Int,
        codec: VideoCodecChoice = .bestLossless, maxBFrames: Int = 0, keyframeInterval: Int = 12,
        rotation: Int = 0
    ) throws {
        precondition(width > 0 && height > 0, "VideoWriter: frame size [\(height), \(width)] must be positive")
        precondition(fps > 0, "VideoWriter: fps \(fps) must be positive")
        precondition(rotation % 90 == 0, "VideoWriter: rotation \(rotation) is not a multiple of 90")
        // YUV 4:2:0 halves the chroma planes, which needs even sizes.
        precondition(
            codec.pixelFormat != AV_PIX_FMT_YUV420P || (width % 2 == 0 && height % 2 == 0),
            "VideoWriter: 4:2:0 codecs need even frame sizes, got [\(height), \(width)]")
        self.path = path
        self.width = width
        self.height = height
        func failed(_ reason: String) -> VideoIOError { .encodeFailed(path: path, reason: reason) }

        guard let encoderCodec = avcodec_find_encoder_by_name(codec.encoderName) else {
            throw VideoIOError.codecUnsupported(path: path, codec: codec.encoderName)
        }
        do {
            output = try OwnedOutputContext(path: path)
        } catch {
            throw failed(error.text)
        }
        guard let newStream = avformat_new_stream(output.pointer, nil),
            let context = OwnedCodecContext(codec: encoderCodec)
        else { throw failed("cannot allocate the stream") }
        stream = newStream
        encoder = context

        let c = context.pointer
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = codec.pixelFormat
        c.pointee.time_base = AVRational(num: 1, den: Int32(fps))
        c.pointee.framerate = AVRational(num: Int32(fps), den: 1)
        c.pointee.gop_size = Int32(keyframeInterval)
        c.pointee.max_b_frames = Int32(maxBFrames)
        // Deterministic output and no oversubscription of the shared cores.
        c.pointee.thread_count = 1
        if case .mpeg4(let q) = codec {
            c.pointee.flags |= AV_CODEC_FLAG_QSCALE
            c.pointee.global_quality = Int32(q) * FF_QP2LAMBDA
        }
        if output.pointer.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            c.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        for (key, value) in codec.privateOptions {
            av_opt_set(c.pointee.priv_data, key, value, 0)
        }
        if codec.encoderName.hasPrefix("libx264") {
            // Fixed GOPs and B-frame runs (no scene-cut keyframes, no adaptive B decisions), so the
            // stream structure is what the caller asked for.
            let params = "bframes=\(maxBFrames):b-adapt=0:keyint=\(keyframeInterval):min-keyint=\(keyframeInterval):scenecut=0"
            av_opt_set(c.pointee.priv_data, "x264-params", params, 0)
        }
        var status = avcodec_open2(c, encoderCodec, nil)
        guard status >= 0 else { throw failed("avcodec_open2: \(libavErrorText(status))") }
        guard avcodec_parameters_from_context(newStream.pointee.codecpar, c) >= 0 else {
            throw failed("avcodec_parameters_from_context")
        }
        newStream.pointee.time_base = c.pointee.time_base
        if rotation % 360 != 0 { VideoWriter.setDisplayRotation(newStream, clockwise: rotation) }

        picture.pointer.pointee.format = codec.pixelFormat.rawValue
        picture.pointer.pointee.width = Int32(width)
        picture.pointer.pointee.height = Int32(height)
        status = av_frame_get_buffer(picture.pointer, 0)
        guard status >= 0 else { throw failed("av_frame_get_buffer: \(libavErrorText(status))") }

        status = output.openFile(path)
        guard status >= 0 else { throw failed("avio_open: \(libavErrorText(status))") }
        status = avformat_write_header(output.pointer, nil)
        guard status >= 0 else { throw failed("avformat_write_header: \(libavErrorText(status))") }
        output.headerWritten = true
    }

    deinit {
        // A writer whose init failed before the header has nothing to flush.
        if !finished && output.headerWritten { try? finish() }
    }

    /// Appends one frame of packed RGB bytes (`height * width * 3`, row-major `[H, W, 3]`).
    ///
    /// - Parameter pts: the presentation time in frame periods (`1 / fps` units), for variable
    ///   frame rate; it must increase. By default the frame follows the previous one.
    public func append(rgb pixels: [UInt8], pts: Int64? = nil) throws {
        precondition(!finished, "VideoWriter.append: \(path) is already finished")
        precondition(
            pixels.count == width * height * 3,
            "VideoWriter.append: \(pixels.count) bytes do not fill [\(height), \(width), 3]")
        let stamp = pts ?? lastPTS + 1
        precondition(stamp > lastPTS, "VideoWriter.append: pts \(stamp) does not follow \(lastPTS)")
        func failed(_ reason: String) -> VideoIOError { .encodeFailed(path: path, reason: reason) }

        // The encoder may still hold references to the previous picture's buffers.
        guard av_frame_make_writable(picture.pointer) >= 0 else { throw failed("av_frame_make_writable") }
        let converted = pixels.withUnsafeBufferPointer {
            converter.convertFromRGB($0, width: width, height: height, into: picture.pointer)
        }
        guard converted else { throw failed("swscale cannot convert RGB to the encoder's format") }
        picture.pointer.pointee.pts = stamp
        let status = avcodec_send_frame(encoder.pointer, picture.pointer)
        guard status >= 0 else { throw failed("avcodec_send_frame: \(libavErrorText(status))") }
        lastPTS = stamp
        frameCount += 1
        try writePendingPackets()
    }

    /// Appends a decoded frame (its size must match the writer's).
    public func append(_ frame: VideoFrame, pts: Int64? = nil) throws {
        precondition(
            frame.width == width && frame.height == height,
            "VideoWriter.append: frame [\(frame.height), \(frame.width)] differs from [\(height), \(width)]")
        try append(rgb: frame.pixels, pts: pts)
    }

    /// Flushes the encoder, writes the trailer and closes the file. Calling it again does nothing.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        guard output.headerWritten else { return }
        avcodec_send_frame(encoder.pointer, nil)
        try writePendingPackets()
        let status = av_write_trailer(output.pointer)
        output.closeFile()
        guard status >= 0 else {
            throw VideoIOError.encodeFailed(path: path, reason: "av_write_trailer: \(libavErrorText(status))")
        }
    }

    private func writePendingPackets() throws {
        while true {
            let status = avcodec_receive_packet(encoder.pointer, packet.pointer)
            if status == averrorAgain || status == averrorEOF { return }
            guard status >= 0 else {
                throw VideoIOError.encodeFailed(path: path, reason: "avcodec_receive_packet: \(libavErrorText(status))")
            }
            // Encoders leave the duration unset; without it MP4 guesses the last frame's length
            // and the stored rate drifts. A frame lasts one period unless pts say otherwise.
            if packet.pointer.pointee.duration <= 0 { packet.pointer.pointee.duration = 1 }
            av_packet_rescale_ts(packet.pointer, encoder.pointer.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            // av_interleaved_write_frame takes the packet's data and leaves it blank.
            let written = av_interleaved_write_frame(output.pointer, packet.pointer)
            guard written >= 0 else {
                throw VideoIOError.encodeFailed(path: path, reason: "av_interleaved_write_frame: \(libavErrorText(written))")
            }
        }
    }

    /// Stores the display matrix for a clockwise display rotation.
    private static func setDisplayRotation(_ stream: UnsafeMutablePointer<AVStream>, clockwise degrees: Int) {
        guard let raw = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 36) else { return }
        // The legacy `rotate=90` tag corresponds to [0 1; -1 0] (see VideoMetadata.rotation).
        let radians = Double(degrees) * Double.pi / 180
        let c = Foundation.cos(radians), s = Foundation.sin(radians)
        let fixed: (Double) -> Int32 = { Int32(($0 * 65536).rounded()) }
        let matrix: [Int32] = [fixed(c), fixed(s), 0, fixed(-s), fixed(c), 0, 0, 0, 1 << 30]
        for (i, v) in matrix.enumerated() {
            UnsafeMutableRawPointer(raw).storeBytes(of: v, toByteOffset: 4 * i, as: Int32.self)
        }
    }
}

/// Owns an output `AVFormatContext` and its file handle.
final class OwnedOutputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    var headerWritten = false
    private var fileOpen = false

    init(path: String) throws(LibAVFailure) {
        var p: UnsafeMutablePointer<AVFormatContext>?
        let status = avformat_alloc_output_context2(&p, nil, nil, path)
        guard status >= 0, let allocated = p else {
            throw LibAVFailure(code: status, call: "avformat_alloc_output_context2 (unknown extension?)")
        }
        pointer = allocated
    }

    /// Opens the file unless the container writes no file itself.
    func openFile(_ path: String) -> Int32 {
        guard pointer.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 else { return 0 }
        let status = avio_open(&pointer.pointee.pb, path, AVIO_FLAG_WRITE)
        fileOpen = status >= 0
        return status
    }

    func closeFile() {
        if fileOpen { avio_closep(&pointer.pointee.pb) }
        fileOpen = false
    }

    deinit {
        closeFile()
        avformat_free_context(pointer)
    }
}

import Foundation
import TensorCore
internal import _CFFmpeg

/// Reads frames from one video file with exact index and timestamp access.
///
/// Opening a file demuxes every packet of its video stream once (no decoding) to build a
/// presentation-order index, so ``metadata``'s frame count is exact and frame `i` is always the
/// `i`-th frame shown — with B-frames, variable frame rate and edit lists alike. Frames are then
/// decoded on demand; the reader seeks to a keyframe only when that is cheaper than decoding on.
///
/// A reader owns every FFmpeg object it opens and frees them in `deinit`, whether or not an error
/// was thrown. It is not thread-safe: give each thread its own reader.
///
/// ```swift
/// let reader = try VideoReader(path: "clip.mp4")
/// let frames = try reader.frames(at: [10, 2, 7], size: FrameSize(width: 112, height: 112))
/// ```
public final class VideoReader {
    /// The path the reader was opened with.
    public let path: String
    /// Frame count, rate, duration, size and rotation.
    public private(set) var metadata: VideoMetadata
    /// How many times the reader has repositioned the demuxer (a measure of access cost).
    public internal(set) var seekCount = 0
    /// How many frames the decoder has produced so far, requested or not.
    public internal(set) var decodedFrameCount = 0
    /// Whether frames that are neither requested nor referenced by other frames are skipped
    /// instead of decoded on the way to a requested frame (default `true`).
    ///
    /// Requested frames come out bit-identical either way: only pictures the codec marks as
    /// non-reference (most B-frames) are dropped, so nothing that is decoded depends on them. It
    /// applies to H.264, MPEG-1/2 and MPEG-4 Part 2; other codecs always decode every frame.
    public var skipsUnneededFrames = true

    let input: OwnedInputContext
    let decoder: OwnedCodecContext
    let streamIndex: Int32
    let timeBase: Double
    private(set) var index: PresentationIndex
    let packet = OwnedPacket()
    let frame = OwnedFrame()
    let converter = ScaleConverter()
    /// Whether the codec's non-reference flag means that no other picture reads it (see
    /// `VideoReader.skipsNonReferenceFrames(_:)`).
    let codecCanSkip: Bool

    // Decoder position (see VideoReader+Decoding.swift).
    var positioned = false
    var drained = false
    var nextDecodePosition = 0
    var lastOutputIndex = -1
    /// The indices of the `frames(at:)` call in progress; the frames of other packets may be skipped.
    var requestedFrames: Set<Int> = []
    /// Set while retrying a missed frame, so that the retry decodes everything.
    var skippingSuspended = false

    /// The number of frames (same as `metadata.frameCount`).
    public var frameCount: Int { metadata.frameCount }

    /// Opens a video file and indexes its best video stream.
    ///
    /// - Throws: ``VideoIOError/fileNotFound(path:)``, ``VideoIOError/notAVideo(path:reason:)``,
    ///   ``VideoIOError/noVideoStream(path:)`` or ``VideoIOError/codecUnsupported(path:codec:)``.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VideoIOError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw VideoIOError.notAVideo(path: path, reason: "a directory, not a file") }
        do {
            input = try OwnedInputContext(path: path)
        } catch {
            throw VideoIOError.notAVideo(path: path, reason: error.text)
        }
        let format = input.pointer
        let described = VideoReader.headerDescribesVideo(format)
        let probed = described == nil
        if probed {
            let probe = avformat_find_stream_info(format, nil)
            guard probe >= 0 else {
                throw VideoIOError.notAVideo(path: path, reason: "avformat_find_stream_info: \(libavErrorText(probe))")
            }
        }
        let best = described ?? av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard best >= 0, let stream = format.pointee.streams[Int(best)], let parameters = stream.pointee.codecpar else {
            throw VideoIOError.noVideoStream(path: path)
        }
        streamIndex = best
        // Other streams are skipped by the demuxer itself, so indexing reads only what it needs.
        for s in 0..<Int(format.pointee.nb_streams) where s != Int(best) {
            format.pointee.streams[s]?.pointee.discard = AVDISCARD_ALL
        }
        index = PresentationIndex(format: format, streamIndex: best, packet: packet)

        let codecName = VideoReader.codecName(parameters)
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id),
            let context = OwnedCodecContext(codec: codec),
            avcodec_parameters_to_context(context.pointer, parameters) >= 0
        else {
            throw VideoIOError.codecUnsupported(path: path, codec: codecName)
        }
        context.pointer.pointee.pkt_timebase = stream.pointee.time_base
        // One thread per reader: parallelism comes from decoding several videos at once under the
        // shared thread budget, and frame threading would add latency to every seek.
        context.pointer.pointee.thread_count = 1
        if !probed && parameters.pointee.codec_id == AV_CODEC_ID_H264 {
            // The stream probe would have decoded a few frames to guess the H.264 reorder delay.
            // The index knows it exactly; a decoder that starts with too small a delay drops the
            // frames it finds out of order.
            context.pointer.pointee.has_b_frames = max(context.pointer.pointee.has_b_frames, Int32(index.reorderDepth))
        }
        guard avcodec_open2(context.pointer, codec, nil) >= 0 else {
            throw VideoIOError.codecUnsupported(path: path, codec: codecName)
        }
        decoder = context
        codecCanSkip = VideoReader.skipsNonReferenceFrames(parameters.pointee.codec_id)

        let tb = stream.pointee.time_base
        timeBase = tb.den != 0 ? Double(tb.num) / Double(tb.den) : 0
        metadata = VideoReader.describe(
            stream: stream, parameters: parameters, index: index, timeBase: timeBase, codecName: codecName)
        if VideoReader.lacksContainerIndex(format) {
            try trimUndecodableTail()
            metadata = VideoReader.describe(
                stream: stream, parameters: parameters, index: index, timeBase: timeBase, codecName: codecName)
        }
    }

    /// Whether the container has no index of its own (MPEG transport and program streams, raw
    /// elementary streams): a file cut at a packet boundary looks complete to the demuxer, and its
    /// last packet may not decode.
    private static func lacksContainerIndex(_ format: UnsafeMutablePointer<AVFormatContext>) -> Bool {
        guard let name = format.pointee.iformat?.pointee.name else { return false }
        let names = String(cString: name).split(separator: ",").map(String.init)
        return names.contains { ["mpegts", "mpeg", "mpegvideo", "h264", "hevc", "m4v", "h263", "vc1"].contains($0) }
    }

    /// Decodes the last group of pictures once at open and drops trailing frames that do not
    /// decode, so that ``frameCount`` counts only frames ``frames(at:)`` can return (a truncated
    /// transport stream otherwise reports a last frame whose data is missing). Costs one GOP of
    /// decoding, for containers without an index only.
    private func trimUndecodableTail() throws {
        guard index.count > 0, let lastKey = index.keyframes.last else { return }
        let tail = (0..<index.count).filter { index.decodeOrder[$0] >= lastKey }
        defer {
            positioned = false
            drained = false
        }
        do {
            _ = try frames(at: tail)
        } catch VideoIOError.decodeFailed(_, let failed, _) {
            // Frames before the first one that fails keep their place; the rest of the tail goes.
            index.keepFirst(failed)
        }
        if index.count == 0 {
            throw VideoIOError.notAVideo(path: path, reason: "no frame of its video stream decodes (the file may be truncated)")
        }
    }

    private static func describe(
        stream: UnsafeMutablePointer<AVStream>, parameters: UnsafeMutablePointer<AVCodecParameters>,
        index: PresentationIndex, timeBase: Double, codecName: String
    ) -> VideoMetadata {
        func rate(_ r: AVRational) -> Double? { r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil }
        let count = index.count
        var duration = 0.0
        if count > 0 {
            let span = Double(index.pts[count - 1] - index.pts[0]) * timeBase
            duration = span
        }
        let fps =
            rate(stream.pointee.avg_frame_rate) ?? rate(stream.pointee.r_frame_rate)
            ?? (duration > 0 ? Double(count - 1) / duration : 0)
        if count > 0 {
            // The last frame is shown for its packet duration, or one frame period when unknown.
            let last = index.durations[count - 1]
            duration += last > 0 ? Double(last) * timeBase : (fps > 0 ? 1 / fps : 0)
        }
        let claimed = Int(stream.pointee.nb_frames)
        return VideoMetadata(
            frameCount: count,
            containerFrameCount: claimed > 0 ? claimed : nil,
            fps: fps,
            duration: duration,
            width: Int(parameters.pointee.width),
            height: Int(parameters.pointee.height),
            rotation: displayRotation(stream),
            codecName: codecName)
    }

    /// The video stream of an MP4/MOV or Matroska/WebM file whose header already holds everything
    /// the reader needs, or `nil` when `avformat_find_stream_info` has to probe the stream.
    ///
    /// The probe decodes frames (up to seven for H.264, to guess the reorder delay) and throws
    /// them away: 12 ms of the 210 ms that an 8-frame clip from a 720p H.264 file took. These two
    /// containers declare the codec and the frame size in the track header, the parameter sets
    /// in its codec private data (`avcC`/`hvcC`) and, when the header gives a frame rate (MP4's
    /// sample durations, Matroska's default duration), everything else the reader takes from
    /// the stream comes from the index it builds anyway. The probe is skipped there when the file
    /// has exactly one video stream (with several, picking the best one needs the probe's frame
    /// counts) and the header is complete.
    private static func headerDescribesVideo(_ format: UnsafeMutablePointer<AVFormatContext>) -> Int32? {
        guard let demuxer = format.pointee.iformat else { return nil }
        let name = String(cString: demuxer.pointee.name)
        guard name.hasPrefix("mov,mp4") || name.hasPrefix("matroska") else { return nil }
        let videos = (0..<Int(format.pointee.nb_streams)).filter {
            format.pointee.streams[$0]?.pointee.codecpar?.pointee.codec_type == AVMEDIA_TYPE_VIDEO
        }
        guard videos.count == 1, let stream = format.pointee.streams[videos[0]], let parameters = stream.pointee.codecpar
        else { return nil }
        let p = parameters.pointee
        guard p.codec_id != AV_CODEC_ID_NONE, p.width > 0, p.height > 0, stream.pointee.avg_frame_rate.num > 0,
            stream.pointee.avg_frame_rate.den > 0
        else { return nil }
        // Parameter sets carried in the stream instead of the header: the probe extracts them.
        if [AV_CODEC_ID_H264, AV_CODEC_ID_HEVC].contains(p.codec_id) && p.extradata_size <= 0 { return nil }
        return Int32(videos[0])
    }

    /// FFmpeg's name for the stream's codec or, for a codec FFmpeg does not know at all (where that
    /// name is just "none"), the container's four-character tag, which is what a user can look up.
    private static func codecName(_ parameters: UnsafeMutablePointer<AVCodecParameters>) -> String {
        let id = parameters.pointee.codec_id
        guard id == AV_CODEC_ID_NONE else { return String(cString: avcodec_get_name(id)) }
        let tag = parameters.pointee.codec_tag
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: tag >> (8 * $0)) }
        guard tag != 0, bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return "unknown codec" }
        return "unknown codec tag '\(String(decoding: bytes, as: UTF8.self))'"
    }

    /// The clockwise rotation that ffmpeg's autorotate would apply (cmdutils `get_rotation`).
    private static func displayRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size = 0
        guard let raw = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else {
            return 0
        }
        var m = [Double](repeating: 0, count: 9)
        for i in 0..<9 {
            // 16.16 fixed point (the last column is 2.30, unused here).
            m[i] = Double(UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) / 65536
        }
        let scale0 = (m[0] * m[0] + m[3] * m[3]).squareRoot()
        let scale1 = (m[1] * m[1] + m[4] * m[4]).squareRoot()
        guard scale0 > 0, scale1 > 0 else { return 0 }
        // av_display_rotation_get is counter-clockwise; autorotate negates it.
        let counterClockwise = -atan2(m[1] / scale1, m[0] / scale0) * 180 / Double.pi
        let clockwise = Int((-counterClockwise).rounded())
        let quarter = Int((Double(((clockwise % 360) + 360) % 360) / 90).rounded()) % 4
        return quarter * 90
    }

    /// The presentation time in seconds of frame `index` (pts × time base).
    public func timestamp(ofFrame index: Int) throws -> Double {
        try checkIndex(index)
        return Double(self.index.pts[index]) * timeBase
    }

    /// The index of the frame shown at `seconds`: the last frame whose timestamp is not after it.
    ///
    /// Times before the first frame's timestamp map to frame 0. Exact for variable frame rate,
    /// since it searches the real timestamps rather than multiplying by the fps.
    /// - Throws: ``VideoIOError/timeOutOfRange(path:seconds:duration:)`` outside `0...end`, where
    ///   end is the first timestamp plus ``VideoMetadata/duration``.
    public func frameIndex(atTime seconds: Double) throws -> Int {
        guard frameCount > 0 else {
            throw VideoIOError.timeOutOfRange(path: path, seconds: seconds, duration: 0)
        }
        let start = Double(index.pts[0]) * timeBase
        guard seconds.isFinite, seconds >= 0, seconds <= start + metadata.duration else {
            throw VideoIOError.timeOutOfRange(path: path, seconds: seconds, duration: metadata.duration)
        }
        // A small slack absorbs the rounding of seconds = k / fps against integer pts.
        let ticks = seconds / timeBase + 1e-6
        var low = 0, high = frameCount - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if Double(index.pts[mid]) <= ticks { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Decodes frame `index` (presentation order) as RGB, optionally resized.
    public func frame(at index: Int, size: FrameSize? = nil, filter: ResizeFilter = .bilinear) throws -> VideoFrame {
        try frames(at: [index], size: size, filter: filter)[0]
    }

    /// Decodes the frame shown at `seconds` (see ``frameIndex(atTime:)``).
    public func frame(atTime seconds: Double, size: FrameSize? = nil, filter: ResizeFilter = .bilinear) throws
        -> VideoFrame
    {
        try frame(at: try frameIndex(atTime: seconds), size: size, filter: filter)
    }

    /// Decodes several frames, returned in the order asked (repeats allowed).
    ///
    /// Requests are served in ascending order, decoding forward and seeking back to a keyframe only
    /// when the next requested frame lies behind the decoder or past a keyframe it has not reached.
    /// - Throws: ``VideoIOError/indexOutOfRange(path:index:frameCount:)`` before decoding anything
    ///   if any index is invalid; ``VideoIOError/decodeFailed(path:frameIndex:reason:)``.
    public func frames(at indices: [Int], size: FrameSize? = nil, filter: ResizeFilter = .bilinear) throws
        -> [VideoFrame]
    {
        for i in indices { try checkIndex(i) }
        if let size, max(size.width, size.height) > FrameSize.maximumSide {
            throw VideoIOError.requestTooLarge(
                path: path, reason: "frame size \(size.width)x\(size.height) exceeds \(FrameSize.maximumSide) pixels a side")
        }
        var decoded: [Int: VideoFrame] = [:]
        requestedFrames = Set(indices)
        defer { requestedFrames = [] }
        let targets = requestedFrames.sorted()
        for (k, target) in targets.enumerated() {
            let next = k + 1 < targets.count ? targets[k + 1] : nil
            decoded[target] = try decodeFrame(target, before: next, size: size, filter: filter)
        }
        return indices.map { decoded[$0]! }
    }

    /// Decodes frames into one Float32 tensor `[T, H, W, 3]` with values in `[0, 1]` (byte / 255).
    ///
    /// Without `size`, frames come out at the stored size from ``metadata`` (a stream that changes
    /// resolution midway is resized to it, so the clip stays rectangular).
    public func clip(at indices: [Int], size: FrameSize? = nil, filter: ResizeFilter = .bilinear) throws -> Tensor {
        guard let target = size ?? storedSize else {
            throw VideoIOError.notAVideo(path: path, reason: "the stream declares no frame size")
        }
        let frameElements = target.height * target.width * 3
        // Refused before decoding or allocating anything (4 GiB of Float32).
        let (elements, overflow) = indices.count.multipliedReportingOverflow(by: frameElements)
        guard !overflow, elements <= VideoReader.maximumClipElements else {
            throw VideoIOError.requestTooLarge(
                path: path, reason: "a clip of \(indices.count) frames of \(target.width)x\(target.height) exceeds "
                    + "\(VideoReader.maximumClipElements) values")
        }
        let frames = try frames(at: indices, size: target, filter: filter)
        return Tensor(shape: [frames.count, target.height, target.width, 3]) { out in
            for (t, f) in frames.enumerated() {
                f.pixels.withUnsafeBufferPointer { src in
                    for i in 0..<frameElements { out[t * frameElements + i] = Float(src[i]) / 255 }
                }
            }
        }
    }

    /// The most values one ``clip(at:size:filter:)`` tensor may hold (2³⁰ Float32, 4 GiB).
    public static let maximumClipElements = 1 << 30

    private var storedSize: FrameSize? {
        metadata.width > 0 && metadata.height > 0 ? FrameSize(width: metadata.width, height: metadata.height) : nil
    }

    func checkIndex(_ i: Int) throws {
        guard i >= 0 && i < frameCount else {
            throw VideoIOError.indexOutOfRange(path: path, index: i, frameCount: frameCount)
        }
    }
}

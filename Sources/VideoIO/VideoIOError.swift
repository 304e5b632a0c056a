/// An error from reading or writing a video file: what went wrong, the file, and a hint.
///
/// Everything that depends on the outside world (a missing file, a malformed container, a codec the
/// local FFmpeg build lacks) surfaces as one of these cases; no input file, however malformed, stops
/// the process. Programmer errors (a negative clip length, an empty frame buffer) are preconditions.
public enum VideoIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case fileNotFound(path: String)
    /// The file exists but FFmpeg cannot read it as a media container (truncated, random bytes, ...).
    case notAVideo(path: String, reason: String)
    /// The container holds no video stream (an audio-only file, for instance).
    case noVideoStream(path: String)
    /// The local FFmpeg build has no decoder or encoder for the codec, or refused to open it.
    case codecUnsupported(path: String, codec: String)
    /// The frame at `frameIndex` (presentation order) could not be decoded.
    case decodeFailed(path: String, frameIndex: Int, reason: String)
    /// A frame index outside `0..<frameCount` was requested.
    case indexOutOfRange(path: String, index: Int, frameCount: Int)
    /// A timestamp outside the video's presentation interval was requested.
    case timeOutOfRange(path: String, seconds: Double, duration: Double)
    /// Writing the file failed (the container rejected the codec, the disk is full, ...).
    case encodeFailed(path: String, reason: String)
    /// A request exceeds a stated limit (frame side, clip size), refused before allocating.
    case requestTooLarge(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .fileNotFound(let path), .notAVideo(let path, _), .noVideoStream(let path),
            .codecUnsupported(let path, _), .decodeFailed(let path, _, _),
            .indexOutOfRange(let path, _, _), .timeOutOfRange(let path, _, _),
            .encodeFailed(let path, _), .requestTooLarge(let path, _):
            return path
        }
    }

    /// A short suggestion of what to check or change.
    public var hint: String {
        switch self {
        case .fileNotFound:
            return "check the path (relative paths resolve against the working directory)"
        case .notAVideo:
            return "the file may be truncated or not a media file; try `ffprobe` on it"
        case .noVideoStream:
            return "the container has no video stream (audio-only or data file?)"
        case .codecUnsupported(_, let codec):
            return "this FFmpeg build cannot handle \(codec); install a build with it (e.g. libavcodec-extra)"
        case .decodeFailed:
            return "the stream may be corrupt around this frame; skip the video or re-encode it"
        case .indexOutOfRange(_, _, let count):
            return "valid frame indices are 0..<\(count)"
        case .timeOutOfRange(_, _, let duration):
            return "valid times are 0...\(duration) seconds"
        case .encodeFailed:
            return "check the directory is writable and the container supports the codec (FFV1 needs .mkv)"
        case .requestTooLarge:
            return "ask for fewer frames or a smaller size"
        }
    }

    /// A one-line message naming the problem, the file and the hint.
    public var description: String {
        let what: String
        switch self {
        case .fileNotFound:
            what = "file not found"
        case .notAVideo(_, let reason):
            what = "not a readable video (\(reason))"
        case .noVideoStream:
            what = "no video stream"
        case .codecUnsupported(_, let codec):
            what = "codec unsupported: \(codec)"
        case .decodeFailed(_, let index, let reason):
            what = "could not decode frame \(index) (\(reason))"
        case .indexOutOfRange(_, let index, let count):
            what = "frame index \(index) out of range for \(count) frames"
        case .timeOutOfRange(_, let seconds, let duration):
            what = "time \(seconds) s outside a video of \(duration) s"
        case .encodeFailed(_, let reason):
            what = "could not write video (\(reason))"
        case .requestTooLarge(_, let reason):
            what = reason
        }
        return "\(path): \(what); \(hint)"
    }
}

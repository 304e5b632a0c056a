internal import _CFFmpeg

/// How much FFmpeg itself writes to standard error (its own log, separate from VideoIO's errors).
///
/// FFmpeg's log level is process-wide, so VideoIO never changes it on its own; a program or a
/// test suite that wants quiet output calls ``set(_:)`` once.
public enum FFmpegLogLevel: Sendable, Hashable {
    /// Nothing at all.
    case quiet
    /// Errors only (damaged input, refused settings).
    case error
    /// Errors and warnings.
    case warning
    /// FFmpeg's default: also encoder summaries and stream information.
    case info

    /// Sets FFmpeg's process-wide log level.
    public static func set(_ level: FFmpegLogLevel) {
        switch level {
        case .quiet: av_log_set_level(AV_LOG_QUIET)
        case .error: av_log_set_level(AV_LOG_ERROR)
        case .warning: av_log_set_level(AV_LOG_WARNING)
        case .info: av_log_set_level(AV_LOG_INFO)
        }
    }
}

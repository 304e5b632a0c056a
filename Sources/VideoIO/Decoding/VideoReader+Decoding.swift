internal import _CFFmpeg

// The decode loop behind `VideoReader.frames(at:)`: position, feed packets, match frames by pts.
extension VideoReader {
    /// Decodes frame `target` and converts it, repositioning first if decoding on cannot reach it
    /// or a seek is cheaper. `next` is the frame the same request wants after it, if any.
    func decodeFrame(_ target: Int, before next: Int?, size: FrameSize?, filter: ResizeFilter) throws -> VideoFrame {
        do {
            try decodeUntil(target, drainsAfterTarget: next.map { leavesForSeek(after: target, toReach: $0) } ?? false)
        } catch {
            // The decoder state is unknown after a failure; the next request starts from a seek.
            positioned = false
            throw error
        }
        defer { av_frame_unref(frame.pointer) }
        return try convertCurrentFrame(index: target, size: size, filter: filter)
    }

    private func needsSeek(for target: Int) -> Bool {
        if !positioned || drained || target <= lastOutputIndex { return true }
        // Decoding from the current position passes through every packet up to the target; a
        // keyframe beyond that position lets a seek skip them.
        return index.entryPoint(for: target) > nextDecodePosition
    }

    /// Whether the request will seek after `target` whatever happens: `next` starts from a
    /// keyframe that comes after `target`'s packet in decode order, with other packets between
    /// them (when the keyframe is the very next packet, feeding it serves `next` without a seek).
    ///
    /// The decoder then need not be fed past `target`. A decoder that reorders frames holds each
    /// one back until it has decoded as many later pictures as its reorder delay (two for x264's
    /// B-pyramid); skipped non-reference frames do not count, so those pictures are reference
    /// frames of the following mini-GOP, decoded only to push `target` out. Draining the decoder
    /// instead (`avcodec_send_packet(nil)`) returns every picture already sent, bit for bit the
    /// same, and the seek that `next` needs anyway resets the decoder afterwards.
    private func leavesForSeek(after target: Int, toReach next: Int) -> Bool {
        let position = index.decodeOrder[target]
        // A following packet without a frame of its own (a second field, say) may still belong
        // to `target`'s picture.
        let followerIsFrame = position + 1 >= index.presentationOfDecode.count || index.presentationOfDecode[position + 1] >= 0
        return followerIsFrame && index.entryPoint(for: next) > position + 1
    }

    /// Leaves frame `target` in `frame`; with `drainsAfterTarget`, drains the decoder as soon as
    /// `target`'s packet has been sent instead of feeding it further packets.
    private func decodeUntil(_ target: Int, drainsAfterTarget: Bool) throws {
        if needsSeek(for: target) { try seek(toDecodePosition: index.entryPoint(for: target), target: target) }
        var restarted = false
        defer { skippingSuspended = false }
        while true {
            switch receiveFrames(until: target) {
            case .found:
                return
            case .needInput:
                // A retry after a miss takes no shortcut, so that none can hide the frame.
                if drainsAfterTarget && !skippingSuspended && nextDecodePosition > index.decodeOrder[target] {
                    drain()
                } else {
                    feedOnePacket()
                }
                continue
            case .missed(let reason):
                // Demuxers may land after the requested keyframe, or a damaged stream may skip a
                // frame; one retry from the very beginning settles which.
                guard !restarted else {
                    throw VideoIOError.decodeFailed(path: path, frameIndex: target, reason: reason)
                }
                restarted = true
                // A decoder that attributes a packet's skip setting to another picture (packed
                // MPEG-4 B-frames, say) could drop the target; the retry therefore skips nothing.
                skippingSuspended = true
                try seek(toDecodePosition: 0, target: target)
            }
        }
    }

    private enum ReceiveOutcome {
        case found
        case needInput
        case missed(String)
    }

    private func receiveFrames(until target: Int) -> ReceiveOutcome {
        while true {
            let status = avcodec_receive_frame(decoder.pointer, frame.pointer)
            if status == averrorAgain { return .needInput }
            if status == averrorEOF { return .missed("the stream ended before this frame") }
            if status < 0 { return .missed("avcodec_receive_frame: \(libavErrorText(status))") }
            decodedFrameCount += 1
            let f = frame.pointer.pointee
            let stamp = f.pts != avNoPTS ? f.pts : f.best_effort_timestamp
            guard let i = index.indexOfPTS[stamp] else {
                av_frame_unref(frame.pointer)
                continue
            }
            lastOutputIndex = i
            if i == target { return .found }
            av_frame_unref(frame.pointer)
            if i > target { return .missed("decoding resumed after this frame") }
        }
    }

    /// Sends the drain signal: the decoder returns every picture it holds, then reports end of stream.
    private func drain() {
        avcodec_send_packet(decoder.pointer, nil)
        drained = true
    }

    /// Sends the next packet of the stream to the decoder, or the drain signal at end of file.
    private func feedOnePacket() {
        while true {
            let status = av_read_frame(input.pointer, packet.pointer)
            if status < 0 {
                // End of file, or a read error in a truncated file: either way, drain what is buffered.
                drain()
                return
            }
            defer { av_packet_unref(packet.pointer) }
            let p = packet.pointer.pointee
            guard p.stream_index == streamIndex else { continue }
            let stamp = p.pts != avNoPTS ? p.pts : p.dts
            let shown = index.indexOfPTS[stamp]
            if let i = shown { nextDecodePosition = index.decodeOrder[i] + 1 }
            decoder.pointer.pointee.skip_frame = skipSetting(forPacketShownAt: shown)
            // A rejected packet (corrupt data) is skipped, as the ffmpeg tool does; if the frame
            // it carried is requested, the receive side reports it missing.
            _ = avcodec_send_packet(decoder.pointer, packet.pointer)
            return
        }
    }

    /// `AVDISCARD_NONREF` for a packet whose frame nobody asked for, so that the decoder drops it
    /// unless a later picture references it; `AVDISCARD_DEFAULT` (decode) otherwise.
    ///
    /// With one decoder thread a packet is decoded inside `avcodec_send_packet` (the receive loop
    /// has emptied the decoder's output slot before every send), so the setting made just before
    /// the send applies to that packet's picture. A packet whose pts is not in the index (a
    /// duplicate timestamp) is always decoded.
    private func skipSetting(forPacketShownAt shown: Int?) -> AVDiscard {
        guard skipsUnneededFrames, codecCanSkip, !skippingSuspended, let i = shown, !requestedFrames.contains(i) else {
            return AVDISCARD_DEFAULT
        }
        return AVDISCARD_NONREF
    }

    /// Codecs whose `AVDISCARD_NONREF` drops only pictures that no other picture predicts from:
    /// H.264 slices with `nal_ref_idc` 0, and B-pictures in MPEG-1/2 and MPEG-4 Part 2. HEVC is left
    /// out: its "non-reference" NAL types are only non-reference within their temporal sub-layer,
    /// and a higher sub-layer may still predict from them.
    static func skipsNonReferenceFrames(_ codec: AVCodecID) -> Bool {
        [AV_CODEC_ID_H264, AV_CODEC_ID_MPEG1VIDEO, AV_CODEC_ID_MPEG2VIDEO, AV_CODEC_ID_MPEG4].contains(codec)
    }

    private func seek(toDecodePosition position: Int, target: Int) throws {
        avcodec_flush_buffers(decoder.pointer)
        var status = av_seek_frame(input.pointer, streamIndex, index.seekTimestamps[position], AVSEEK_FLAG_BACKWARD)
        if status < 0 && position != 0 {
            status = av_seek_frame(input.pointer, streamIndex, index.seekTimestamps[0], AVSEEK_FLAG_BACKWARD)
        }
        guard status >= 0 else {
            positioned = false
            throw VideoIOError.decodeFailed(
                path: path, frameIndex: target, reason: "av_seek_frame: \(libavErrorText(status))")
        }
        seekCount += 1
        positioned = true
        drained = false
        nextDecodePosition = position
        lastOutputIndex = -1
    }

    private func convertCurrentFrame(index target: Int, size: FrameSize?, filter: ResizeFilter) throws -> VideoFrame {
        let f = frame.pointer.pointee
        guard f.width > 0, f.height > 0 else {
            throw VideoIOError.decodeFailed(path: path, frameIndex: target, reason: "decoded frame has no size")
        }
        let width = size?.width ?? Int(f.width)
        let height = size?.height ?? Int(f.height)
        let flags: Int32
        switch filter {
        case .bilinear: flags = SWS_BILINEAR
        case .bicubic: flags = SWS_BICUBIC
        case .area: flags = SWS_AREA
        case .nearest: flags = SWS_POINT
        }
        let rowBytes = width * 3
        var converted = true
        let pixels = [UInt8](unsafeUninitializedCapacity: height * rowBytes) { buffer, initialized in
            converted = converter.convertToRGB(frame.pointer, width: width, height: height, flags: flags) { y, row in
                (buffer.baseAddress! + y * rowBytes).initialize(from: row.baseAddress!, count: rowBytes)
            }
            if !converted { buffer.initialize(repeating: 0) }
            initialized = height * rowBytes
        }
        guard converted else {
            throw VideoIOError.decodeFailed(
                path: path, frameIndex: target, reason: "swscale cannot convert this pixel format to RGB")
        }
        return VideoFrame(
            index: target, timestamp: Double(index.pts[target]) * timeBase, width: width, height: height,
            pixels: pixels)
    }
}

internal import _CFFmpeg

/// Every frame of one stream, found by demuxing all packets once, in presentation order.
///
/// Index `i` is the `i`-th frame shown (sorted by pts), which is what exact frame access means for
/// streams with B-frames (decode order differs) and variable frame rate (pts gaps differ). Packets
/// flagged `AV_PKT_FLAG_DISCARD` (outside an edit list) are left out, because the decoder drops
/// the frames they produce too.
struct PresentationIndex {
    /// Presentation timestamps in stream time base, ascending and unique.
    var pts: [Int64] = []
    /// For each presentation index, the packet's position in decode order.
    var decodeOrder: [Int] = []
    /// For each presentation index, the packet's duration in time base units (0 when unknown).
    var durations: [Int64] = []
    /// Decode-order positions of keyframe packets, ascending.
    var keyframes: [Int] = []
    /// For each decode-order position, the timestamp to seek to: the first packet's smallest
    /// timestamp, and every later packet's pts.
    ///
    /// Later keyframes are sought by pts because demuxers' seek indices do not all use dts: MP4
    /// searches dts shifted by the edit list's offset (a B-frame stream starting at dts −2 frames
    /// is sought 2 frames late), so seeking to a keyframe's dts lands on the keyframe before it and
    /// decodes a whole extra GOP. A keyframe's pts is at or after its own index entry in every
    /// demuxer and before the next keyframe's; a landing past the target is caught by the decode
    /// loop anyway, which then restarts from the first packet.
    var seekTimestamps: [Int64] = []
    /// For each decode-order position, its presentation index (-1 for a duplicate pts).
    var presentationOfDecode: [Int] = []
    /// pts → presentation index, to recognise decoded frames and demuxed packets.
    var indexOfPTS: [Int64: Int] = [:]

    var count: Int { pts.count }

    /// How many frames a decoder must hold back to emit them in presentation order: the largest
    /// distance by which a frame's packet comes after its place in presentation order (2 for
    /// x264's B-pyramid), at most 16 (the largest H.264 picture buffer).
    var reorderDepth: Int {
        var depth = 0
        for (i, d) in decodeOrder.enumerated() { depth = max(depth, d - i) }
        return min(depth, 16)
    }

    /// Demuxes the whole stream; a read error ends the scan as end of file would (truncated files
    /// keep the frames before the damage).
    init(format: UnsafeMutablePointer<AVFormatContext>, streamIndex: Int32, packet: OwnedPacket) {
        var entries: [(pts: Int64, duration: Int64, order: Int)] = []
        var order = 0
        while av_read_frame(format, packet.pointer) >= 0 {
            defer { av_packet_unref(packet.pointer) }
            let p = packet.pointer.pointee
            guard p.stream_index == streamIndex, p.flags & AV_PKT_FLAG_DISCARD == 0 else { continue }
            // Streams without pts (some raw or AVI files) fall back to dts, which equals pts there.
            let stamp = p.pts != avNoPTS ? p.pts : p.dts
            guard stamp != avNoPTS else { continue }
            entries.append((stamp, p.duration, order))
            seekTimestamps.append(order == 0 && p.dts != avNoPTS ? Swift.min(p.dts, stamp) : stamp)
            if p.flags & AV_PKT_FLAG_KEY != 0 { keyframes.append(order) }
            order += 1
        }
        entries.sort { ($0.pts, $0.order) < ($1.pts, $1.order) }
        for e in entries where indexOfPTS[e.pts] == nil {
            indexOfPTS[e.pts] = pts.count
            pts.append(e.pts)
            decodeOrder.append(e.order)
            durations.append(e.duration)
        }
        presentationOfDecode = [Int](repeating: -1, count: order)
        for (i, d) in decodeOrder.enumerated() { presentationOfDecode[d] = i }
        // A stream whose first packet is not flagged key (seen in cut files) still decodes from
        // its first packet; treat that as the first entry point.
        if keyframes.first != 0 && !seekTimestamps.isEmpty { keyframes.insert(0, at: 0) }
    }

    /// The decode-order position to seek to so that decoding forward reaches frame `index`.
    ///
    /// The nearest keyframe at or before the frame's packet in decode order — unless the frame is
    /// shown before that keyframe (a leading picture of an open GOP, which may reference the
    /// previous GOP), in which case the keyframe before it.
    func entryPoint(for index: Int) -> Int {
        let position = decodeOrder[index]
        var k = lastKeyframe(atOrBefore: position)
        if k > 0, keyframes[k] != position, let keyIndex = presentationIndex(ofDecodePosition: keyframes[k]),
            keyIndex > index
        {
            k -= 1
        }
        return keyframes[k]
    }

    /// The index into `keyframes` of the last keyframe at or before a decode position.
    private func lastKeyframe(atOrBefore position: Int) -> Int {
        var low = 0, high = keyframes.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if keyframes[mid] <= position { low = mid } else { high = mid - 1 }
        }
        return low
    }

    private func presentationIndex(ofDecodePosition position: Int) -> Int? {
        let i = presentationOfDecode[position]
        return i >= 0 ? i : nil
    }

    /// Keeps the first `count` frames in presentation order (the packets stay, since kept frames
    /// may reference them).
    mutating func keepFirst(_ count: Int) {
        guard count < pts.count else { return }
        for removed in pts[count...] { indexOfPTS[removed] = nil }
        for position in decodeOrder[count...] { presentationOfDecode[position] = -1 }
        pts.removeSubrange(count...)
        decodeOrder.removeSubrange(count...)
        durations.removeSubrange(count...)
    }
}

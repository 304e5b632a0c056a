#!/usr/bin/env python3
"""The malformed-media corpus VideoIO's tests run (Tests/VideoIOTests/MalformedMediaTests.swift).

Writes small files into Tests/VideoIOTests/Fixtures/malformed/ with PyAV (FFmpeg), plus
manifest.json giving each file's expected outcome when opened and fully decoded by VideoReader:
  {"file": ..., "expect": "frames", "frames": N, "width": W, "height": H}   every frame decodes
  {"file": ..., "expect": "error", "error": "<VideoIOError case>"}         a typed error at open
The Swift test also derives truncations at many offsets and bit flips from every "frames" file;
each must end in a typed error or decoded frames, never a signal.

Cases: H.264 with B-frames (mp4, and in an MPEG transport stream), VP8 and VP9 (WebM), variable frame rate (Matroska), a rotation
tag (mp4), one frame, a 2x2 video, a Matroska file named .mp4 (wrong extension), zero bytes, an
audio-only WAV, a Y4M header claiming 65536x65536 with a few bytes of data, an HLS playlist and a
concat list naming a real file, and text named .mkv.

Usage:  python3 Scripts/reference/make_malformed_media.py   (pip install av numpy)
"""
import fractions
import json
import os
import struct

import av
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "VideoIOTests", "Fixtures", "malformed")


def frame(i, w, h):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 0] = (np.arange(w) * 255 // max(w - 1, 1))[None, :]
    img[:, :, 1] = (i * 40) % 256
    x = (i * 5) % max(w - 8, 1)
    img[h // 3: h // 3 + max(h // 4, 1), x: x + 8, 2] = 255
    return img


def write(name, codec, frames, w=64, h=48, rate=10, options=None, pix_fmt="yuv420p", container=None,
          pts=None, metadata=None):
    path = os.path.join(OUT, name)
    out = av.open(path, "w", format=container)
    stream = out.add_stream(codec, rate=rate, options=options or {})
    stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
    if metadata:
        stream.metadata.update(metadata)
    if pts is not None:
        stream.codec_context.time_base = fractions.Fraction(1, 1000)
    for i in range(frames):
        vf = av.VideoFrame.from_ndarray(frame(i, w, h), format="rgb24")
        if pts is not None:
            vf.pts, vf.time_base = pts[i], fractions.Fraction(1, 1000)
        for packet in stream.encode(vf):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return {"file": name, "expect": "frames", "frames": frames, "width": w, "height": h}


def raw(name, data, error):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return {"file": name, "expect": "error", "error": error}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [
        write("bframes.mp4", "libx264", 8, options={"bf": "2", "crf": "28", "preset": "veryfast"}),
        write("vp8.webm", "libvpx", 6, options={"crf": "30", "b": "200k"}),
        write("vp9.webm", "libvpx-vp9", 6, options={"crf": "40", "b": "0", "deadline": "realtime", "cpu-used": "8"}),
        write("vfr.mkv", "libx264", 6, options={"crf": "28"}, pts=[0, 40, 50, 200, 210, 400]),
        write("rotated.mp4", "libx264", 4, options={"crf": "28"}, metadata={"rotate": "90"}),
        write("one_frame.mp4", "libx264", 1, options={"crf": "28"}),
        write("tiny_2x2.mkv", "ffv1", 3, w=2, h=2, pix_fmt="yuv444p"),
    ]
    # An MPEG transport stream (no container index) and the same cut at TS-packet boundaries: the
    # demuxer sees no damage, so the reader must find the frames that no longer decode itself.
    cases.append(write("bframes.ts", "libx264", 8, options={"bf": "2", "crf": "28", "preset": "veryfast"},
                       container="mpegts"))
    # A Matroska file under an .mp4 name: opened by content.
    mkv = write("wrong_extension.mkv", "libx264", 3, options={"crf": "28"})
    os.replace(os.path.join(OUT, "wrong_extension.mkv"), os.path.join(OUT, "matroska_named.mp4"))
    mkv["file"] = "matroska_named.mp4"
    cases.append(mkv)

    cases.append(raw("empty.mp4", b"", "notAVideo"))
    samples = 800
    wav = b"RIFF" + struct.pack("<I", 36 + 2 * samples) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    wav += b"data" + struct.pack("<I", 2 * samples) + bytes(2 * samples)
    cases.append(raw("audio_only.wav", wav, "noVideoStream"))
    cases.append(raw("absurd_dimensions.y4m", b"YUV4MPEG2 W65536 H65536 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(64),
                     "notAVideo"))
    # Relative names: a reader that followed them would open the real one_frame.mp4 beside them.
    target = "one_frame.mp4"
    cases.append(raw("playlist.mp4", f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{target}\n#EXT-X-ENDLIST\n".encode(),
                     "notAVideo"))
    cases.append(raw("concat.mp4", f"ffconcat version 1.0\nfile '{target}'\n".encode(), "notAVideo"))
    cases.append(raw("text.mkv", b"this is not a video\n" * 20, "notAVideo"))

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, c["file"])) for c in cases)
    print(f"wrote {len(cases)} files, {total} bytes")


if __name__ == "__main__":
    main()

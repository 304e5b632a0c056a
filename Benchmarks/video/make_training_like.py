"""Re-encodes benchmark clips the way video datasets are usually prepared for training.

Kinetics-style preprocessing resizes every video to a 256-pixel short side and re-encodes it with
ffmpeg's default libx264 settings (CRF 23, preset medium: three B-frames with a B-pyramid, keyframes
at most 250 frames apart); Something-Something v2 ships VP9 in WebM. For each input this writes

  <name>.x264-256.mp4    libx264, CRF 23, preset medium, yuv420p, 256-pixel short side
  <name>.vp9-256.webm    libvpx-vp9, constant quality (CRF 32, no bitrate cap), same size

into the output folder, skipping files that are already there and newer than their source, and
prints the paths as a JSON list. The outputs are generated, never committed; `VideoIOBenchmarks
compare --derived DIR` calls this script and adds them to the benchmark set.

Usage:
    python3 Benchmarks/video/make_training_like.py --out DIR FILE...
Requires: av (PyAV wheels bundle FFmpeg with libx264 and libvpx).
"""

import argparse
import json
import os
from fractions import Fraction

import av

SHORT_SIDE = 256

FORMATS = [
    # (suffix, encoder, options): the ffmpeg command line's defaults, spelled out, because PyAV
    # would otherwise run libx264 in average-bitrate mode.
    ("x264-256.mp4", "libx264", {"crf": "23", "preset": "medium"}),
    ("vp9-256.webm", "libvpx-vp9", {"crf": "32", "b": "0"}),
]


def target_size(width, height):
    """The size after `scale=-2:256` (or `scale=256:-2` for portrait): short side 256, even extents."""
    if width <= height:
        w, h = SHORT_SIDE, round(height * SHORT_SIDE / width)
    else:
        w, h = round(width * SHORT_SIDE / height), SHORT_SIDE
    return w + w % 2, h + h % 2


def encode(source, destination, encoder, options):
    with av.open(source) as inp:
        stream = inp.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        width, height = target_size(stream.codec_context.width, stream.codec_context.height)
        partial = destination + ".partial"
        with av.open(partial, "w", format="webm" if destination.endswith(".webm") else "mp4") as out:
            video = out.add_stream(encoder, rate=rate, options=options)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.bit_rate = 0
            # Frame threads, as the ffmpeg tool runs libx264 (PyAV's default slice threads would
            # cut every picture into slices).
            video.codec_context.thread_type = "FRAME"
            for k, frame in enumerate(inp.decode(stream)):
                # ffmpeg's scale filter defaults to bicubic.
                small = frame.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
                # A constant frame rate, one tick of 1/rate per frame.
                small.pts, small.time_base = k, 1 / rate
                for packet in video.encode(small):
                    out.mux(packet)
            for packet in video.encode(None):
                out.mux(packet)
        os.replace(partial, destination)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    written = []
    for source in args.files:
        stem = os.path.splitext(os.path.basename(source))[0]
        for suffix, encoder, options in FORMATS:
            destination = os.path.join(args.out, f"{stem}.{suffix}")
            if not (os.path.exists(destination) and os.path.getmtime(destination) >= os.path.getmtime(source)):
                encode(source, destination, encoder, options)
            written.append(destination)
    print(json.dumps(written))


if __name__ == "__main__":
    main()

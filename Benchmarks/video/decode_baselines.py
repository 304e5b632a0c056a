"""Baselines for `VideoIOBenchmarks clips`: the same task with decord and PyAV.

Task, per clip: open the file, take 8 uniformly spaced frames (PyTorchVideo's
UniformTemporalSubsample: float32 linspace(0, n - 1, 8), truncated), resize each to 224x224 RGB
uint8 with bilinear filtering, close. Every thread walks the whole file list `--repeats` times with
its own readers, so clips/s at several thread counts shows the scaling directly.

  decord: VideoReader(path, ctx=cpu(0), width=224, height=224, num_threads=1).get_batch(indices)
  PyAV:   one decoder thread; frames decoded in order from the start until the last index (how
          PyTorchVideo and torchvision read with PyAV), the chosen ones reformatted by swscale.

Usage (same files and thread counts as the Swift run):
    python3 Benchmarks/video/decode_baselines.py --threads 1,2 --repeats 3 FILE...
Prints one JSON object. Requires: av, decord (optional; reported missing if absent), numpy.

    python3 Benchmarks/video/decode_baselines.py --serve decord|pyav
is the worker behind `VideoIOBenchmarks compare`, which interleaves the libraries file by file:
it reads one JSON request per line ({"file": PATH, "clips": N}), times N clips of that file on
this thread and answers one JSON line ({"seconds": S, "peak_rss_mib": M}). One process per library,
so each peak resident memory is that library's own.
"""

import argparse
import json
import os
import resource
import sys
import threading
import time

import av
import numpy as np

try:
    import decord
except ImportError:
    decord = None

SIZE = 224
FRAMES = 8


def uniform_indices(n, count=FRAMES):
    """torch.linspace(0, n - 1, count) in float32 (steps from both ends), then .long()."""
    end = np.float32(n - 1)
    step = np.float32(end / np.float32(count - 1))
    half = count // 2
    out = []
    for i in range(count):
        v = np.float32(i) * step if i < half else end - np.float32(count - 1 - i) * step
        out.append(int(min(max(v, 0), end)))
    return out


def clip_decord(path):
    reader = decord.VideoReader(path, ctx=decord.cpu(0), width=SIZE, height=SIZE, num_threads=1)
    batch = reader.get_batch(uniform_indices(len(reader))).asnumpy()
    assert batch.shape == (FRAMES, SIZE, SIZE, 3), batch.shape
    return batch


def clip_pyav(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.thread_count = 1
        count = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
        if not stream.frames:
            container.seek(0)
        wanted = uniform_indices(count)
        chosen = {}
        for k, frame in enumerate(container.decode(stream)):
            if k in wanted:
                chosen[k] = frame.reformat(width=SIZE, height=SIZE, format="rgb24",
                                           interpolation="BILINEAR", threads=1).to_ndarray()
            if k >= wanted[-1]:
                break
    batch = np.stack([chosen[k] for k in wanted])
    assert batch.shape == (FRAMES, SIZE, SIZE, 3), batch.shape
    return batch


def measure(fn, files, threads, repeats):
    errors = []

    def worker():
        try:
            for _ in range(repeats):
                for f in files:
                    fn(f)
        except Exception as e:  # reported, not hidden
            errors.append(repr(e))

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    clips = threads * repeats * len(files)
    return dict(threads=threads, clips=clips, seconds=elapsed, clips_per_second=clips / elapsed)


def peak_rss_mib():
    """The process's peak resident memory (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(name):
    """Answers timing requests on stdin/stdout, one JSON object per line (see the module docstring)."""
    fn = {"decord": clip_decord, "pyav": clip_pyav}[name]
    if name == "decord" and decord is None:
        raise SystemExit("decord is not installed")
    hello = dict(library=name, version=decord.__version__ if name == "decord" else av.__version__,
                 rss_after_import_mib=peak_rss_mib())
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        for _ in range(request["clips"]):
            fn(request["file"])
        elapsed = time.perf_counter() - start
        print(json.dumps(dict(seconds=elapsed, peak_rss_mib=peak_rss_mib())), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", choices=["decord", "pyav"])
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if not args.files:
        parser.error("give one or more video files")
    threads = [int(t) for t in args.threads.split(",")]
    report = dict(task=f"{FRAMES} uniformly spaced frames resized to {SIZE}x{SIZE} RGB (uint8), new reader per clip",
                  files=[os.path.basename(f) for f in args.files], repeats=args.repeats,
                  pyav_version=av.__version__)
    backends = [("pyav", clip_pyav)]
    if decord is not None:
        report["decord_version"] = decord.__version__
        backends.insert(0, ("decord", clip_decord))
    else:
        report["decord"] = "not installed (no wheel for this Python?)"
    for name, fn in backends:
        for f in args.files:
            fn(f)  # warm the page cache and the libraries
        results = [measure(fn, args.files, t, args.repeats) for t in threads]
        for r in results:
            r["scaling"] = r["clips_per_second"] / results[0]["clips_per_second"]
        report[name] = results
    print(json.dumps(report, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

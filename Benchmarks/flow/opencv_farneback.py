"""OpenCV baseline for FlowBenchmarks: Farneback pairs per second on one thread.

Uses TIME's parameters (0.5, 3, 15, 3, 5, 1.2, 0) on the same analytic frames as the Swift
benchmark (a smooth pattern and its (1.3, 0.7) px shift) and prints one JSON object:
{"opencv": "4.x", "threads": 1, "results": {"112": pairs_per_s, "224": pairs_per_s}}.

Requires numpy and opencv-python-headless. Usage: python3 Benchmarks/flow/opencv_farneback.py [seconds]
"""

import json
import sys
import time

import cv2
import numpy as np


def frames(size, dx=1.3, dy=0.7):
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)

    def pattern(x, y):
        return (50 * np.sin(x * 0.29) * np.cos(y * 0.21) + 35 * np.sin((x + 0.7 * y) * 0.13)
                + 20 * np.cos(x * 0.05 - y * 0.11))

    return pattern(x, y).astype(np.float32), pattern(x - dx, y - dy).astype(np.float32)


def pairs_per_second(size, seconds):
    a, b = frames(size)
    run = lambda: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    for _ in range(3):
        run()
    best = 0.0
    for _ in range(5):  # best of five bursts, like the Swift side
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            run()
            count += 1
        best = max(best, count / (time.perf_counter() - start))
    return best


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    cv2.setNumThreads(1)
    results = {str(s): round(pairs_per_second(s, seconds), 1) for s in (112, 224)}
    print(json.dumps({"opencv": cv2.__version__, "threads": 1, "results": results}))


if __name__ == "__main__":
    main()

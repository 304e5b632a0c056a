#!/usr/bin/env python3
"""PyTorch eager side of CNNBenchmarks: one measurement per run, in a fresh process.

  --what convs   Conv3d forward + backward (gradients of input and weight, `sum(y * g)` seeded with
                 a fixed upstream gradient) on the convolution shapes of torchvision's r3d_18 at
                 batch --batch over 16x112x112 clips (the table CONVS below; CNNBenchmarks uses the
                 same). Prints {"convs": {name: milliseconds}} (median of --steps after a warm-up).
  --what step    one r3d_18 training step (torchvision.models.video.r3d_18, 400 classes, train mode,
                 random clip [batch, 3, 16, 112, 112]): forward, cross-entropy, backward, SGD with
                 momentum 0.9 and weight decay 1e-4 (IIC's optimiser, §3.7), gradients set to None.
                 Prints stepSeconds (median of --steps after one warm-up), clipsPerSecond and
                 peakRSSBytes (VmHWM).

Usage: python3 Benchmarks/pytorch/cnn_bench.py --what step --batch 2 --steps 3 --threads 2
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

# name: (input [N omitted] C, T, H, W; weight O, C, kt, kh, kw; stride; padding)
CONVS = {
    "stem": ((3, 16, 112, 112), (64, 3, 3, 7, 7), (1, 2, 2), (1, 3, 3)),
    "layer1": ((64, 16, 56, 56), (64, 64, 3, 3, 3), (1, 1, 1), (1, 1, 1)),
    "layer2.down": ((64, 16, 56, 56), (128, 64, 3, 3, 3), (2, 2, 2), (1, 1, 1)),
    "layer2": ((128, 8, 28, 28), (128, 128, 3, 3, 3), (1, 1, 1), (1, 1, 1)),
    "layer3": ((256, 4, 14, 14), (256, 256, 3, 3, 3), (1, 1, 1), (1, 1, 1)),
    "layer4": ((512, 2, 7, 7), (512, 512, 3, 3, 3), (1, 1, 1), (1, 1, 1)),
    "shortcut": ((64, 16, 56, 56), (128, 64, 1, 1, 1), (2, 2, 2), (0, 0, 0)),
}


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    return -1


def median(xs):
    return sorted(xs)[len(xs) // 2]


def convs(args):
    out = {}
    for name, (xs, ws, stride, padding) in CONVS.items():
        x = torch.randn(args.batch, *xs, requires_grad=True)
        w = (torch.randn(*ws) * 0.05).requires_grad_(True)
        y = F.conv3d(x, w, None, stride, padding)
        g = torch.randn_like(y)
        times = []
        for i in range(args.steps + 1):
            x.grad, w.grad = None, None
            t0 = time.perf_counter()
            y = F.conv3d(x, w, None, stride, padding)
            y.backward(g)
            if i:
                times.append(time.perf_counter() - t0)
        out[name] = median(times) * 1000
    return {"convs": out}


def step(args):
    from torchvision.models.video import r3d_18
    torch.manual_seed(0)
    model = r3d_18()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.rand(args.batch, 3, 16, 112, 112)
    labels = torch.randint(0, 400, (args.batch,))
    times = []
    for i in range(args.steps + 1):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i:
            times.append(time.perf_counter() - t0)
    s = median(times)
    return {"stepSeconds": s, "clipsPerSecond": args.batch / s, "peakRSSBytes": peak_rss_bytes()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--what", choices=["convs", "step"], default="step")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    result = convs(args) if args.what == "convs" else step(args)
    result.update({"side": "pytorch", "what": args.what, "batch": args.batch, "threads": args.threads,
                   "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()

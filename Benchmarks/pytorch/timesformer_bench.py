#!/usr/bin/env python3
"""PyTorch eager side of ModelBenchmarks: one measurement of the TimeSformer tiny configuration
(dim 192, depth 12, heads 3, 8 frames of 112x112, patch 16, 174 classes, drop-path 0.1) per run.

The model is the project's own re-implementation of TIME's TimeSformer in
Scripts/reference/make_backbone_golden.py, with timm-style stochastic depth added so that the
training step does the same work as the Swift model in training mode.

Each invocation measures one thing in a fresh process, so the peak RSS it reports (VmHWM) belongs
to that measurement alone:
  --mode train   forward, cross-entropy, backward (no optimizer step), gradients set to None
  --mode infer   forward under torch.inference_mode() in eval mode

Prints one JSON object: mode, batch, threads, stepSeconds (median of --steps after one warm-up),
clipsPerSecond, peakRSSBytes, torch version.

Usage: python3 Benchmarks/pytorch/timesformer_bench.py --mode train --batch 4 --steps 5
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Scripts", "reference"))
from make_backbone_golden import DividedBlock, TimeSformer  # noqa: E402


def drop_path(x, p, training):
    """timm's DropPath: zero whole samples with probability p, rescale the rest."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep / (1 - p)


class DropPathBlock(DividedBlock):
    """DividedBlock with stochastic depth on its three residual branches, as the Swift block."""

    def __init__(self, dim, heads, ratio, rate):
        super().__init__(dim, heads, ratio)
        self.rate = rate

    def forward(self, x, b, t, n):
        c = x.shape[-1]
        dp = lambda y: drop_path(y, self.rate, self.training)  # noqa: E731
        cls, p = x[:, :1], x[:, 1:]
        pt = p.reshape(b, t, n, c).transpose(1, 2).reshape(b * n, t, c)
        r = self.temporal_fc(dp(self.temporal_attn(self.temporal_norm1(pt))))
        p1 = p + r.reshape(b, n, t, c).transpose(1, 2).reshape(b, t * n, c)
        s = torch.cat([cls.unsqueeze(1).expand(b, t, 1, c), p1.reshape(b, t, n, c)], dim=2).reshape(b * t, n + 1, c)
        a = dp(self.attn(self.norm1(s))).reshape(b, t, n + 1, c)
        cls = cls + a[:, :, 0].mean(dim=1, keepdim=True)
        p1 = p1 + a[:, :, 1:].reshape(b, t * n, c)
        x = torch.cat([cls, p1], dim=1)
        return x + dp(self.mlp(self.norm2(x)))


def build(args):
    model = TimeSformer(img=args.img, patch=16, frames=args.frames, dim=192, depth=12, heads=3, classes=174)
    rates = torch.linspace(0, 0.1, 12).tolist()
    model.blocks = nn.ModuleList([DropPathBlock(192, 3, 4.0, r) for r in rates])
    for p in model.parameters():
        nn.init.normal_(p, std=0.02)
    return model


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    return -1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["train", "infer"], required=True)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--img", type=int, default=112)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args)
    clip = torch.randn(args.batch, args.frames, 3, args.img, args.img)
    labels = torch.arange(args.batch) % 174

    def train_step():
        model.zero_grad(set_to_none=True)
        cls, _ = model.features(clip)
        loss = F.cross_entropy(model.head(cls), labels)
        loss.backward()

    def infer_step():
        with torch.inference_mode():
            model.head(model.features(clip)[0])

    if args.mode == "train":
        model.train()
        step = train_step
    else:
        model.eval()
        step = infer_step
    times = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])
    median = times[len(times) // 2]
    print(json.dumps({
        "mode": args.mode, "batch": args.batch, "threads": torch.get_num_threads(),
        "stepSeconds": median, "clipsPerSecond": args.batch / median,
        "peakRSSBytes": peak_rss_bytes(), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()

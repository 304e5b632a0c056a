#!/usr/bin/env python3
"""PyTorch eager side of ModelBenchmarks: one measurement of one tiny backbone configuration per run.

Models (dim 192, depth 12, heads 3, MLP ratio 4, 8 frames of 112x112, patch 16, 174 classes), each
the project's own re-implementation of the reference model, with timm-style stochastic depth at the
rate of the Swift registry entry so that training mode does the same work:
  timesformer_tiny_8x112    Scripts/reference/make_backbone_golden.py, drop-path 0.1
  motionformer_tiny_8x112   Scripts/reference/make_backbone_golden_mf_xvit.py, drop-path 0.2
  xvit_tiny_8x112           Scripts/reference/make_backbone_golden_mf_xvit.py, drop-path 0
                            (its consensus head keeps dropout 0.5, as in Swift)
TIME's heads are TimeHeads from Scripts/reference/make_time_golden.py.

Each invocation measures one thing in a fresh process, so the peak RSS it reports (VmHWM) belongs
to that measurement alone:
  --mode train        forward, cross-entropy, backward, AdamW step
  --mode train+time   TIME's objective as the Swift trainer computes it: the clip's forward
                      (label-smoothed cross-entropy, frame-order and flow-direction losses on its
                      patch tokens, flow labels drawn at random), the frame-shuffled clip's forward
                      (debias loss); one backward; AdamW over backbone and heads
  --mode infer        forward under torch.inference_mode() in eval mode
  --count             no timing: parameter counts and the matrix-product FLOPs that
                      torch.utils.flop_counter counts for one clip (forward and whole step)

AdamW is torch.optim.AdamW with its defaults (which on CPU resolve to the single-tensor loop, not
foreach), lr 1e-4, weight decay 0.05 on parameters with two or more dimensions and 0 on the rest;
gradients are set to None before each step.

Prints one JSON object: mode, batch, threads, stepSeconds (median of --steps after one warm-up),
clipsPerSecond, peakRSSBytes, baselineRSSBytes (resident set before the first step), torch
version, AdamW implementation.

Usage: python3 Benchmarks/pytorch/model_bench.py --model xvit_tiny_8x112 --mode train --steps 5
       python3 Benchmarks/pytorch/model_bench.py --model xvit_tiny_8x112 --count
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Scripts", "reference"))
from make_backbone_golden import DividedBlock, TimeSformer  # noqa: E402
from make_backbone_golden_mf_xvit import MFBlock, Motionformer, XViT  # noqa: E402
from make_time_golden import TimeHeads  # noqa: E402

DIM, DEPTH, HEADS, RATIO, PATCH, CLASSES = 192, 12, 3, 4.0, 16, 174
MODELS = {  # registry name -> (family, drop-path rate of the last block)
    "timesformer_tiny_8x112": ("timesformer", 0.1),
    "motionformer_tiny_8x112": ("motionformer", 0.2),
    "xvit_tiny_8x112": ("xvit", 0.0),
}
SMOOTHING = 0.2  # TIME's label smoothing of the classification, order and flow terms


def drop_path(x, p, training):
    """timm's DropPath: zero whole samples with probability p, rescale the rest."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep / (1 - p)


class DropPathDividedBlock(DividedBlock):
    """TimeSformer's block with stochastic depth on its three residual branches, as the Swift block."""

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


class DropPathMFBlock(MFBlock):
    """Motionformer's block with stochastic depth on both residual branches."""

    def __init__(self, dim, heads, ratio, rate):
        super().__init__(dim, heads, ratio)
        self.rate = rate

    def forward(self, x, f, n):
        x = x + drop_path(self.attn(self.norm1(x), f, n), self.rate, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.rate, self.training)


def build(name, frames, img):
    family, rate = MODELS[name]
    rates = torch.linspace(0, rate, DEPTH).tolist()
    kwargs = dict(img=img, patch=PATCH, frames=frames, dim=DIM, depth=DEPTH, heads=HEADS, ratio=RATIO,
                  classes=CLASSES)
    if family == "timesformer":
        model = TimeSformer(**kwargs)
        model.blocks = nn.ModuleList([DropPathDividedBlock(DIM, HEADS, RATIO, r) for r in rates])
    elif family == "motionformer":
        model = Motionformer(**kwargs)
        model.blocks = nn.ModuleList([DropPathMFBlock(DIM, HEADS, RATIO, r) for r in rates])
    else:  # X-ViT: no backbone drop-path
        model = XViT(**kwargs)
    # Weights like the Swift models' (trunc-normal 0.02 matrices); biases and norms keep PyTorch's.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
    return model


def peak_rss_bytes(field="VmHWM"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return -1


class Step:
    """The model, TIME's heads, AdamW and inputs of one mode."""

    def __init__(self, args, batch):
        self.mode = args.mode
        self.model = build(args.model, args.frames, args.img)
        self.heads = TimeHeads(DIM, args.frames) if args.mode == "train+time" else None
        self.clip = torch.randn(batch, args.frames, 3, args.img, args.img)
        self.labels = torch.arange(batch) % CLASSES
        n = (args.img // PATCH) ** 2
        self.flow_labels = torch.randint(0, 9, (batch, args.frames - 1, n))
        self.order_labels = torch.arange(args.frames).repeat(batch)
        params = list(self.model.parameters()) + (list(self.heads.parameters()) if self.heads else [])
        self.params = params
        self.optimizer = None
        if args.mode == "infer":
            self.model.eval()
        else:
            self.model.train()
            groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.05},
                      {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
            self.optimizer = torch.optim.AdamW(groups, lr=1e-4)

    def loss(self):
        m = self.model
        if self.heads is None:
            cls, _ = m.features(self.clip)
            return F.cross_entropy(m.head(cls), self.labels)
        cls, tokens = m.features(self.clip)
        t = self.clip.shape[1]
        shuffled = m.head(m.features(self.clip[:, torch.randperm(t)])[0])
        order = self.heads.order(tokens)
        flow = self.heads.flow(tokens)
        return (F.cross_entropy(m.head(cls), self.labels, label_smoothing=SMOOTHING)
                + F.cross_entropy(order.reshape(-1, t), self.order_labels, label_smoothing=SMOOTHING)
                - F.log_softmax(shuffled, dim=-1).mean(dim=-1).mean()
                + F.cross_entropy(flow.reshape(-1, 9), self.flow_labels.reshape(-1), label_smoothing=SMOOTHING))

    def run(self):
        if self.optimizer is None:
            with torch.inference_mode():
                self.model.head(self.model.features(self.clip)[0])
            return
        self.optimizer.zero_grad(set_to_none=True)
        self.loss().backward()
        self.optimizer.step()


def adamw_implementation(params):
    """What torch.optim.AdamW's default (foreach=None, fused=None) resolves to for these parameters."""
    try:
        from torch.optim.optimizer import _default_to_fused_or_foreach
        fused, foreach = _default_to_fused_or_foreach(params, False, False)
        return "fused" if fused else "foreach" if foreach else "single-tensor"
    except Exception:  # a private helper; its absence does not matter to the measurement
        return "default"


def count(args):
    """Parameter counts and counted matrix-product FLOPs per clip, for checking the Swift figures."""
    from torch.utils.flop_counter import FlopCounterMode
    params, forward, step = {}, {}, {}
    for mode in ["train", "train+time", "infer"]:
        args.mode = mode
        s = Step(args, 1)
        params[mode] = sum(p.numel() for p in s.params)
        with FlopCounterMode(display=False) as counter:
            if mode == "infer":
                s.run()
            else:
                with torch.no_grad():
                    s.loss()
        forward[mode] = counter.get_total_flops() / 1e9
        if mode != "infer":
            with FlopCounterMode(display=False) as counter:
                s.loss().backward()
            step[mode] = counter.get_total_flops() / 1e9
        else:
            step[mode] = forward[mode]
    print(json.dumps({"model": args.model, "parameterCount": params, "forwardGFLOPPerClip": forward,
                      "stepGFLOPPerClip": step, "torch": torch.__version__}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), default="timesformer_tiny_8x112")
    parser.add_argument("--mode", choices=["train", "train+time", "infer"])
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--img", type=int, default=112)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.count:
        count(args)
        return
    if args.mode is None:
        parser.error("give --mode or --count")
    step = Step(args, args.batch)
    baseline = peak_rss_bytes("VmRSS")
    times = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        step.run()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])
    median = times[len(times) // 2]
    print(json.dumps({
        "mode": args.mode, "batch": args.batch, "threads": torch.get_num_threads(),
        "stepSeconds": median, "clipsPerSecond": args.batch / median,
        "peakRSSBytes": peak_rss_bytes(), "baselineRSSBytes": baseline, "torch": torch.__version__,
        "adamw": adamw_implementation(step.params) if step.optimizer else None,
    }))


if __name__ == "__main__":
    main()

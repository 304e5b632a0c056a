#!/usr/bin/env python3
"""PyTorch eager side of SVTBenchmarks: one measurement of one SVT training step per run.

The step is SVT's self-distillation with an EMA teacher (docs reference/SVT-VideoMS-IIC.md §1), at
the size of the Swift registry's svt_tiny_8x64 with the head of SVTStepBenchmark:
  backbone  divided space-time TimeSformer, Scripts/reference/make_backbone_golden.py: dim 192,
            depth 6, heads 3, MLP ratio 4, patch 16, qkv bias, LayerNorm eps 1e-6, 8-frame time
            embedding, 64x64 position grid (4x4 + cls), no classifier, timm-style stochastic depth
            rising linearly from 0 to 0.1 over the blocks (model_bench.py's DropPathDividedBlock).
            The feature is the final-norm class token. Position and time embeddings are resampled
            to each view with F.interpolate(mode='nearest') (SVT's dynamic positional encoding,
            §1.2), where the golden re-implementation resizes the grid bicubically.
  head      DINO head, Scripts/reference/make_svt_fixtures.py: 192 -> 512 -> GELU -> 512 -> GELU
            -> 128 -> L2-normalise -> weight-normalised Linear(128 -> 4096, no bias), g frozen at 1.
  teacher   a copy of backbone and head without gradients, kept in training mode (its stochastic
            depth is active, as in the released code).
  views     per sample 2 globals of 8 and 16 frames at 64x64 and 8 locals of 2, 2, 4, 4, 8, 8, 16,
            16 frames at 32x32, random normal, made once. Each of the groups [g1], [g2], [l1,l2],
            [l3,l4], [l5,l6], [l7,l8] is concatenated along the batch and runs as one forward; the
            features are concatenated view-major (row v*B + b) before the head.

One step: student forward of every group and the head; teacher forward of the two globals and
its head under torch.no_grad(); DINO loss (student temperature 0.1, teacher 0.04, centre
subtracted, 2 * 9 = 18 terms); centre update (momentum 0.9); backward; per-tensor gradient clipping
at 3.0 (each gradient scaled by 3 / (norm + 1e-6) when that is below 1); AdamW (torch.optim.AdamW
defaults, lr 1e-4, weight decay 0.04 on trainable parameters with two or more dimensions that are
not biases, 0 on the rest); gradients set to None; EMA of the teacher with momentum 0.996 over all
parameters (t.mul_(m).add_((1 - m) * s)).

Each invocation measures one thing in a fresh process, so the peak RSS it reports (VmHWM) belongs
to that measurement alone:
  (default)  timing: prints one JSON object: mode "svt", batch, threads, views, stepSeconds
             (median of --steps after one warm-up), viewsPerSecond (batch * views / stepSeconds),
             samplesPerSecond, peakRSSBytes, baselineRSSBytes (resident set before the first
             step), torch version, AdamW implementation.
  --count    no timing: parameter counts of the student's backbone and head, their total and the
             teacher's (all parameters, and those the optimiser updates, i.e. without weight_g).

Usage: python3 Benchmarks/pytorch/svt_bench.py --batch 4 --steps 3 --threads 2
       python3 Benchmarks/pytorch/svt_bench.py --count
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Scripts", "reference"))
sys.path.insert(0, HERE)
from make_backbone_golden import TimeSformer  # noqa: E402
from make_svt_fixtures import ProjectionHead, dino_loss, updated_center  # noqa: E402
from model_bench import DropPathDividedBlock, adamw_implementation, peak_rss_bytes  # noqa: E402

DIM, DEPTH, HEADS, RATIO, PATCH, FRAMES, IMG, DROP_PATH = 192, 6, 3, 4.0, 16, 8, 64, 0.1
HIDDEN, BOTTLENECK, OUT_DIM = 512, 128, 4096
GLOBAL_FRAMES, GLOBAL_SIZE = [8, 16], 64
LOCAL_FRAMES, LOCAL_SIZE = [2, 2, 4, 4, 8, 8, 16, 16], 32
STUDENT_TEMP, TEACHER_TEMP, CENTER_MOMENTUM = 0.1, 0.04, 0.9
CLIP, LR, WEIGHT_DECAY, EMA_MOMENTUM = 3.0, 1e-4, 0.04, 0.996


class SVTTimeSformer(TimeSformer):
    """TimeSformer with SVT's nearest resampling of the position grid and the time embedding."""

    def features(self, x):  # x: (B, T, 3, H, W)
        b, t = x.shape[:2]
        p, (gh, gw) = self.patch_embed(x.flatten(0, 1))
        n, c = p.shape[1], p.shape[2]
        pos = self.pos_embed
        if pos.shape[1] != n + 1:  # nearest resize of the patch grid, cls position kept
            g0 = int((pos.shape[1] - 1) ** 0.5)
            grid = pos[:, 1:].reshape(1, g0, g0, c).permute(0, 3, 1, 2)
            grid = F.interpolate(grid, size=(gh, gw), mode="nearest")
            pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, n, c)], dim=1)
        cls = self.cls_token + pos[:, :1]
        p = (p + pos[:, 1:]).reshape(b, t, n, c)
        te = self.time_embed
        if te.shape[1] != t:
            te = F.interpolate(te.transpose(1, 2), size=t, mode="nearest").transpose(1, 2)
        p = (p + te.unsqueeze(2)).reshape(b, t * n, c)
        x = torch.cat([cls.expand(b, -1, -1), p], dim=1)
        for blk in self.blocks:
            x = blk(x, b, t, n)
        x = self.norm(x)
        return x[:, 0], x[:, 1:].reshape(b, t, n, c)


class SVTModel(nn.Module):
    """Backbone and DINO head over a list of view groups (SVT's multi-crop wrapper)."""

    def __init__(self):
        super().__init__()
        self.backbone = SVTTimeSformer(img=IMG, patch=PATCH, frames=FRAMES, dim=DIM, depth=DEPTH, heads=HEADS,
                                       ratio=RATIO)
        del self.backbone.head  # no classifier
        rates = torch.linspace(0, DROP_PATH, DEPTH).tolist()
        self.backbone.blocks = nn.ModuleList([DropPathDividedBlock(DIM, HEADS, RATIO, r) for r in rates])
        # Backbone weights as model_bench.py's (normal 0.02 matrices); biases and norms keep PyTorch's.
        with torch.no_grad():
            for p in self.backbone.parameters():
                if p.dim() >= 2:
                    nn.init.normal_(p, std=0.02)
        self.head = ProjectionHead(DIM, OUT_DIM, HIDDEN, BOTTLENECK)

    def forward(self, groups):  # groups: list of (G*B, T, 3, S, S), views of one group concatenated
        return self.head(torch.cat([self.backbone.features(x)[0] for x in groups]))


def view_groups(views):
    """Consecutive views of identical shape, concatenated along the batch."""
    groups = []
    for v in views:
        if groups and groups[-1][-1].shape == v.shape:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [torch.cat(g) for g in groups]


class Step:
    """Student, teacher, centre, AdamW and views of one SVT training step."""

    def __init__(self, batch):
        self.student = SVTModel()
        # A fresh copy loaded from the student's state (what the released code does; deepcopy of
        # a weight-normalised layer fails on its derived weight tensor).
        self.teacher = SVTModel()
        self.teacher.load_state_dict(self.student.state_dict())
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.student.train()
        self.teacher.train()
        self.center = torch.zeros(1, OUT_DIM)
        decay = [p for n, p in self.student.named_parameters()
                 if p.requires_grad and p.dim() >= 2 and not n.endswith(".bias")]
        no_decay = [p for n, p in self.student.named_parameters()
                    if p.requires_grad and not (p.dim() >= 2 and not n.endswith(".bias"))]
        self.params = decay + no_decay
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=LR)
        globals_ = [torch.randn(batch, t, 3, GLOBAL_SIZE, GLOBAL_SIZE) for t in GLOBAL_FRAMES]
        locals_ = [torch.randn(batch, t, 3, LOCAL_SIZE, LOCAL_SIZE) for t in LOCAL_FRAMES]
        self.views = len(globals_) + len(locals_)
        self.student_groups = view_groups(globals_ + locals_)
        self.teacher_groups = view_groups(globals_)
        assert len(self.student_groups) == 6 and len(self.teacher_groups) == 2

    def run(self):
        student_out = self.student(self.student_groups)
        with torch.no_grad():
            teacher_out = self.teacher(self.teacher_groups)
        loss, terms = dino_loss(student_out, teacher_out, self.center, TEACHER_TEMP, self.views, STUDENT_TEMP)
        assert terms == 2 * (self.views - 1)
        self.center = updated_center(self.center, teacher_out, CENTER_MOMENTUM)
        loss.backward()
        for p in self.params:  # DINO's clip_gradients: per tensor
            norm = p.grad.norm(2)
            coef = CLIP / (norm + 1e-6)
            if coef < 1:
                p.grad.mul_(coef)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            for s, t in zip(self.student.parameters(), self.teacher.parameters()):
                t.mul_(EMA_MOMENTUM).add_((1 - EMA_MOMENTUM) * s.detach())


def count():
    """Parameter counts, for checking that the Swift side builds the same sizes."""
    step = Step(1)
    numel = lambda ps: sum(p.numel() for p in ps)  # noqa: E731
    s = step.student
    print(json.dumps({
        "studentBackbone": numel(s.backbone.parameters()), "studentHead": numel(s.head.parameters()),
        "studentTotal": numel(s.parameters()), "teacher": numel(step.teacher.parameters()),
        "trainable": {"studentBackbone": numel(p for p in s.backbone.parameters() if p.requires_grad),
                      "studentHead": numel(p for p in s.head.parameters() if p.requires_grad),
                      "studentTotal": numel(step.params)},
        "torch": torch.__version__,
    }))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.count:
        count()
        return
    step = Step(args.batch)
    baseline = peak_rss_bytes("VmRSS")
    times = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        step.run()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])
    median = times[len(times) // 2]
    print(json.dumps({
        "mode": "svt", "batch": args.batch, "threads": torch.get_num_threads(), "views": step.views,
        "stepSeconds": median, "viewsPerSecond": args.batch * step.views / median,
        "samplesPerSecond": args.batch / median,
        "peakRSSBytes": peak_rss_bytes(), "baselineRSSBytes": baseline, "torch": torch.__version__,
        "adamw": adamw_implementation(step.params),
    }))


if __name__ == "__main__":
    main()

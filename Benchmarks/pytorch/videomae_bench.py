#!/usr/bin/env python3
"""PyTorch eager side of a VideoMAE / VideoMS benchmark: one measurement of one pre-training step per run.

The model is the project's re-implementation of VideoMAE's pre-training network
(Scripts/reference/make_videomae_fixtures.py; docs/reference/SVT-VideoMS-IIC.md §2.2-2.4) at CPU size:
  encoder  ViT dim 192, depth 6, heads 3, MLP ratio 4, q/v biases, LayerNorm eps 1e-6, exact GELU,
           Conv3d tubelet embedding (2 x 16 x 16), fixed sinusoid table, no drop-path
  decoder  dim 96, depth 2, heads 3, head Linear(96 -> 1536); encoder_to_decoder Linear(192 -> 96)
  input    16 frames of 112 x 112, ImageNet-normalised random values: 8 slots x 49 cells = 392 tokens

One step: targets under torch.no_grad() (un-normalise, patchify, per-patch normalisation, as the
reference's engine); the forward of the encoder on the visible tokens only, the decoder on the visible
tokens plus one mask token per target; mean squared error on the targets; backward; AdamW
(torch.optim.AdamW default implementation, lr 1.5e-4, betas (0.9, 0.95), eps 1e-8, weight decay 0.05
on parameters with two or more dimensions except mask_token, 0 on biases, q/v biases, LayerNorms and
mask_token, as the reference's parameter groups); gradients set to None.
  --mask tube    per sample a random spatial mask of int(ratio * 49) cells repeated over the 8 slots
                 (drawn each step with torch.randperm, outside the timed region as in the data loader);
                 targets = the masked tokens. --ratio 0.0 masks nothing: the encoder sees all 392 tokens
                 and the decoder reconstructs every token (the reference's decoder path without mask
                 tokens; its loss would fail on an empty target there).
  --mask motion  VideoMS's motion-centric selection inside the step, from the same patch embedding the
                 encoder uses: importance = distance of temporally adjacent embeddings, stable
                 descending sort, K = int((1 - mc_ratio) * 392) candidates shuffled with torch.randperm,
                 visible = first int((1 - ratio) * 392), targets = the rest of the candidates.

Prints one JSON object: mode, ratio, mcRatio, batch, threads, tokens, visibleTokens, targetTokens,
stepSeconds (median of --steps after one warm-up), clipsPerSecond, peakRSSBytes (VmHWM),
baselineRSSBytes (resident set before the first step), torch version, AdamW implementation.

Usage: python3 Benchmarks/pytorch/videomae_bench.py --mask tube --ratio 0.9 --steps 5 --threads 2
       python3 Benchmarks/pytorch/videomae_bench.py --mask motion --ratio 0.9 --mc-ratio 0.7
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Scripts", "reference"))
sys.path.insert(0, HERE)
from make_videomae_fixtures import PretrainModel, motion_counts, patch_targets  # noqa: E402
from model_bench import adamw_implementation, peak_rss_bytes  # noqa: E402

FRAMES, IMG, PATCH, TUBELET = 16, 112, 16, 2
ENCODER, DECODER = (192, 6, 3), (96, 2, 3)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def build():
    model = PretrainModel(img=IMG, frames=FRAMES, enc=ENCODER, dec=DECODER, patch=PATCH)
    model.reference_init()
    return model.train()


def parameter_groups(model):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.dim() == 1 or name.endswith(".bias") or name == "mask_token" else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": 0.05}]


class Step:
    def __init__(self, args):
        self.args = args
        self.model = build()
        self.params = list(self.model.parameters())
        self.optimizer = torch.optim.AdamW(parameter_groups(self.model), lr=1.5e-4, betas=(0.9, 0.95), eps=1e-8)
        raw = torch.rand(args.batch, 3, FRAMES, IMG, IMG)
        mean = torch.as_tensor(MEAN)[None, :, None, None, None]
        std = torch.as_tensor(STD)[None, :, None, None, None]
        self.clip = (raw - mean) / std
        self.slots, self.cells = FRAMES // TUBELET, (IMG // PATCH) ** 2
        self.tokens = self.slots * self.cells
        self.mask = None

    def draw_mask(self):
        """The data loader's tube mask (not timed): bool [B, N], True = masked."""
        masked = int(self.args.ratio * self.cells)
        mask = torch.zeros(self.args.batch, self.cells, dtype=torch.bool)
        for b in range(self.args.batch):
            mask[b, torch.randperm(self.cells)[:masked]] = True
        self.mask = mask.repeat(1, self.slots)

    def counts(self):
        if self.args.mask == "motion":
            keep, n_vis = motion_counts(self.tokens, self.args.mc_ratio, self.args.ratio)
            return n_vis, keep - n_vis
        masked = self.slots * int(self.args.ratio * self.cells)
        return self.tokens - masked, masked if masked else self.tokens

    def run(self):
        self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            labels = patch_targets(self.clip, True, patch=PATCH)
        b, _, c = labels.shape
        if self.args.mask == "motion":
            prediction, _, target, _, _ = self.model.motion_forward(
                self.clip, lambda i, k: torch.randperm(k), self.args.mc_ratio, self.args.ratio)
            labels = labels[target].reshape(b, -1, c)
        else:
            target = self.mask
            prediction = self.model(self.clip, ~target, target)
            if target.any():
                labels = labels[target].reshape(b, -1, c)
        loss = F.mse_loss(prediction, labels)
        loss.backward()
        self.optimizer.step()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mask", choices=["tube", "motion"], default="tube")
    parser.add_argument("--ratio", type=float, default=0.9)
    parser.add_argument("--mc-ratio", type=float, default=0.7)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    step = Step(args)
    baseline = peak_rss_bytes("VmRSS")
    times = []
    for _ in range(args.steps + 1):
        if args.mask == "tube":
            step.draw_mask()
        start = time.perf_counter()
        step.run()
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])
    median = times[len(times) // 2]
    visible, targets = step.counts()
    print(json.dumps({
        "mode": args.mask, "ratio": args.ratio, "mcRatio": args.mc_ratio if args.mask == "motion" else None,
        "batch": args.batch, "threads": torch.get_num_threads(), "tokens": step.tokens,
        "visibleTokens": visible, "targetTokens": targets,
        "stepSeconds": median, "clipsPerSecond": args.batch / median,
        "peakRSSBytes": peak_rss_bytes(), "baselineRSSBytes": baseline, "torch": torch.__version__,
        "adamw": adamw_implementation(step.params),
    }))


if __name__ == "__main__":
    main()

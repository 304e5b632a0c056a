#!/usr/bin/env python3
"""Golden values for VideoSSL's multi-scale crop, random erasing and mixup / CutMix, driven by
VideoSSL's own random generator.

Writes
  Tests/VideoIOTests/Fixtures/augment.safetensors     (Pillow resize and crop, multi-scale crop,
                                                       random erasing)
  Tests/TrainingTests/Fixtures/mixup.safetensors      (Beta draws, mixup / CutMix, soft targets,
                                                       soft-target cross-entropy and its gradient)

The generator is a port of TensorCore's `RandomGenerator` (xoshiro256** seeded by SplitMix64;
`nextInt(below:)` is Swift's `next(upperBound:)`, Lemire's method; `nextNormalDouble` is
Box-Muller with u1 redrawn while <= 0, and `nextNormal` its Float32 rounding). `nextGamma` is
Marsaglia-Tsang and `nextBeta` two Gamma draws, exactly as Sources/TensorCore/Core/Random+Gamma.swift
documents. The algorithms below restate the reference code with every random call replaced by a
draw from that generator:

1. VideoMAE / VideoMS `GroupMultiScaleCrop` (transforms.py; docs/reference/SVT-VideoMS-IIC.md §2.1)
   with scales (1, .875, .75, .66), max_distort 1, fix_crop and more_fix_crop on:
     base = min(W, H); sides = [int(base * s)]; a side with abs(x - size) < 3 becomes size;
     pairs = [(w_j, h_i) for i, h_i in enumerate(sides) for j, w_j in enumerate(sides) if |i - j| <= 1]
     (w, h) = pairs[nextInt(below: len(pairs))]   (random.choice)
     w_step = (W - w) // 4, h_step = (H - h) // 4  (floor division, negative when a snapped side
     exceeds the frame); offsets: the 13 of fill_fix_offset in its order;
     (left, top) = offsets[nextInt(below: 13)]     (random.choice)
   then every frame: PIL img.crop((left, top, left + w, top + h)) (black outside the image) and
   img.resize((size, size), Image.BILINEAR). Frames are uint8 PIL images, as the reference holds
   decord's frames. Pillow 13 or later is required: since 13.0 `ImagingResampleInner` runs the
   vertical pass first when the height shrinks by more than twice as many pixels as the width
   (earlier versions always ran the horizontal pass first, at most one level apart).
2. VideoMAE's random_erasing.py `RandomErasing(probability, mode, max_count, num_splits=max_count,
   device='cpu')` on the normalised clip [T, C, H, W] (kinetics.py `_aug_frame` permutes C T H W to
   T C H W first), `cube=True` by default: ONE rectangle for all frames, fresh noise per frame.
     coin: random.random() -> nextUniformDouble(); return if it is > probability
     count: min_count if min_count == max_count else randint(min_count, max_count)
            -> min_count + nextInt(below: max_count - min_count + 1)
     per rectangle, up to 100 tries (cube; 10 per frame when cube=False):
       target = uniform(min_area, max_area) * area / count,  uniform(a, b) = a + (b - a) * u
       aspect = exp(uniform(log(min_aspect), log(max_aspect)))
       h = int(round(sqrt(target * aspect))), w = int(round(sqrt(target / aspect)))  (ties to even)
       if w < W and h < H: top = randint(0, H - h), left = randint(0, W - w), each
         randint(a, b) -> a + nextInt(below: b - a + 1); fill; stop trying
     fill, per erased frame in order: 'pixel' C*h*w nextNormal() in (c, y, x) order,
       'rand' C nextNormal(), 'const' zeros (torch.empty(...).normal_() in the reference).
   cube=False is timm's behaviour on a batch: the coin, count and tries per frame.
3. VideoMAE's mixup.py `Mixup` (timm's, with VideoMAE's fix `x[..., yl:yh, xl:xh]`, commit
   e76333e), mode 'batch', correct_lam True, cutmix_minmax None, on a batch [B, T, 3, H, W]:
     lam = 1; use_cutmix = False
     if nextUniformDouble() < prob:                                   (np.random.rand())
         if mixup_alpha > 0 and cutmix_alpha > 0:
             use_cutmix = nextUniformDouble() < switch_prob
             lam = nextBeta(a, a) with a = cutmix_alpha if use_cutmix else mixup_alpha
         elif mixup_alpha > 0: lam = nextBeta(mixup_alpha, mixup_alpha)
         else: use_cutmix = True; lam = nextBeta(cutmix_alpha, cutmix_alpha)
     if lam != 1:
       cutmix: rand_bbox: ratio = sqrt(1 - lam); cut_h = int(H * ratio); cut_w = int(W * ratio);
               cy = nextInt(below: H); cx = nextInt(below: W)                (np.random.randint)
               yl, yh = clip(cy -/+ cut_h // 2, 0, H); xl, xh = clip(cx -/+ cut_w // 2, 0, W)
               lam = 1 - (yh - yl) * (xh - xl) / float(H * W)
               x[..., yl:yh, xl:xh] = x.flip(0)[..., yl:yh, xl:xh]
       mixup:  x = x * lam + x.flip(0) * (1 - lam)  (in place, Float32, PyTorch's scalar rounding)
     targets: mixup_target: off = smoothing / K, on = 1 - smoothing + off; one_hot(y) * lam +
       one_hot(y.flip(0)) * (1 - lam); loss: SoftTargetCrossEntropy (sum(-t * log_softmax) over
       classes, mean over the batch) and its gradient with respect to the logits.

Keys (augment.safetensors):
  image u8 [23, 37, 3]; resize.<W>x<H> u8 [H, W, 3] = image.resize((W, H), BILINEAR);
  crop.outside u8 = image.crop((-3, -2, 30, 20));
  msc.cases i64 [N, 4] (seed, H, W, size) and msc.regions i64 [N, 4] (top, left, height, width):
    one draw from a fresh RandomGenerator(seed) per row;
  msc.clip.<k> u8 [T, H, W, 3] input frames and msc.out.<k> u8 [T, size, size, 3] with
    msc.pixel_cases i64 [K, 4] (seed, clip index, size, 0) and msc.pixel_regions i64 [K, 4];
  erase.input f32 [T, C, H, W]; erase.cases i64 [M, 6] (seed, mode 0 const / 1 rand / 2 pixel,
    cube, max_count, probability * 1000, 0); erase.out.<m> f32 [T, C, H, W];
    erase.regions.<m> i64 [R, 5] (frame, top, left, height, width), R >= 1 (a row of -1 when none).
Keys (mixup.safetensors):
  beta.params f64 [P, 2] (a, b); beta.values f64 [P, 6]: six draws from RandomGenerator(P index);
  batch f32 [B, T, 3, H, W]; labels i64 [B]; logits f32 [B, K];
  mix.cases f64 [N, 6] (seed, mixup_alpha, cutmix_alpha, prob, switch_prob, smoothing);
  mix.draws f64 [N, 6] (method 0 none / 1 mixup / 2 cutmix, lambda, top, left, height, width; -1
    without a box); mix.clips.<n> f32; mix.targets.<n> f32 [B, K]; mix.loss.<n> f32 [1];
  mix.grad.<n> f32 [B, K].

Requires: torch, numpy, pillow, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_augment_fixtures.py
"""

import json
import math
import os
import struct

import numpy as np
import PIL
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import load_file
from make_svt_view_fixtures import RandomGenerator as PortedGenerator  # TensorCore's generator, ported once

VIDEOIO_OUT = os.path.join("Tests", "VideoIOTests", "Fixtures", "augment.safetensors")
TRAINING_OUT = os.path.join("Tests", "TrainingTests", "Fixtures", "mixup.safetensors")

MASK = (1 << 64) - 1


class RandomGenerator(PortedGenerator):
    """TensorCore's RandomGenerator (the shared port) with its Box-Muller, Gamma and Beta draws."""

    def next_normal_double(self):
        u1 = self.next_uniform_double()
        while u1 <= 0:
            u1 = self.next_uniform_double()
        u2 = self.next_uniform_double()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def next_normal(self):
        return np.float32(self.next_normal_double())

    def next_gamma(self, shape):
        if shape < 1:
            g = self.next_gamma(shape + 1)
            return g * math.pow(self.next_uniform_double(), 1 / shape)
        d = shape - 1.0 / 3.0
        c = 1 / math.sqrt(9 * d)
        while True:
            while True:
                x = self.next_normal_double()
                v = 1 + c * x
                if v > 0:
                    break
            v = v * v * v
            u = self.next_uniform_double()
            x2 = x * x
            if u < 1 - 0.0331 * x2 * x2:
                return d * v
            if (math.log(u) if u > 0 else -math.inf) < 0.5 * x2 + d * (1 - v + math.log(v)):
                return d * v

    def next_beta(self, a, b):
        while True:
            x = self.next_gamma(a)
            y = self.next_gamma(b)
            if x + y > 0:
                return x / (x + y)


# ---------------------------------------------------------------------------------------------
# 1. GroupMultiScaleCrop


SCALES = (1, 0.875, 0.75, 0.66)


def fill_fix_offset(image_w, image_h, crop_w, crop_h):
    w_step = (image_w - crop_w) // 4
    h_step = (image_h - crop_h) // 4
    return [
        (0, 0), (4 * w_step, 0), (0, 4 * h_step), (4 * w_step, 4 * h_step), (2 * w_step, 2 * h_step),
        (0, 2 * h_step), (4 * w_step, 2 * h_step), (2 * w_step, 4 * h_step), (2 * w_step, 0 * h_step),
        (1 * w_step, 1 * h_step), (3 * w_step, 1 * h_step), (1 * w_step, 3 * h_step), (3 * w_step, 3 * h_step),
    ]


def sample_crop(rng, image_w, image_h, size, max_distort=1):
    """`_sample_crop_size` with input_size [size, size]; returns (left, top, w, h)."""
    base_size = min(image_w, image_h)
    crop_sizes = [int(base_size * x) for x in SCALES]
    crop_h = [size if abs(x - size) < 3 else x for x in crop_sizes]
    crop_w = [size if abs(x - size) < 3 else x for x in crop_sizes]
    pairs = []
    for i, h in enumerate(crop_h):
        for j, w in enumerate(crop_w):
            if abs(i - j) <= max_distort:
                pairs.append((w, h))
    crop_pair = pairs[rng.next_int(len(pairs))]
    offsets = fill_fix_offset(image_w, image_h, crop_pair[0], crop_pair[1])
    w_offset, h_offset = offsets[rng.next_int(len(offsets))]
    return w_offset, h_offset, crop_pair[0], crop_pair[1]


def multi_scale_crop(rng, frames, size):
    """`GroupMultiScaleCrop.__call__` on uint8 frames [T, H, W, 3]."""
    images = [Image.fromarray(f) for f in frames]
    w_offset, h_offset, crop_w, crop_h = sample_crop(rng, images[0].size[0], images[0].size[1], size)
    crops = [img.crop((w_offset, h_offset, w_offset + crop_w, h_offset + crop_h)) for img in images]
    out = [img.resize((size, size), Image.Resampling.BILINEAR) for img in crops]
    return np.stack([np.asarray(img) for img in out]), (h_offset, w_offset, crop_h, crop_w)


def pil_cases(np_rng, arrays):
    image = np_rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
    arrays["image"] = image
    pil = Image.fromarray(image)
    # Strong and mild shrinking, enlarging, one axis only, both ways at once, and no change.
    for w, h in [(8, 8), (24, 24), (50, 31), (37, 10), (12, 23), (80, 5), (37, 23)]:
        arrays[f"resize.{w}x{h}"] = np.asarray(pil.resize((w, h), Image.Resampling.BILINEAR))
    arrays["crop.outside"] = np.asarray(pil.crop((-3, -2, 30, 20)))


def msc_cases(np_rng, arrays):
    geometries = [
        (256, 340, 224),  # 256 * .875 = 224 exactly
        (240, 320, 224),
        (222, 300, 224),  # the full side 222 snaps to 224 > H: negative steps, black border
        (320, 240, 224),  # portrait
        (30, 40, 24),     # 30 * .875 = 26 snaps to 24
        (12, 16, 24),     # every crop is enlarged
        (57, 41, 17),
    ]
    cases, regions = [], []
    for height, width, size in geometries:
        for seed in range(16):
            left, top, w, h = sample_crop(RandomGenerator(seed), width, height, size)
            cases.append([seed, height, width, size])
            regions.append([top, left, h, w])
    regions = np.array(regions, dtype=np.int64)
    assert (regions[:, 0] < 0).any() or (regions[:, 1] < 0).any(), "no region reaches outside the frame"
    arrays["msc.cases"] = np.array(cases, dtype=np.int64)
    arrays["msc.regions"] = regions

    clips = [np_rng.integers(0, 256, size=(3, 30, 40, 3), dtype=np.uint8),
             np_rng.integers(0, 256, size=(2, 22, 30, 3), dtype=np.uint8)]
    for k, clip in enumerate(clips):
        arrays[f"msc.clip.{k}"] = clip
    pixel_cases, pixel_regions = [], []
    outside = False
    for n, (seed, k, size) in enumerate([(0, 0, 24), (1, 0, 24), (2, 0, 24), (3, 0, 16), (4, 1, 24), (5, 1, 24),
                                         (9, 1, 24), (11, 1, 24)]):
        out, region = multi_scale_crop(RandomGenerator(seed), clips[k], size)
        arrays[f"msc.out.{n}"] = out
        pixel_cases.append([seed, k, size, 0])
        pixel_regions.append(list(region))
        outside = outside or region[0] < 0 or region[1] < 0 or region[0] + region[2] > clips[k].shape[1]
    assert outside, "no pixel case reaches outside the frame"
    arrays["msc.pixel_cases"] = np.array(pixel_cases, dtype=np.int64)
    arrays["msc.pixel_regions"] = np.array(pixel_regions, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# 2. Random erasing


class RandomErasing:
    """VideoMAE random_erasing.py, with Python's `random` and torch's normal_() replaced by draws."""

    def __init__(self, rng, probability=0.5, min_area=0.02, max_area=1 / 3, min_aspect=0.3, max_aspect=None,
                 mode="const", min_count=1, max_count=None, num_splits=0, cube=True):
        self.rng = rng
        self.probability = probability
        self.min_area = min_area
        self.max_area = max_area
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))
        self.min_count = min_count
        self.max_count = max_count or min_count
        self.num_splits = num_splits
        self.per_pixel = mode == "pixel"
        self.rand_color = mode == "rand"
        self.cube = cube
        self.regions = []

    def uniform(self, a, b):
        return a + (b - a) * self.rng.next_uniform_double()

    def randint(self, a, b):
        return a + self.rng.next_int(b - a + 1)

    def get_pixels(self, patch_size):
        c, h, w = patch_size
        if self.per_pixel:
            values = [self.rng.next_normal() for _ in range(c * h * w)]
            return torch.tensor(np.array(values, dtype=np.float32).reshape(c, h, w))
        if self.rand_color:
            values = [self.rng.next_normal() for _ in range(c)]
            return torch.tensor(np.array(values, dtype=np.float32).reshape(c, 1, 1))
        return torch.zeros((c, 1, 1), dtype=torch.float32)

    def __call__(self, x):
        batch_size, chan, img_h, img_w = x.size()
        batch_start = batch_size // self.num_splits if self.num_splits > 1 else 0
        if self.cube:
            # `_erase_cube`: the fill of one rectangle is written to each frame before the next try
            # of the next rectangle is drawn.
            if self.rng.next_uniform_double() > self.probability:
                return x
            area = img_h * img_w
            count = self.min_count if self.min_count == self.max_count else self.randint(self.min_count, self.max_count)
            for _ in range(count):
                for _ in range(100):
                    target_area = self.uniform(self.min_area, self.max_area) * area / count
                    aspect_ratio = math.exp(self.uniform(*self.log_aspect_ratio))
                    h = int(round(math.sqrt(target_area * aspect_ratio)))
                    w = int(round(math.sqrt(target_area / aspect_ratio)))
                    if w < img_w and h < img_h:
                        top = self.randint(0, img_h - h)
                        left = self.randint(0, img_w - w)
                        for i in range(batch_start, batch_size):
                            x[i][:, top:top + h, left:left + w] = self.get_pixels((chan, h, w))
                            self.regions.append((i, top, left, h, w))
                        break
        else:
            for i in range(batch_start, batch_size):
                # `_erase` per frame.
                if self.rng.next_uniform_double() > self.probability:
                    continue
                area = img_h * img_w
                count = self.min_count if self.min_count == self.max_count else self.randint(self.min_count, self.max_count)
                for _ in range(count):
                    for _ in range(10):
                        target_area = self.uniform(self.min_area, self.max_area) * area / count
                        aspect_ratio = math.exp(self.uniform(*self.log_aspect_ratio))
                        h = int(round(math.sqrt(target_area * aspect_ratio)))
                        w = int(round(math.sqrt(target_area / aspect_ratio)))
                        if w < img_w and h < img_h:
                            top = self.randint(0, img_h - h)
                            left = self.randint(0, img_w - w)
                            x[i][:, top:top + h, left:left + w] = self.get_pixels((chan, h, w))
                            self.regions.append((i, top, left, h, w))
                            break
        return x


def erase_cases(arrays):
    clip = torch.randn(4, 3, 10, 12, generator=torch.Generator().manual_seed(3))
    arrays["erase.input"] = clip.numpy().astype(np.float32)
    modes = {"const": 0, "rand": 1, "pixel": 2}
    cases = [
        # seed, mode, cube, max_count, probability
        (0, "pixel", True, 1, 1.0), (1, "pixel", True, 1, 1.0), (2, "pixel", True, 1, 0.25),
        (5, "pixel", True, 1, 0.25), (7, "pixel", True, 1, 0.25), (0, "pixel", False, 1, 0.5),
        (1, "pixel", False, 1, 1.0), (0, "rand", True, 1, 1.0), (0, "const", True, 1, 1.0),
        (4, "pixel", True, 3, 1.0), (8, "rand", False, 3, 0.75),
    ]
    rows = []
    erased_flags = []
    for m, (seed, mode, cube, max_count, probability) in enumerate(cases):
        # VideoMAE passes num_splits = recount, which is 1 in its recipes (batch_start 0). With
        # recount > 1 it would spare the first T // recount frames; our transform has no such
        # split, so the cases with max_count 3 keep num_splits 0.
        eraser = RandomErasing(RandomGenerator(seed), probability=probability, mode=mode, max_count=max_count,
                               num_splits=0, cube=cube)
        out = eraser(clip.clone())
        arrays[f"erase.out.{m}"] = out.numpy().astype(np.float32)
        regions = eraser.regions or [(-1, -1, -1, -1, -1)]
        arrays[f"erase.regions.{m}"] = np.array(regions, dtype=np.int64)
        rows.append([seed, modes[mode], int(cube), max_count, int(round(probability * 1000)), 0])
        erased_flags.append(bool(eraser.regions))
    assert any(erased_flags) and not all(erased_flags), "erasing cases should include skipped clips"
    arrays["erase.cases"] = np.array(rows, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# 3. Mixup / CutMix


def mixup_params(rng, mixup_alpha, cutmix_alpha, prob, switch_prob):
    """`_params_per_batch`."""
    lam = 1.0
    use_cutmix = False
    if rng.next_uniform_double() < prob:
        if mixup_alpha > 0.0 and cutmix_alpha > 0.0:
            use_cutmix = rng.next_uniform_double() < switch_prob
            lam_mix = rng.next_beta(cutmix_alpha, cutmix_alpha) if use_cutmix else \
                rng.next_beta(mixup_alpha, mixup_alpha)
        elif mixup_alpha > 0.0:
            lam_mix = rng.next_beta(mixup_alpha, mixup_alpha)
        else:
            use_cutmix = True
            lam_mix = rng.next_beta(cutmix_alpha, cutmix_alpha)
        lam = float(lam_mix)
    return lam, use_cutmix


def rand_bbox(rng, img_shape, lam):
    ratio = np.sqrt(1 - lam)
    img_h, img_w = img_shape[-2:]
    cut_h, cut_w = int(img_h * ratio), int(img_w * ratio)
    cy = rng.next_int(img_h)
    cx = rng.next_int(img_w)
    yl = np.clip(cy - cut_h // 2, 0, img_h)
    yh = np.clip(cy + cut_h // 2, 0, img_h)
    xl = np.clip(cx - cut_w // 2, 0, img_w)
    xh = np.clip(cx + cut_w // 2, 0, img_w)
    return yl, yh, xl, xh


def mix_batch(rng, x, mixup_alpha, cutmix_alpha, prob, switch_prob):
    """`_mix_batch` (in place on x); returns lam and the draw row."""
    lam, use_cutmix = mixup_params(rng, mixup_alpha, cutmix_alpha, prob, switch_prob)
    if lam == 1.0:
        return 1.0, [0, 1.0, -1, -1, -1, -1]
    if use_cutmix:
        yl, yh, xl, xh = rand_bbox(rng, x.shape, lam)
        bbox_area = (yh - yl) * (xh - xl)
        lam = 1.0 - bbox_area / float(x.shape[-2] * x.shape[-1])
        x[..., yl:yh, xl:xh] = x.flip(0)[..., yl:yh, xl:xh]
        return lam, [2, lam, int(yl), int(xl), int(yh - yl), int(xh - xl)]
    x_flipped = x.flip(0).mul_(1.0 - lam)
    x.mul_(lam).add_(x_flipped)
    return lam, [1, lam, -1, -1, -1, -1]


def one_hot(x, num_classes, on_value=1.0, off_value=0.0):
    x = x.long().view(-1, 1)
    return torch.full((x.size()[0], num_classes), off_value).scatter_(1, x, on_value)


def mixup_target(target, num_classes, lam=1.0, smoothing=0.0):
    off_value = smoothing / num_classes
    on_value = 1.0 - smoothing + off_value
    y1 = one_hot(target, num_classes, on_value=on_value, off_value=off_value)
    y2 = one_hot(target.flip(0), num_classes, on_value=on_value, off_value=off_value)
    return y1 * lam + y2 * (1.0 - lam)


def soft_target_cross_entropy(x, target):
    loss = torch.sum(-target * F.log_softmax(x, dim=-1), dim=-1)
    return loss.mean()


def mixup_cases(arrays):
    params = [(0.8, 0.8), (1.0, 1.0), (0.3, 0.3), (2.5, 2.5), (0.5, 3.0)]
    values = []
    for p, (a, b) in enumerate(params):
        rng = RandomGenerator(p)
        values.append([rng.next_beta(a, b) for _ in range(6)])
    arrays["beta.params"] = np.array(params, dtype=np.float64)
    arrays["beta.values"] = np.array(values, dtype=np.float64)

    g = torch.Generator().manual_seed(5)
    batch = torch.randn(4, 2, 3, 6, 8, generator=g)
    labels = torch.tensor([0, 3, 1, 4])
    logits = torch.randn(4, 5, generator=g)
    arrays["batch"] = batch.numpy().astype(np.float32)
    arrays["labels"] = labels.numpy().astype(np.int64)
    arrays["logits"] = logits.numpy().astype(np.float32)

    cases = [(seed, 0.8, 1.0, 1.0, 0.5, 0.1) for seed in range(10)] + [
        (0, 0.8, 0.0, 0.5, 0.5, 0.1), (2, 0.8, 0.0, 0.5, 0.5, 0.1), (4, 0.8, 0.0, 0.5, 0.5, 0.2),
        (0, 0.0, 1.0, 1.0, 0.5, 0.0), (2, 0.0, 0.3, 1.0, 0.5, 0.1),
    ]
    draws = []
    for n, (seed, mixup_alpha, cutmix_alpha, prob, switch_prob, smoothing) in enumerate(cases):
        x = batch.clone()
        lam, draw = mix_batch(RandomGenerator(seed), x, mixup_alpha, cutmix_alpha, prob, switch_prob)
        target = mixup_target(labels, 5, lam, smoothing)
        z = logits.clone().requires_grad_(True)
        loss = soft_target_cross_entropy(z, target)
        loss.backward()
        arrays[f"mix.clips.{n}"] = x.numpy().astype(np.float32)
        arrays[f"mix.targets.{n}"] = target.numpy().astype(np.float32)
        arrays[f"mix.loss.{n}"] = np.array([loss.item()], dtype=np.float32)
        arrays[f"mix.grad.{n}"] = z.grad.numpy().astype(np.float32)
        draws.append(draw)
    methods = {int(d[0]) for d in draws}
    assert methods == {0, 1, 2}, f"cases should cover no mixing, mixup and cutmix, got {methods}"
    arrays["mix.cases"] = np.array(cases, dtype=np.float64)
    arrays["mix.draws"] = np.array(draws, dtype=np.float64)


# ---------------------------------------------------------------------------------------------


def save_safetensors(arrays, path, metadata):
    """Writes a safetensors file with keys in sorted order, so reruns give identical bytes."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
              np.dtype(np.uint8): "U8"}
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    back = load_file(path)
    assert sorted(back) == sorted(arrays) and all(np.array_equal(back[k], arrays[k], equal_nan=True) for k in arrays)


def main():
    assert int(PIL.__version__.split(".")[0]) >= 13, f"Pillow {PIL.__version__}: the fixtures follow Pillow 13's pass order"
    rng = RandomGenerator(0)
    firsts = [rng.next() for _ in range(3)]
    assert firsts == [11091344671253066420, 13793997310169335082, 1900383378846508768], firsts

    np_rng = np.random.default_rng(11)
    videoio = {}
    pil_cases(np_rng, videoio)
    msc_cases(np_rng, videoio)
    erase_cases(videoio)
    save_safetensors(videoio, VIDEOIO_OUT, {
        "script": "Scripts/reference/make_augment_fixtures.py",
        "pillow": PIL.__version__,
        "torch": torch.__version__,
        "msc": "GroupMultiScaleCrop scales 1,.875,.75,.66 max_distort 1, fix_crop + more_fix_crop; "
               "draws nextInt(below: pairs) then nextInt(below: 13)",
        "erase": "VideoMAE random_erasing.py, min_area 0.02, max_area 1/3, min_aspect 0.3, num_splits 0",
    })
    print(f"wrote {VIDEOIO_OUT} ({os.path.getsize(VIDEOIO_OUT)} bytes)")
    for row, region in zip(videoio["msc.pixel_cases"], videoio["msc.pixel_regions"]):
        print(f"  msc pixel case {row.tolist()} -> region (top, left, h, w) {region.tolist()}")
    for m, row in enumerate(videoio["erase.cases"]):
        print(f"  erase case {row.tolist()} -> {videoio[f'erase.regions.{m}'].tolist()}")

    training = {}
    mixup_cases(training)
    save_safetensors(training, TRAINING_OUT, {
        "script": "Scripts/reference/make_augment_fixtures.py",
        "torch": torch.__version__,
        "mixup": "VideoMAE mixup.py Mixup mode batch, correct_lam, x[..., yl:yh, xl:xh]; K = 5",
    })
    print(f"wrote {TRAINING_OUT} ({os.path.getsize(TRAINING_OUT)} bytes)")
    print("  beta draws:", training["beta.values"].tolist())
    for row, draw in zip(training["mix.cases"], training["mix.draws"]):
        print(f"  mix case {row.tolist()} -> draw {draw.tolist()}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Golden values for VideoSSL's SVT view sampler, driven by VideoSSL's own random generator.

Writes Tests/VideoIOTests/Fixtures/svt_views.safetensors. The generator below is a port of
TensorCore's `RandomGenerator` (xoshiro256** seeded by SplitMix64; `nextInt(below:)` is Swift's
`next(upperBound:)`, Lemire's method; `permutation` is a descending Fisher-Yates). The view
recipe is SVT's (docs/reference/SVT-VideoMS-IIC.md §1.3), with every random draw taken from that
one generator in this order:

1. Temporal. Window of L frames. g1 spans [0, L-5], g2 spans [5, L] (no draws). For each local
   view l = 1..8 in order: start = nextInt(below: max(L - L//8 - 1, 0) + 1), span [start, start + L//8].
   Frame indices of a span [a, b] with n frames: torch.linspace(a, b, n) (float32), clamped to
   [0, L-1], truncated (.long()).
2. Spatial, per view in order g1, g2, l1..l8:
   a. crop: up to 10 tries, each u1 = nextUniformDouble(), u2 = nextUniformDouble();
        area = H*W * (smin + (smax - smin) * u1)
        aspect = exp(log(3/4) + (log(4/3) - log(3/4)) * u2)
        w = int(round(sqrt(area * aspect))), h = int(round(sqrt(area / aspect)))
      (Python's round on a float64: halves go to even.) If 0 < w <= W and 0 < h <= H:
      i = nextInt(below: H - h + 1), then j = nextInt(below: W - w + 1).
        "reference" mode: all 10 tries run; w, h are the 10th try's, i, j the last valid try's;
          the cut frames[:, :, i:i+h, j:j+w] stops at the image edge (h_cut, w_cut record it).
        "clean" mode: stop at the first valid try.
      No valid try: centre fallback (W/H below 3/4: w = W, h = round(W / (3/4)); above 4/3:
      h = H, w = round(H * 4/3); else the whole frame), i = (H - h)//2, j = (W - w)//2.
   b. flip = nextUniformDouble() < 0.5
   c. jitter = nextUniformDouble() < 0.8; if so order = permutation(3) over
      [brightness, contrast, saturation], and for step k = 0, 1, 2 the op order[k] draws
      alpha = 1 + (-var + 2*var*nextUniformDouble()), var 0.4 / 0.4 / 0.2.
   d. gray = nextUniformDouble() < 0.2
3. Pixels (float32 [T, 3, H, W] in [0, 1]): index_select the frames, cut the region, resize with
   F.interpolate(bicubic, align_corners=False) to S x S, flip(-1) if flip, the jitter ops in order,
   grayscale if gray, then (x[:, c] - mean[c]) / std[c] with ImageNet mean and std.
   blend(a, b, alpha) = a * alpha + b * (1 - alpha) (PyTorch rounds alpha and 1 - alpha to float32);
   brightness blends with zeros, contrast with the per-frame mean of the grayscale image (mean over
   dims (1, 2, 3) of the 3-channel gray [T, C, H, W]), saturation with the grayscale image.
     reference: gray = 0.299*x[:, 2] + 0.587*x[:, 1] + 0.114*x[:, 0] (weights meant for BGR, applied
       to RGB; summed left to right), written to all 3 channels; no clamping.
     clean: gray = 0.299*x[:, 0] + 0.587*x[:, 1] + 0.114*x[:, 2]; clamp to [0, 1] after each of
       brightness, contrast, saturation.

Keys: window; <mode>.view.<k> [T_k, 3, S, S]; <mode>.frames.<k> int64 [T_k];
<mode>.params int64 [10, 9] rows (first_frame, last_frame, i, j, h_cut, w_cut, flip, gray, jitter);
<mode>.alphas float64 [10, 3] (brightness, contrast, saturation; NaN when not applied);
<mode>.order int64 [10, 3] (the permutation, -1 without jitter); rand_fr.frames.<k> for the
4/8-frame globals variant (temporal draws only); crop.cases int64 [N, 5] (seed, H, W, scale id,
mode) and crop.results int64 [N, 6] (i, j, h, w, h_cut, w_cut): single crop draws from fresh
generators, covering the edge truncation and the centre fallback. Both modes use the same seed, so their temporal
draws (the first draws) are identical; the spatial draws then differ as the clean crop stops early.

Requires: torch, numpy, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_svt_view_fixtures.py
"""

import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

OUT = os.path.join("Tests", "VideoIOTests", "Fixtures", "svt_views.safetensors")

SEED = 7
L, H, W = 20, 16, 20
GLOBAL_SIZE, LOCAL_SIZE = 12, 6
GLOBAL_SCALE, LOCAL_SCALE = (0.4, 1.0), (0.05, 0.4)
RATIO = (3.0 / 4.0, 4.0 / 3.0)
GLOBAL_FRAMES = (8, 16)
RAND_FR_GLOBAL_FRAMES = (4, 8)
LOCAL_FRAMES = (2, 2, 4, 4, 8, 8, 16, 16)
JITTER_VARS = (0.4, 0.4, 0.2)  # brightness, contrast, saturation
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

MASK = (1 << 64) - 1


class RandomGenerator:
    """Port of TensorCore's RandomGenerator (xoshiro256**, SplitMix64 seeding)."""

    def __init__(self, seed):
        s = seed & MASK
        self.state = []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & MASK
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.state.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.state
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def next_uniform_double(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def next_int(self, below):
        """Swift's next(upperBound:) on UInt64 (Lemire's nearly divisionless method)."""
        assert below > 0
        m = self.next() * below
        if (m & MASK) < below:
            t = ((1 << 64) - below) % below
            while (m & MASK) < t:
                m = self.next() * below
        return m >> 64

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next_int(i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def frame_indices(a, b, n, length):
    return torch.clamp(torch.linspace(a, b, n), 0, length - 1).long()


def temporal_views(rng, length, global_frames):
    """Frame indices of g1, g2, l1..l8; draws one start per local view."""
    views = [frame_indices(0, length - 5, global_frames[0], length),
             frame_indices(5, length, global_frames[1], length)]
    width = length // 8
    for n in LOCAL_FRAMES:
        start = rng.next_int(max(length - width - 1, 0) + 1)
        views.append(frame_indices(start, start + width, n, length))
    return views


def crop_box(rng, height, width, scale, clean):
    area = height * width
    log_lo, log_hi = math.log(RATIO[0]), math.log(RATIO[1])
    valid = False
    i = j = w = h = None
    for _ in range(10):
        u1 = rng.next_uniform_double()
        u2 = rng.next_uniform_double()
        target_area = area * (scale[0] + (scale[1] - scale[0]) * u1)
        aspect = math.exp(log_lo + (log_hi - log_lo) * u2)
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            i = rng.next_int(height - h + 1)
            j = rng.next_int(width - w + 1)
            valid = True
            if clean:
                break
    if not valid:
        in_ratio = float(width) / float(height)
        if in_ratio < min(RATIO):
            w = width
            h = int(round(w / min(RATIO)))
        elif in_ratio > max(RATIO):
            h = height
            w = int(round(h * max(RATIO)))
        else:
            w, h = width, height
        i = (height - h) // 2
        j = (width - w) // 2
    return i, j, h, w


def spatial_draws(rng, scale, clean):
    i, j, h, w = crop_box(rng, H, W, scale, clean)
    flip = rng.next_uniform_double() < 0.5
    jitter = rng.next_uniform_double() < 0.8
    order, alphas = [-1, -1, -1], [math.nan] * 3
    if jitter:
        order = rng.permutation(3)
        for op in order:
            var = JITTER_VARS[op]
            alphas[op] = 1.0 + (-var + 2.0 * var * rng.next_uniform_double())
    gray = rng.next_uniform_double() < 0.2
    return dict(i=i, j=j, h=h, w=w, flip=flip, jitter=jitter, order=order, alphas=alphas, gray=gray)


def blend(a, b, alpha):
    return a * alpha + b * (1 - alpha)


def grayscale(x, clean):
    g = x.clone()
    if clean:
        gray = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    else:
        gray = 0.299 * x[:, 2] + 0.587 * x[:, 1] + 0.114 * x[:, 0]
    g[:, 0] = gray
    g[:, 1] = gray
    g[:, 2] = gray
    return g


def render(window, indices, d, size, clean):
    x = torch.index_select(window, 0, indices)
    x = x[:, :, d["i"]:d["i"] + d["h"], d["j"]:d["j"] + d["w"]]
    cut = (x.shape[2], x.shape[3])
    x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)
    if d["flip"]:
        x = x.flip(-1)
    if d["jitter"]:
        for op in d["order"]:
            alpha = d["alphas"][op]
            if op == 0:
                x = blend(x, torch.zeros(x.shape), alpha)
            elif op == 1:
                g = grayscale(x, clean)
                g[:] = torch.mean(g, dim=(1, 2, 3), keepdim=True)
                x = blend(x, g, alpha)
            else:
                x = blend(x, grayscale(x, clean), alpha)
            if clean:
                x = x.clamp(0.0, 1.0)
    if d["gray"]:
        x = grayscale(x, clean)
    out = torch.zeros_like(x)
    for c in range(3):
        out[:, c] = (x[:, c] - MEAN[c]) / STD[c]
    return out, cut


def crop_table():
    """Crop regions alone, one fresh generator per row, covering what seed 7's views do not: the
    released crop's 10th-try size cut short at the edge, and the centre fallback (frames too wide or
    too tall for any try to fit)."""
    cases, results = [], []
    geometries = [(H, W, seed) for seed in range(12)] + [(4, 40, 0), (4, 40, 1), (40, 4, 0), (40, 4, 1)]
    for height, width, seed in geometries:
        for scale_id, scale in enumerate((GLOBAL_SCALE, LOCAL_SCALE)):
            for clean in (False, True):
                i, j, h, w = crop_box(RandomGenerator(seed), height, width, scale, clean)
                cases.append([seed, height, width, scale_id, int(clean)])
                results.append([i, j, h, w, min(h, height - i), min(w, width - j)])
    results = np.array(results, dtype=np.int64)
    truncated = (results[:, 4] < results[:, 2]) | (results[:, 5] < results[:, 3])
    assert truncated.any(), "no row exercises the edge truncation"
    return np.array(cases, dtype=np.int64), results


def save_safetensors(arrays, path, metadata):
    """Writes a safetensors file with keys in sorted order, so reruns give identical bytes
    (the safetensors package orders the metadata differently from run to run)."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
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


def self_check():
    """First next() outputs (for comparison with the Swift generator) and a few sanity checks."""
    firsts = {}
    for seed in (0, 7):
        rng = RandomGenerator(seed)
        firsts[seed] = [rng.next() for _ in range(3)]
    # SplitMix64 from 0 starts with 0xE220A8397B1DCDAF (the published reference value).
    assert RandomGenerator(0).state[0] == 0xE220A8397B1DCDAF
    rng = RandomGenerator(123)
    assert all(0 <= rng.next_int(5) < 5 for _ in range(1000))
    assert sorted(RandomGenerator(1).permutation(3)) == [0, 1, 2]
    return firsts


def main():
    firsts = self_check()
    for seed, values in firsts.items():
        print(f"RandomGenerator(seed: {seed}) first next(): " + ", ".join(str(v) for v in values)
              + "  (" + ", ".join(f"0x{v:016X}" for v in values) + ")")

    torch.manual_seed(SEED)
    window = torch.rand(L, 3, H, W, generator=torch.Generator().manual_seed(SEED))
    arrays = {"window": window.numpy().astype(np.float32)}
    sizes = [GLOBAL_SIZE] * 2 + [LOCAL_SIZE] * 8
    scales = [GLOBAL_SCALE] * 2 + [LOCAL_SCALE] * 8

    temporal = {}
    for mode in ("reference", "clean"):
        clean = mode == "clean"
        rng = RandomGenerator(SEED)
        views = temporal_views(rng, L, GLOBAL_FRAMES)
        temporal[mode] = views
        params = np.zeros((10, 9), dtype=np.int64)
        alphas = np.full((10, 3), np.nan, dtype=np.float64)
        order = np.full((10, 3), -1, dtype=np.int64)
        for k in range(10):
            d = spatial_draws(rng, scales[k], clean)
            view, (h_cut, w_cut) = render(window, views[k], d, sizes[k], clean)
            assert view.shape == (len(views[k]), 3, sizes[k], sizes[k])
            arrays[f"{mode}.view.{k}"] = view.numpy().astype(np.float32)
            arrays[f"{mode}.frames.{k}"] = views[k].numpy().astype(np.int64)
            params[k] = [int(views[k][0]), int(views[k][-1]), d["i"], d["j"], h_cut, w_cut,
                         int(d["flip"]), int(d["gray"]), int(d["jitter"])]
            alphas[k] = d["alphas"]
            order[k] = d["order"]
        arrays[f"{mode}.params"] = params
        arrays[f"{mode}.alphas"] = alphas
        arrays[f"{mode}.order"] = order
    assert all(torch.equal(a, b) for a, b in zip(temporal["reference"], temporal["clean"]))

    rng = RandomGenerator(SEED)
    for k, idx in enumerate(temporal_views(rng, L, RAND_FR_GLOBAL_FRAMES)):
        arrays[f"rand_fr.frames.{k}"] = idx.numpy().astype(np.int64)

    arrays["crop.cases"], arrays["crop.results"] = crop_table()

    metadata = {
        "seed": str(SEED), "L": str(L), "H": str(H), "W": str(W),
        "global_size": str(GLOBAL_SIZE), "local_size": str(LOCAL_SIZE),
        "global_scale": "0.4,1.0", "local_scale": "0.05,0.4", "ratio": "3/4,4/3",
        "global_frames": ",".join(map(str, GLOBAL_FRAMES)),
        "local_frames": ",".join(map(str, LOCAL_FRAMES)),
        "rand_fr_global_frames": ",".join(map(str, RAND_FR_GLOBAL_FRAMES)),
        "view_order": "g1,g2,l1,l2,l3,l4,l5,l6,l7,l8",
        "global_spans": "g1 [0, L-5], g2 [5, L]; frames clamp(linspace(a, b, n) f32, 0, L-1).long()",
        "local_span": "start = nextInt(below: max(L - L//8 - 1, 0) + 1); span [start, start + L//8]",
        "draw_order": "temporal (8 local starts), then per view: crop tries, flip, jitter coin, "
                      "[permutation(3), alphas in applied order], gray coin",
        "rounding": "w, h = int(round(x)) with Python round on float64: ties to even",
        "crop_area": "H*W*(smin + (smax - smin)*u1); aspect = exp(log(3/4) + (log(4/3) - log(3/4))*u2)",
        "resize": "F.interpolate bicubic align_corners=False (a = -0.75, no antialias)",
        "jitter_vars": "brightness 0.4, contrast 0.4, saturation 0.2; alpha = 1 + (-var + 2*var*u)",
        "blend": "a*f32(alpha) + b*f32(1 - alpha)",
        "gray_reference": "0.299*ch2 + 0.587*ch1 + 0.114*ch0, no clamping",
        "gray_clean": "0.299*ch0 + 0.587*ch1 + 0.114*ch2, clamp [0,1] after each jitter op",
        "normalize": "(x - mean[c]) / std[c], mean 0.485,0.456,0.406 std 0.229,0.224,0.225",
        "params_columns": "first_frame,last_frame,i,j,h_cut,w_cut,flip,gray,jitter",
        "alphas_columns": "brightness,contrast,saturation (NaN when not applied)",
        "order": "permutation(3) over [brightness, contrast, saturation]; applied op at step k is order[k]; -1 without jitter",
        "temporal_draws": "identical for both modes (drawn first from the same seed)",
        "crop_cases_columns": "seed,H,W,scale (0 global 0.4-1, 1 local 0.05-0.4),mode (0 reference, 1 clean); "
                              "one fresh RandomGenerator(seed) per row, one crop draw",
        "crop_results_columns": "i,j,h,w (as drawn, before the edge),h_cut,w_cut",
        "rng_seed0_first3": ",".join(str(v) for v in firsts[0]),
        "rng_seed7_first3": ",".join(str(v) for v in firsts[7]),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_safetensors(arrays, OUT, metadata)

    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    for mode in ("reference", "clean"):
        print(f"  {mode}.params (first, last, i, j, h_cut, w_cut, flip, gray, jitter) / order / alphas:")
        for k in range(10):
            p = arrays[f"{mode}.params"][k].tolist()
            o = arrays[f"{mode}.order"][k].tolist()
            a = ", ".join("nan" if math.isnan(x) else f"{x:.4f}" for x in arrays[f"{mode}.alphas"][k])
            print(f"    view {k}: {p}  order {o}  alphas [{a}]  frames {arrays[f'{mode}.frames.{k}'].tolist()}")
    c, r = arrays["crop.cases"], arrays["crop.results"]
    cut = (r[:, 4] < r[:, 2]) | (r[:, 5] < r[:, 3])
    print(f"  crop table: {len(c)} rows, {int(cut.sum())} cut at the edge, "
          f"{int(((c[:, 1] != H)).sum())} on fallback geometries")
    for row, res in zip(c[cut], r[cut]):
        print(f"    cut: case {row.tolist()} -> {res.tolist()}")
    for row, res in zip(c[c[:, 1] != H], r[c[:, 1] != H]):
        print(f"    fallback geometry: case {row.tolist()} -> {res.tolist()}")
    print("  rand_fr frames:", [arrays[f"rand_fr.frames.{k}"].tolist() for k in range(10)])


if __name__ == "__main__":
    main()

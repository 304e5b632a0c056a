#!/usr/bin/env python3
"""Writes the pretrained-checkpoint fixtures in Tests/TrainingTests/Fixtures/pretrained/.

They are for the Swift tests of starting a training run from pretrained weights (model.weights,
the timm ViT and facebookresearch TimeSformer key maps, and pos_embed / time_embed resampling).
Every tensor is float32 and random (torch.Generator seeded with 2023, drawn in the key order
below): cls_token, pos_embed and time_embed ~ normal(0, 0.5) (large enough that a wrong
resampling shows), other weights ~ normal(0, 0.02), biases ~ normal(0, 0.05), LayerNorm weights
1 + normal(0, 0.1). Nothing is zero; temporal_fc in particular is not. The key lists
are checked against Tests/VideoTransformersTests/Fixtures/keys_{vit,timesformer}_base.txt
(the same names in the same order, with depth 1).

timm_vit_tiny.safetensors, timm_vit_tiny.pth — one timm VisionTransformer state dict, embed 24,
  depth 1, heads 2, patch 8, img_size 16 (2x2 grid), mlp_ratio 4 (hidden 96), 7 classes:
    cls_token [1, 1, 24]   pos_embed [1, 5, 24]   patch_embed.proj.{weight [24, 3, 8, 8], bias [24]}
    blocks.0.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.{weight, bias}
    norm.{weight, bias}    head.{weight [7, 24], bias [7]}
  The .safetensors file carries the metadata {"format": "pt"}, as timm's hub files do; the .pth
  file is torch.save(OrderedDict state dict) in the default zip format.

fb_timesformer_tiny.pyth — torch.save({"model_state": sd, "epoch": 3}) as facebookresearch/
  TimeSformer writes it: sd is an OrderedDict whose keys are "model." + the TimeSformer
  (divided space-time) key, embed 24, depth 1, heads 2, patch 8, img_size 32 (4x4 grid),
  num_frames 2, 10 classes:
    cls_token [1, 1, 24]   pos_embed [1, 17, 24]   time_embed [1, 2, 24]
    patch_embed.proj.{weight [24, 3, 8, 8], bias [24]}
    blocks.0.{norm1, attn.qkv, attn.proj, temporal_norm1, temporal_attn.qkv, temporal_attn.proj,
              temporal_fc, norm2, mlp.fc1, mlp.fc2}.{weight, bias}
    norm.{weight, bias}    head.{weight [10, 24], bias [10]}

pretrained_expected.safetensors — what loading each checkpoint into a TimeSformer of embed 24,
  depth 1, heads 2, patch 8, img_size 32 (4x4 grid), num_frames 4 must give:
    vit.pos_embed [1, 17, 24]  from the timm pos_embed P [1, 5, 24]:
        grid = P[:, 1:].reshape(1, 2, 2, 24).permute(0, 3, 1, 2)          # patches row-major
        grid = F.interpolate(grid, size=(4, 4), mode="bicubic", align_corners=False)
        cat([P[:, :1], grid.permute(0, 2, 3, 1).reshape(1, 16, 24)], dim=1)  # class first
    fb.time_embed [1, 4, 24]   from the TimeSformer time_embed E [1, 2, 24]:
        F.interpolate(E.transpose(1, 2), size=4, mode="nearest").transpose(1, 2)
        (frames 0, 0, 1, 1)
  The TimeSformer pos_embed already has the 4x4 grid, so it is loaded unchanged.

Run from the repository root (needs torch and safetensors; never needed by the build or tests):
  python3 Scripts/reference/make_pretrained_fixtures.py
"""

import collections
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/TrainingTests/Fixtures/pretrained"
BASE_KEYS = ROOT / "Tests/VideoTransformersTests/Fixtures"

DIM, HEADS, PATCH, RATIO = 24, 2, 8, 4
EMBED_STD = 0.5


def shapes(dim, grid, frames, classes, temporal):
    """(name, shape) in state_dict() order of timm ViT (temporal False) or TimeSformer (True)."""
    hidden = dim * RATIO
    out = [("cls_token", (1, 1, dim)), ("pos_embed", (1, 1 + grid * grid, dim))]
    if temporal:
        out.append(("time_embed", (1, frames, dim)))
    out += [("patch_embed.proj.weight", (dim, 3, PATCH, PATCH)), ("patch_embed.proj.bias", (dim,))]

    def linear(name, o, i):
        return [(name + ".weight", (o, i)), (name + ".bias", (o,))]

    def norm(name):
        return [(name + ".weight", (dim,)), (name + ".bias", (dim,))]

    b = "blocks.0."
    out += norm(b + "norm1") + linear(b + "attn.qkv", 3 * dim, dim) + linear(b + "attn.proj", dim, dim)
    if temporal:
        out += norm(b + "temporal_norm1") + linear(b + "temporal_attn.qkv", 3 * dim, dim)
        out += linear(b + "temporal_attn.proj", dim, dim) + linear(b + "temporal_fc", dim, dim)
    out += norm(b + "norm2") + linear(b + "mlp.fc1", hidden, dim) + linear(b + "mlp.fc2", dim, hidden)
    out += norm("norm") + linear("head", classes, dim)
    return out


def check_against_base(names, base_file):
    """The tiny key list must be the base key list with every block after blocks.0 dropped."""
    base = [line.split()[0] for line in (BASE_KEYS / base_file).read_text().splitlines() if line]
    kept = [n for n in base if not n.startswith("blocks.") or n.startswith("blocks.0.")]
    assert names == kept, f"key layout differs from {base_file}"


def random_state_dict(spec, gen):
    sd = collections.OrderedDict()
    for name, shape in spec:
        if name in ("cls_token", "pos_embed", "time_embed"):
            t = torch.randn(shape, generator=gen) * EMBED_STD
        elif "norm" in name and name.endswith(".weight"):
            t = 1.0 + torch.randn(shape, generator=gen) * 0.1
        elif name.endswith(".bias"):
            t = torch.randn(shape, generator=gen) * 0.05
        else:
            t = torch.randn(shape, generator=gen) * 0.02
        assert bool((t != 0).all()), name
        sd[name] = t.contiguous()
    return sd


def resample_pos_embed(pos, grid):
    c = pos.shape[-1]
    g0 = int(round((pos.shape[1] - 1) ** 0.5))
    g = pos[:, 1:].reshape(1, g0, g0, c).permute(0, 3, 1, 2)
    g = F.interpolate(g, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([pos[:, :1], g.permute(0, 2, 3, 1).reshape(1, grid * grid, c)], dim=1)


def resample_time_embed(time_embed, frames):
    return F.interpolate(time_embed.transpose(1, 2), size=frames, mode="nearest").transpose(1, 2)


def describe(title, sd):
    print(title)
    for k, v in sd.items():
        print(f"  {k} {list(v.shape)}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(2023)

    vit_spec = shapes(DIM, grid=2, frames=0, classes=7, temporal=False)
    check_against_base([n for n, _ in vit_spec], "keys_vit_base.txt")
    vit = random_state_dict(vit_spec, gen)
    save_file(dict(vit), OUT / "timm_vit_tiny.safetensors", metadata={"format": "pt"})
    torch.save(vit, OUT / "timm_vit_tiny.pth")

    ts_spec = shapes(DIM, grid=4, frames=2, classes=10, temporal=True)
    check_against_base([n for n, _ in ts_spec], "keys_timesformer_base.txt")
    ts = random_state_dict(ts_spec, gen)
    model_state = collections.OrderedDict(("model." + k, v) for k, v in ts.items())
    torch.save({"model_state": model_state, "epoch": 3}, OUT / "fb_timesformer_tiny.pyth")

    with torch.no_grad():
        expected = {
            "vit.pos_embed": resample_pos_embed(vit["pos_embed"], grid=4).contiguous(),
            "fb.time_embed": resample_time_embed(ts["time_embed"], frames=4).contiguous(),
        }
    assert expected["vit.pos_embed"].shape == (1, 17, DIM)
    assert torch.equal(expected["vit.pos_embed"][:, 0], vit["pos_embed"][:, 0])
    assert expected["fb.time_embed"].shape == (1, 4, DIM)
    assert torch.equal(expected["fb.time_embed"], ts["time_embed"][:, [0, 0, 1, 1]])
    save_file(expected, OUT / "pretrained_expected.safetensors")

    print(f"torch {torch.__version__}")
    describe("timm_vit_tiny (.safetensors, .pth):", vit)
    describe("fb_timesformer_tiny.pyth model_state (+ epoch 3):", model_state)
    describe("pretrained_expected.safetensors:", expected)
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:8d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

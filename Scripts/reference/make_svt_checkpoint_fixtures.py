#!/usr/bin/env python3
"""Checkpoint files laid out as SVT's released code writes them, at tiny sizes.

Writes Tests/TrainingTests/Fixtures/svt_checkpoints/ (formats: docs/reference/SVT-VideoMS-IIC.md
§1.6, "Checkpoint formats"). All files are `torch.save` zip archives; values are random (seeded).
The state dicts come from `nn.Module.state_dict()` of module trees laid out with the released
names, so they are OrderedDicts carrying `_metadata` as the training code's files do.

Backbone: divided space-time TimeSformer, embed 16, depth 1, 2 heads (qkv bias), MLP ratio 4,
patch 8, 8 frames, 16 px (so 4 patches): cls_token [1,1,16], pos_embed [1,5,16], time_embed
[1,8,16], patch_embed.proj.{weight [16,3,8,8], bias}, per block i
blocks.i.{norm1, attn.qkv, attn.proj, temporal_norm1, temporal_attn.qkv, temporal_attn.proj,
temporal_fc, norm2, mlp.fc1, mlp.fc2}.{weight,bias}, norm.{weight,bias}.
Head (DINO head): head.mlp.{0,2,4}.{weight,bias} (16 -> 32 -> 32 -> 8), head.last_layer.weight_g
[64,1], head.last_layer.weight_v [64,8].

  released_flat.pth     flat dict: backbone.<key> and head.<key> (the teacher; as the released
                        kinetics400_vitb_ssl.pth)
  released_teacher.pth  {'teacher': the same flat dict}
  training.pth          {'student': module.backbone.<key> / module.head.<key> (other values),
                         'teacher': backbone.<key> / head.<key> (the values above),
                         'optimizer': AdamW state_dict after one step on two dummy parameters
                                      (two groups, as the training code's decayed / not decayed),
                         'epoch': 3, 'args': argparse.Namespace(arch='vit_base', out_dim=64),
                         'dino_loss': {'center': [1, 64]}}
  expected.safetensors  teacher tensors under the plain keys (cls_token, ..., head.mlp.0.weight,
                        ...), the student's under student.<plain key>, and center [1, 64]

--full-size OUT_DIR writes OUT_DIR/kinetics400_vitb_ssl.pth with the released ViT-B shapes
(768 wide, 12 blocks, 12 heads, 8 frames, 224 px; head 768 -> 2048 -> 2048 -> 256 -> 65536),
random values, about 580 MB: for a manual check only, never into the repository.

Requires: torch, numpy, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_svt_checkpoint_fixtures.py
"""

import argparse
import collections
import json
import os
import struct
from pathlib import Path

import warnings

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file

OUT = Path("Tests") / "TrainingTests" / "Fixtures" / "svt_checkpoints"

BLOCK_PARTS = ["norm1", "attn.qkv", "attn.proj", "temporal_norm1", "temporal_attn.qkv", "temporal_attn.proj",
               "temporal_fc", "norm2", "mlp.fc1", "mlp.fc2"]


class Attention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)


class Block(nn.Module):
    """Parameter layout of a divided space-time block (registration order = state_dict order)."""

    def __init__(self, dim, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim)
        self.temporal_norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.temporal_attn = Attention(dim)
        self.temporal_fc = nn.Linear(dim, dim)
        self.drop_path = nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, dim * mlp_ratio)


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)


class Backbone(nn.Module):
    """Parameter layout of the TimeSformer backbone as the SSL code builds it (classifier removed)."""

    def __init__(self, dim, depth, patch, frames, img, mlp_ratio=4):
        super().__init__()
        self.dropout = nn.Dropout(0.0)
        self.patch_embed = PatchEmbed(dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (img // patch) ** 2 + 1, dim))
        self.pos_drop = nn.Dropout(0.0)
        self.time_embed = nn.Parameter(torch.zeros(1, frames, dim))
        self.time_drop = nn.Dropout(0.0)
        self.blocks = nn.ModuleList([Block(dim, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)


class ProjectionHead(nn.Module):
    """Parameter layout of the DINO head (weight-normalised last layer: weight_g, weight_v)."""

    def __init__(self, in_dim, hidden, bottleneck, out_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, out_dim, bias=False))


class Wrapper(nn.Module):
    """The multi-crop wrapper: `backbone.` and `head.` prefixes."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head


class DataParallelLike(nn.Module):
    """Adds the `module.` prefix that DistributedDataParallel gives the student's state dict."""

    def __init__(self, module):
        super().__init__()
        self.module = module


class CenterHolder(nn.Module):
    """The loss module's state: one buffer, `center`."""

    def __init__(self, center):
        super().__init__()
        self.register_buffer("center", center)


def build(dim, depth, patch, frames, img, head_dims, seed):
    """A wrapper with every parameter replaced by seeded random values; returns (module, plain dict)."""
    model = Wrapper(Backbone(dim, depth, patch, frames, img), ProjectionHead(dim, *head_dims))
    gen = torch.Generator().manual_seed(seed)
    plain = collections.OrderedDict()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            plain[name[len("backbone."):] if name.startswith("backbone.") else name] = p.detach().clone()
    return model, plain


def adamw_state_dict():
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(3, 4))
    bias = torch.nn.Parameter(torch.randn(4))
    optimizer = torch.optim.AdamW([{"params": [weight]}, {"params": [bias], "weight_decay": 0.0}],
                                  lr=6.25e-5, weight_decay=0.04)
    loss = (weight.sum(0) * bias).pow(2).sum()
    loss.backward()
    optimizer.step()
    return optimizer.state_dict()


def save_safetensors(arrays, path, metadata):
    """Writes a safetensors file with keys in sorted order, so reruns give identical bytes."""
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
    assert sorted(back) == sorted(arrays) and all(np.array_equal(back[k], arrays[k]) for k in arrays)


TINY = dict(dim=16, depth=1, patch=8, frames=8, img=16, head_dims=(32, 8, 64))
FULL = dict(dim=768, depth=12, patch=16, frames=8, img=224, head_dims=(2048, 256, 65536))


def expected_keys(depth):
    keys = ["cls_token", "pos_embed", "time_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]
    for i in range(depth):
        keys += [f"blocks.{i}.{part}.{kind}" for part in BLOCK_PARTS for kind in ("weight", "bias")]
    keys += ["norm.weight", "norm.bias"]
    keys += [f"head.mlp.{i}.{kind}" for i in (0, 2, 4) for kind in ("weight", "bias")]
    keys += ["head.last_layer.weight_g", "head.last_layer.weight_v"]
    return keys


def write_tiny(out):
    out.mkdir(parents=True, exist_ok=True)
    teacher, teacher_plain = build(seed=1, **TINY)
    student, student_plain = build(seed=2, **TINY)
    center = torch.randn(1, 64, generator=torch.Generator().manual_seed(3))
    assert list(teacher_plain) == expected_keys(TINY["depth"]), list(teacher_plain)

    teacher_sd = teacher.state_dict()
    assert list(teacher_sd) == [k if k.startswith("head.") else "backbone." + k for k in teacher_plain]
    torch.save(teacher_sd, out / "released_flat.pth")
    torch.save({"teacher": teacher_sd}, out / "released_teacher.pth")
    checkpoint = {
        "student": DataParallelLike(student).state_dict(),
        "teacher": teacher_sd,
        "optimizer": adamw_state_dict(),
        "epoch": 3,
        "args": argparse.Namespace(arch="vit_base", out_dim=64),
        "dino_loss": CenterHolder(center).state_dict(),
    }
    torch.save(checkpoint, out / "training.pth")

    arrays = {key: value.numpy() for key, value in teacher_plain.items()}
    arrays.update({f"student.{key}": value.numpy() for key, value in student_plain.items()})
    arrays["center"] = center.numpy()
    metadata = {"embed_dim": "16", "depth": "1", "num_heads": "2", "mlp_ratio": "4", "patch_size": "8",
                "num_frames": "8", "img_size": "16", "head": "16,32,8,64", "epoch": "3",
                "args": "arch=vit_base,out_dim=64"}
    save_safetensors(arrays, out / "expected.safetensors", metadata)

    # Read back as a consumer would.
    flat_back = torch.load(out / "released_flat.pth", map_location="cpu", weights_only=True)
    assert list(flat_back) == list(teacher_sd)
    wrapped = torch.load(out / "released_teacher.pth", map_location="cpu", weights_only=True)
    assert list(wrapped) == ["teacher"]
    training = torch.load(out / "training.pth", map_location="cpu", weights_only=False)
    assert list(training["student"]) == ["module." + k for k in teacher_sd]
    assert all(torch.equal(training["teacher"][k], v) for k, v in teacher_sd.items())
    assert torch.equal(training["dino_loss"]["center"], center)

    print(f"wrote {out}/")
    for name in ["released_flat.pth", "released_teacher.pth", "training.pth", "expected.safetensors"]:
        print(f"  {name:24s} {os.path.getsize(out / name):8d} bytes")
    print(f"  {len(teacher_sd)} keys per model; flat keys:")
    for key, value in teacher_sd.items():
        print(f"    {key:44s} {list(value.shape)}")
    print("  optimizer state_dict:", {k: (v if k == "param_groups" else {i: sorted(s) for i, s in v.items()})
                                      for k, v in training["optimizer"].items()})


def write_full_size(out):
    out = Path(out).resolve()
    repo = Path(__file__).resolve().parents[2]
    if out == repo or repo in out.parents:
        raise SystemExit(f"--full-size writes about 580 MB; choose a folder outside the repository ({repo})")
    out.mkdir(parents=True, exist_ok=True)
    model, plain = build(seed=1, **FULL)
    assert list(plain) == expected_keys(FULL["depth"])
    path = out / "kinetics400_vitb_ssl.pth"
    torch.save(model.state_dict(), path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(plain)} tensors, "
          f"{sum(v.numel() for v in plain.values())} values)")
    for key in ["backbone.pos_embed", "backbone.time_embed", "backbone.patch_embed.proj.weight",
                "head.mlp.4.weight", "head.last_layer.weight_g", "head.last_layer.weight_v"]:
        print(f"  {key:36s} {list(model.state_dict()[key].shape)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", metavar="OUT_DIR",
                        help="write OUT_DIR/kinetics400_vitb_ssl.pth with the released ViT-B shapes instead")
    args = parser.parse_args()
    if args.full_size:
        write_full_size(args.full_size)
    else:
        write_tiny(OUT)


if __name__ == "__main__":
    main()

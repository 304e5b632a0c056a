#!/usr/bin/env python3
"""Golden values for VideoTransformers' ViT and TimeSformer, from PyTorch modules written here from
Docs reference/TIME.md §0 and §2.1 (TIME's TimeSformer: "t n" token order, cls excluded from
temporal attention, per-frame cls copies averaged after spatial attention) and timm's
vit_base_patch16_224 layout.

Writes into Tests/VideoTransformersTests/Fixtures/:
  golden_timesformer.safetensors, golden_vit.safetensors  (tiny config: embed 24, depth 2, heads 2,
      patch 8, 32x32 crops, 3 frames for TimeSformer, 5 classes, B 2, eval mode)
    param.<key>     every parameter (random, temporal_fc and time_embed non-zero)
    input           clip [B, T, 3, 32, 32] (ViT: T = 1)
    logits, cls, tokens   head(cls) [B, K], final-norm cls [B, C], patch tokens [B, T, N, C]
    grad.<key>      gradient of loss = sum(logits * wl) + sum(tokens * wt) for every parameter
    loss_logits_weight, loss_tokens_weight   wl, wt
    resampled_input, resampled_logits   (TimeSformer only) a 2-frame 40x40 clip, which needs
                    bicubic pos_embed (4x4 -> 5x5 grid) and nearest time_embed resampling
  keys_timesformer_base.txt, keys_vit_base.txt   "name shape" per parameter at BASE size
      (TimeSformer-B 8x224 with 174 classes; vit_base_patch16_224 with 1000 classes)

Usage:  python3 Scripts/reference/make_backbone_golden.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "VideoTransformersTests", "Fixtures")


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):  # (M, 3, H, W) -> (M, N, C), n = row * W' + col
        x = self.proj(x)
        return x.flatten(2).transpose(1, 2), x.shape[-2:]


class ViTBlock(nn.Module):
    def __init__(self, dim, heads, ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, img=224, patch=16, dim=768, depth=12, heads=12, ratio=4.0, classes=1000):
        super().__init__()
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.patch_embed = PatchEmbed(patch, dim)
        self.blocks = nn.ModuleList([ViTBlock(dim, heads, ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def features(self, x):  # x: (B, 3, H, W), the configured size only
        p, _ = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(p.shape[0], -1, -1), p], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return x[:, 0], x[:, 1:]


class DividedBlock(nn.Module):
    def __init__(self, dim, heads, ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.temporal_norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.temporal_attn = Attention(dim, heads)
        self.temporal_fc = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * ratio))

    def forward(self, x, b, t, n):  # x: (B, 1 + T*N, C), tokens in "t n" order
        c = x.shape[-1]
        cls, p = x[:, :1], x[:, 1:]
        pt = p.reshape(b, t, n, c).transpose(1, 2).reshape(b * n, t, c)
        r = self.temporal_fc(self.temporal_attn(self.temporal_norm1(pt)))
        p1 = p + r.reshape(b, n, t, c).transpose(1, 2).reshape(b, t * n, c)
        s = torch.cat([cls.unsqueeze(1).expand(b, t, 1, c), p1.reshape(b, t, n, c)], dim=2).reshape(b * t, n + 1, c)
        a = self.attn(self.norm1(s)).reshape(b, t, n + 1, c)
        cls = cls + a[:, :, 0].mean(dim=1, keepdim=True)
        p1 = p1 + a[:, :, 1:].reshape(b, t * n, c)
        x = torch.cat([cls, p1], dim=1)
        return x + self.mlp(self.norm2(x))


class TimeSformer(nn.Module):
    def __init__(self, img=224, patch=16, frames=8, dim=768, depth=12, heads=12, ratio=4.0, classes=174):
        super().__init__()
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.time_embed = nn.Parameter(torch.zeros(1, frames, dim))
        self.patch_embed = PatchEmbed(patch, dim)
        self.blocks = nn.ModuleList([DividedBlock(dim, heads, ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def features(self, x):  # x: (B, T, 3, H, W)
        b, t = x.shape[:2]
        p, (gh, gw) = self.patch_embed(x.flatten(0, 1))
        n, c = p.shape[1], p.shape[2]
        pos = self.pos_embed
        if pos.shape[1] != n + 1:  # TIME: bicubic resize of the patch grid, cls position kept
            g0 = int((pos.shape[1] - 1) ** 0.5)
            grid = pos[:, 1:].reshape(1, g0, g0, c).permute(0, 3, 1, 2)
            grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
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


def key_list(model):
    return "".join(f"{k} {','.join(str(s) for s in v.shape)}\n" for k, v in model.state_dict().items())


def randomize(model, gen):
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
        for name, p in model.named_parameters():  # keep LayerNorm scales near one
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)


def golden(model, x, gen, extra):
    model.eval()
    cls, tokens = model.features(x)
    logits = model.head(cls)
    wl = torch.randn(logits.shape, generator=gen)
    wt = torch.randn(tokens.shape, generator=gen)
    loss = (logits * wl).sum() + (tokens * wt).sum()
    loss.backward()
    out = {"input": x, "logits": logits, "cls": cls, "tokens": tokens,
           "loss_logits_weight": wl, "loss_tokens_weight": wt}
    for k, p in model.named_parameters():
        out["param." + k] = p
        out["grad." + k] = p.grad
    out.update(extra)
    return {k: v.detach().contiguous().float() for k, v in out.items()}


def main():
    os.makedirs(OUT, exist_ok=True)
    with torch.device("meta"):
        base_ts, base_vit = TimeSformer(), ViT()
    with open(os.path.join(OUT, "keys_timesformer_base.txt"), "w") as f:
        f.write(key_list(base_ts))
    with open(os.path.join(OUT, "keys_vit_base.txt"), "w") as f:
        f.write(key_list(base_vit))

    tiny = dict(img=32, patch=8, dim=24, depth=2, heads=2, ratio=4.0, classes=5)
    gen = torch.Generator().manual_seed(2022)

    ts = TimeSformer(frames=3, **tiny)
    randomize(ts, gen)
    x = torch.randn(2, 3, 3, 32, 32, generator=gen)
    x2 = torch.randn(2, 2, 3, 40, 40, generator=gen)
    with torch.no_grad():
        ts.eval()
        resampled = ts.head(ts.features(x2)[0])
    save_file(golden(ts, x, gen, {"resampled_input": x2, "resampled_logits": resampled}),
              os.path.join(OUT, "golden_timesformer.safetensors"))

    vit = ViT(**tiny)
    randomize(vit, gen)
    x = torch.randn(2, 1, 3, 32, 32, generator=gen)

    class Wrap(nn.Module):  # clip [B, 1, 3, H, W] -> image features, tokens as [B, 1, N, C]
        def __init__(self, m):
            super().__init__()
            self.m = m

        def features(self, clip):
            cls, tok = self.m.features(clip[:, 0])
            return cls, tok.unsqueeze(1)

        def head(self, cls):
            return self.m.head(cls)

        def named_parameters(self, *a, **k):
            return self.m.named_parameters(*a, **k)

    save_file(golden(Wrap(vit), x, gen, {}), os.path.join(OUT, "golden_vit.safetensors"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Golden values for VideoTransformers' Motionformer and X-ViT, from PyTorch modules written here from
Docs reference/TIME.md §2.2 (Motionformer as TIME runs it: 2-D patches, separate temp_embed, trajectory
attention with the ORIGINAL value path, pre_logits Linear+tanh on all tokens) and §2.3 (X-ViT: per-frame
ViT with a channel-wise K/V shift, temp_embed on all 197 slots, VitHead consensus). Shared pieces
(Mlp, PatchEmbed, randomize, golden, key_list) come from make_backbone_golden.py beside this file.

Writes into Tests/VideoTransformersTests/Fixtures/:
  golden_motionformer.safetensors, golden_xvit.safetensors  (tiny config: embed 24, depth 2, heads 3
      (d 8, so X-ViT's shift fold of 6 channels straddles heads), patch 8, 32x32 crops, 3 frames,
      5 classes, B 2, eval mode)
    param.<key>     every parameter (random, temp_embed, proj_q/proj_kv/pre_logits and the
                    consensus cls non-zero)
    input           clip [B, 3, 3, 32, 32]
    logits, cls, tokens   head(cls) [B, K], class embedding [B, C], patch tokens [B, T, N, C]
                    (Motionformer: after norm + tanh(pre_logits); X-ViT: cls is the consensus
                    mlp_head output, tokens the per-frame final-norm patches)
    grad.<key>      gradient of loss = sum(logits * wl) + sum(tokens * wt) for every parameter
                    (Motionformer's proj_kv value half is exactly zero: §2.2 step 4)
    loss_logits_weight, loss_tokens_weight   wl, wt
    resampled_input, resampled_logits   a 2-frame 40x40 clip (bicubic pos_embed 4x4 -> 5x5,
                    nearest temp_embed)
  keys_motionformer_base.txt, keys_xvit_base.txt   "name shape" per parameter at BASE size
      (8 frames, 224 crops, 174 classes)

Usage:  python3 Scripts/reference/make_backbone_golden_mf_xvit.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_backbone_golden import OUT, Mlp, PatchEmbed, golden, key_list, randomize  # noqa: E402


def resampled_embeddings(pos, temp, gh, gw, t):
    """pos [1, 1+N0, C] bicubic to gh x gw (cls position kept); temp [1, T0, C] nearest to t."""
    c = pos.shape[-1]
    if pos.shape[1] != gh * gw + 1:
        g0 = int((pos.shape[1] - 1) ** 0.5)
        grid = pos[:, 1:].reshape(1, g0, g0, c).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
        pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, gh * gw, c)], dim=1)
    if temp.shape[1] != t:
        temp = F.interpolate(temp.transpose(1, 2), size=t, mode="nearest").transpose(1, 2)
    return pos, temp


# ---------------------------------------------------------------------------------------- Motionformer

class TrajectoryAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj_q = nn.Linear(dim, dim)
        self.proj_kv = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, f, n):  # x: (B, 1 + F*N, C), "t n" order
        b, _, c = x.shape
        h, d = self.heads, c // self.heads
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, -1, h, d).transpose(1, 2).reshape(b * h, -1, d) for z in (q, k, v))
        # cls attends over ALL keys, itself included
        cls_attn = (q[:, :1] @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        cls_out = (cls_attn @ v).reshape(b, h, 1, d).transpose(1, 2).reshape(b, 1, c)
        q_, k_, v_ = q[:, 1:], k[:, 1:], v[:, 1:]
        # space step: softmax over the patches of each frame separately
        space = (self.scale * (q_ @ k_.transpose(-2, -1))).reshape(b * h, f * n, f, n).softmax(dim=-1)
        y = torch.einsum("bqfn,bfnd->bqfd", space, v_.reshape(b * h, f, n, d))
        y = y.reshape(b, h, f * n, f, d).permute(0, 2, 3, 1, 4).reshape(b, f * n, f, c)  # b s f (h d)
        # time step: query = own-frame trajectory token
        y_diag = torch.diagonal(y.reshape(b, f, n, f, c), dim1=1, dim2=3)  # b n c f
        y_diag = y_diag.permute(0, 3, 1, 2).reshape(b, f * n, c)
        q2 = self.proj_q(y_diag).reshape(b, f * n, h, d).transpose(1, 2)  # b h s d
        k2, v2 = self.proj_kv(y).chunk(2, dim=-1)
        k2 = k2.reshape(b, f * n, f, h, d).permute(0, 3, 1, 2, 4)  # b h s f d
        yh = y.reshape(b, f * n, f, h, d).permute(0, 3, 1, 2, 4)
        attn = torch.einsum("bhsd,bhsfd->bhsf", q2 * self.scale, k2).softmax(dim=-1)
        out = torch.einsum("bhsf,bhsfd->bhsd", attn, yh)  # ORIGINAL code: values are y, not v2
        out = out.transpose(1, 2).reshape(b, f * n, c)
        return self.proj(torch.cat([cls_out, out], dim=1))


class MFBlock(nn.Module):
    def __init__(self, dim, heads, ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = TrajectoryAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * ratio))

    def forward(self, x, f, n):
        x = x + self.attn(self.norm1(x), f, n)
        return x + self.mlp(self.norm2(x))


class PreLogits(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x))


class Motionformer(nn.Module):
    def __init__(self, img=224, patch=16, frames=8, dim=768, depth=12, heads=12, ratio=4.0, classes=174):
        super().__init__()
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.temp_embed = nn.Parameter(torch.zeros(1, frames, dim))
        self.patch_embed = PatchEmbed(patch, dim)
        self.blocks = nn.ModuleList([MFBlock(dim, heads, ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pre_logits = PreLogits(dim)
        self.head = nn.Linear(dim, classes)

    def features(self, x):  # x: (B, T, 3, H, W)
        b, t = x.shape[:2]
        p, (gh, gw) = self.patch_embed(x.flatten(0, 1))
        n, c = p.shape[1], p.shape[2]
        pos, temp = resampled_embeddings(self.pos_embed, self.temp_embed, gh, gw, t)
        p = (p + pos[:, 1:]).reshape(b, t, n, c) + temp.unsqueeze(2)
        x = torch.cat([(self.cls_token + pos[:, :1]).expand(b, -1, -1), p.reshape(b, t * n, c)], dim=1)
        for blk in self.blocks:
            x = blk(x, t, n)
        x = self.pre_logits(self.norm(x))  # tanh on ALL tokens
        return x[:, 0], x[:, 1:].reshape(b, t, n, c)


# ---------------------------------------------------------------------------------------------- X-ViT

def temporal_shift(z, t, fold_div=4):
    """z (B*T, L, C): channels [0, fold) from frame t+1, [fold, 2 fold) from t-1, zeros at the ends."""
    bt, l, c = z.shape
    z = z.reshape(bt // t, t, l, c)
    fold = c // fold_div
    out = torch.zeros_like(z)
    out[:, :-1, :, :fold] = z[:, 1:, :, :fold]
    out[:, 1:, :, fold:2 * fold] = z[:, :-1, :, fold:2 * fold]
    out[:, :, :, 2 * fold:] = z[:, :, :, 2 * fold:]
    return out.reshape(bt, l, c)


class ShiftAttention(nn.Module):
    def __init__(self, dim, heads, bias=True, shift=True):
        super().__init__()
        self.heads, self.shift = heads, shift
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, t=1):
        b, l, c = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        if self.shift:
            k, v = temporal_shift(k, t), temporal_shift(v, t)
        q, k, v = (z.reshape(b, l, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, l, c))


class XBlock(nn.Module):
    def __init__(self, dim, heads, ratio, eps=1e-6, bias=True, shift=True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = ShiftAttention(dim, heads, bias=bias, shift=shift)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * ratio))

    def forward(self, x, t=1):
        x = x + self.attn(self.norm1(x), t)
        return x + self.mlp(self.norm2(x))


class XViTBase(nn.Module):
    def __init__(self, img, patch, frames, dim, depth, heads, ratio):
        super().__init__()
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.temp_embed = nn.Parameter(torch.zeros(1, frames, 1, dim))
        self.patch_embed = PatchEmbed(patch, dim)
        self.blocks = nn.ModuleList([XBlock(dim, heads, ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):  # (B, T, 3, H, W) -> per-frame cls (B, T, C), patches (B, T, N, C)
        b, t = x.shape[:2]
        p, (gh, gw) = self.patch_embed(x.flatten(0, 1))  # frames of a video contiguous: "(b t)"
        n, c = p.shape[1], p.shape[2]
        pos, temp = resampled_embeddings(self.pos_embed, self.temp_embed[:, :, 0], gh, gw, t)
        x = torch.cat([self.cls_token.expand(b * t, -1, -1), p], dim=1) + pos
        x = (x.reshape(b, t, n + 1, c) + temp.unsqueeze(2)).reshape(b * t, n + 1, c)  # ALL 1+N slots
        for blk in self.blocks:
            x = blk(x, t)
        x = self.norm(x).reshape(b, t, n + 1, c)
        return x[:, :, 0], x[:, :, 1:]


class VitHead(nn.Module):
    def __init__(self, dim, heads, ratio, classes, dropout=0.5):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.temporal_encoder = nn.ModuleList([XBlock(dim, heads, ratio, eps=1e-5, bias=False, shift=False)])
        self.mlp_head = nn.Sequential(nn.LayerNorm(dim, eps=1e-5), nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout))
        self.head = nn.Linear(dim, classes)

    def embed(self, frame_cls):  # (B, T, C) -> (B, C); no position/time embedding
        x = torch.cat([self.cls_token.expand(frame_cls.shape[0], -1, -1), frame_cls], dim=1)
        for blk in self.temporal_encoder:
            x = blk(x)
        return self.mlp_head(x[:, 0])


class XViT(nn.Module):
    def __init__(self, img=224, patch=16, frames=8, dim=768, depth=12, heads=12, ratio=4.0, classes=174):
        super().__init__()
        self.base_model = XViTBase(img, patch, frames, dim, depth, heads, ratio)
        self.consensus = VitHead(dim, heads, ratio, classes)

    def features(self, x):
        frame_cls, tokens = self.base_model(x)
        return self.consensus.embed(frame_cls), tokens

    def head(self, cls):
        return self.consensus.head(cls)


def main():
    os.makedirs(OUT, exist_ok=True)
    with torch.device("meta"):
        base_mf, base_xvit = Motionformer(), XViT()
    with open(os.path.join(OUT, "keys_motionformer_base.txt"), "w") as f:
        f.write(key_list(base_mf))
    with open(os.path.join(OUT, "keys_xvit_base.txt"), "w") as f:
        f.write(key_list(base_xvit))

    tiny = dict(img=32, patch=8, frames=3, dim=24, depth=2, heads=3, ratio=4.0, classes=5)
    gen = torch.Generator().manual_seed(2023)
    for name, cls in [("motionformer", Motionformer), ("xvit", XViT)]:
        model = cls(**tiny)
        randomize(model, gen)
        x = torch.randn(2, 3, 3, 32, 32, generator=gen)
        x2 = torch.randn(2, 2, 3, 40, 40, generator=gen)
        model.eval()
        with torch.no_grad():
            resampled = model.head(model.features(x2)[0])
        save_file(golden(model, x, gen, {"resampled_input": x2, "resampled_logits": resampled}),
                  os.path.join(OUT, f"golden_{name}.safetensors"))


if __name__ == "__main__":
    main()

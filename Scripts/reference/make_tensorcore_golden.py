#!/usr/bin/env python3
"""Golden forward/backward values for TensorCore, computed with PyTorch (CPU, float32).

Writes Tests/TensorCoreTests/Fixtures/golden_tensorcore.safetensors. Every case stores its inputs,
an upstream gradient `*.g` where the output is not a scalar, the forward output and the gradients
of sum(output * g) (or of the scalar loss) with respect to each input.

Cases:
  attention.{short,long}  softmax(q k^T * d^-0.5) v for [B, H, L, d] (L = 8 and L = 37, S = L)
  layer_norm              F.layer_norm over the last dim, eps 1e-6, with weight and bias
  gelu                    exact (erf) GELU on a grid from -6 to 6
  lsce                    F.cross_entropy(label_smoothing=0.2), 16 rows x 10 classes
  lsce174                 the same with 174 classes (SSv2), 8 rows
  transformer.*           two pre-norm ViT blocks (timm Block: norm1, attn.qkv, attn.proj, norm2,
                          mlp.fc1, mlp.fc2; dim 32, 4 heads, mlp ratio 4, LayerNorm eps 1e-6)
                          + final norm + mean over tokens + head (5 classes), cross-entropy with
                          label smoothing 0.1. Parameters are stored under `transformer.param.<key>`
                          and their gradients under `transformer.grad.<key>` with timm's keys.

Usage:  python3 Scripts/reference/make_tensorcore_golden.py   (torch and safetensors required)
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TensorCoreTests", "Fixtures",
                   "golden_tensorcore.safetensors")


def leaf(t):
    return t.clone().requires_grad_(True)


def attention_case(out, name, b, h, l, d, gen):
    q = torch.randn(b, h, l, d, generator=gen)
    k = torch.randn(b, h, l, d, generator=gen)
    v = torch.randn(b, h, l, d, generator=gen)
    g = torch.randn(b, h, l, d, generator=gen)
    ql, kl, vl = leaf(q), leaf(k), leaf(v)
    p = (ql @ kl.transpose(-2, -1) * d ** -0.5).softmax(dim=-1)
    y = p @ vl
    (y * g).sum().backward()
    out.update({f"{name}.q": q, f"{name}.k": k, f"{name}.v": v, f"{name}.g": g, f"{name}.out": y.detach(),
                f"{name}.dq": ql.grad, f"{name}.dk": kl.grad, f"{name}.dv": vl.grad})


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


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, dim * 4)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    def __init__(self, dim=32, heads=4, depth=2, classes=5):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x).mean(dim=1))


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    out = {}

    attention_case(out, "attention.short", 2, 3, 8, 16, gen)
    attention_case(out, "attention.long", 1, 2, 37, 16, gen)

    x = torch.randn(4, 7, 32, generator=gen) * 2 + 0.5
    w = torch.randn(32, generator=gen) * 0.5 + 1
    b = torch.randn(32, generator=gen) * 0.1
    g = torch.randn(4, 7, 32, generator=gen)
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    y = F.layer_norm(xl, (32,), wl, bl, eps=1e-6)
    (y * g).sum().backward()
    out.update({"layer_norm.x": x, "layer_norm.weight": w, "layer_norm.bias": b, "layer_norm.g": g,
                "layer_norm.out": y.detach(), "layer_norm.dx": xl.grad, "layer_norm.dweight": wl.grad,
                "layer_norm.dbias": bl.grad})

    x = torch.linspace(-6, 6, 241)
    g = torch.randn(241, generator=gen)
    xl = leaf(x)
    y = F.gelu(xl)
    (y * g).sum().backward()
    out.update({"gelu.x": x, "gelu.g": g, "gelu.out": y.detach(), "gelu.dx": xl.grad})

    for name, rows, classes in (("lsce", 16, 10), ("lsce174", 8, 174)):
        logits = torch.randn(rows, classes, generator=gen) * 3
        labels = torch.randint(0, classes, (rows,), generator=gen)
        ll = leaf(logits)
        loss = F.cross_entropy(ll, labels, label_smoothing=0.2)
        loss.backward()
        out.update({f"{name}.logits": logits, f"{name}.labels": labels, f"{name}.loss": loss.detach().reshape(1),
                    f"{name}.dlogits": ll.grad})

    model = TinyTransformer()
    with torch.no_grad():  # non-trivial norms, so that their gradients are checked meaningfully
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    tokens = torch.randn(2, 10, 32, generator=gen)
    labels = torch.tensor([1, 3])
    tl = leaf(tokens)
    logits = model(tl)
    loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    loss.backward()
    out.update({"transformer.tokens": tokens, "transformer.labels": labels, "transformer.logits": logits.detach(),
                "transformer.loss": loss.detach().reshape(1), "transformer.dtokens": tl.grad})
    for key, p in model.named_parameters():
        out[f"transformer.param.{key}"] = p.detach()
        out[f"transformer.grad.{key}"] = p.grad

    out = {k: v.contiguous() for k, v in out.items()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(out, OUT, metadata={"generator": "Scripts/reference/make_tensorcore_golden.py",
                                  "torch": torch.__version__})
    print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()

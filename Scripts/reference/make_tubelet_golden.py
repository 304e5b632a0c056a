#!/usr/bin/env python3
"""Golden values for VideoTransformers' TubeletEmbed, from VideoMAE's tubelet patch embedding:
nn.Conv3d(3, C, kernel_size=(t, p, p), stride=(t, p, p)) on a [B, 3, T, H, W] clip, then
.flatten(2).transpose(1, 2), which orders tokens (t', row, col).

Writes Tests/VideoTransformersTests/Fixtures/golden_tubelet.safetensors (float32; C 5, t 2, p 4,
B 2, T 4, 8x12 frames, so T' 2 and N = 2 * 3 = 6):
  weight, bias    the Conv3d parameters [C, 3, t, p, p], [C] (random)
  input           clip [B, T, 3, H, W] in VideoTransformers' layout (random)
  tokens          the Conv3d output as [B, T', N, C], token n = row * (W/p) + col
  loss_weight     w [B, T', N, C] (random)
  grad.weight, grad.bias, grad.input   gradients of loss = sum(tokens * w), grad.input in the
                  [B, T, 3, H, W] layout of input

Usage:  python3 Scripts/reference/make_tubelet_golden.py
"""
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "VideoTransformersTests", "Fixtures")

C, T_SIZE, PATCH = 5, 2, 4
B, T, H, W = 2, 4, 8, 12


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(2023)
    conv = nn.Conv3d(3, C, kernel_size=(T_SIZE, PATCH, PATCH), stride=(T_SIZE, PATCH, PATCH))
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * 0.3)
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=gen) * 0.3)
    x = torch.randn(B, T, 3, H, W, generator=gen, requires_grad=True)

    y = conv(x.permute(0, 2, 1, 3, 4))  # [B, C, T', gh, gw]
    _, _, tt, gh, gw = y.shape
    tokens = y.permute(0, 2, 3, 4, 1).reshape(B, tt, gh * gw, C)
    # The same tokens as VideoMAE orders them, (t', row, col) flattened.
    assert torch.equal(tokens.reshape(B, tt * gh * gw, C), y.flatten(2).transpose(1, 2))

    wl = torch.randn(tokens.shape, generator=gen)
    (tokens * wl).sum().backward()

    out = {"weight": conv.weight, "bias": conv.bias, "input": x, "tokens": tokens, "loss_weight": wl,
           "grad.weight": conv.weight.grad, "grad.bias": conv.bias.grad, "grad.input": x.grad}
    save_file({k: v.detach().contiguous().float() for k, v in out.items()},
              os.path.join(OUT, "golden_tubelet.safetensors"))


if __name__ == "__main__":
    main()

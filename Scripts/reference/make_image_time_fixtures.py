#!/usr/bin/env python3
"""Golden values for TemporalSSL's image TIME (patch order + background debias), from a PyTorch
re-implementation of the losses in Docs reference/TIME.md §1.7 with §1.1 (LSCE, eps 0.2) and §1.2
(uniform-target CE, no smoothing).

Writes Tests/TemporalSSLTests/Fixtures/golden_image_time.safetensors with, for B=2, T=1, N=9
(a 3x3 patch grid), C=16, K=5:
  inputs   tokens [B,T,N,C], logits [B,K], background_logits [B,K], labels [B] (int64)
  params   param.patch_head.{weight,bias} (nn.Linear default init, seeded)
  outputs  order_logits [B,T,N,N], loss.{cls,order,debias,total} [1]
  grads    grad.patch_head.{weight,bias}, grad.tokens, grad.logits, grad.background_logits
           (of the total with weights cls 1, order 0.5, debias 2 so a swapped weight shows)

Usage:  python3 Scripts/reference/make_image_time_fixtures.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TemporalSSLTests", "Fixtures",
                   "golden_image_time.safetensors")
B, T, N, C, K, EPS = 2, 1, 9, 16, 5, 0.2
W_CLS, W_ORDER, W_DEBIAS = 1.0, 0.5, 2.0


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2023)
    patch_head = nn.Linear(C, N)
    tokens = torch.randn(B, T, N, C, generator=gen).requires_grad_(True)
    logits = (torch.randn(B, K, generator=gen) * 2).requires_grad_(True)
    background = (torch.randn(B, K, generator=gen) * 2).requires_grad_(True)
    labels = torch.randint(0, K, (B,), generator=gen)

    order_logits = patch_head(tokens)                          # (B, T, N, N): token n -> position logits
    loss_cls = F.cross_entropy(logits, labels, label_smoothing=EPS)
    loss_order = F.cross_entropy(order_logits.reshape(-1, N), torch.arange(N).repeat(B * T), label_smoothing=EPS)
    loss_debias = -(F.log_softmax(background, dim=-1).mean(dim=-1)).mean()
    total = W_CLS * loss_cls + W_ORDER * loss_order + W_DEBIAS * loss_debias
    total.backward()

    out = {"tokens": tokens.detach(), "logits": logits.detach(), "background_logits": background.detach(),
           "labels": labels, "order_logits": order_logits.detach(),
           "loss.cls": loss_cls.detach().reshape(1), "loss.order": loss_order.detach().reshape(1),
           "loss.debias": loss_debias.detach().reshape(1), "loss.total": total.detach().reshape(1),
           "grad.tokens": tokens.grad, "grad.logits": logits.grad, "grad.background_logits": background.grad}
    for key, p in patch_head.named_parameters():
        out[f"param.patch_head.{key}"] = p.detach()
        out[f"grad.patch_head.{key}"] = p.grad
    out = {k: v.contiguous() for k, v in out.items()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(out, OUT, metadata={"generator": "Scripts/reference/make_image_time_fixtures.py",
                                  "torch": torch.__version__})
    print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes); "
          f"total loss {total.item():.6f}")


if __name__ == "__main__":
    main()

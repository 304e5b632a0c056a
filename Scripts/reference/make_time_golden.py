#!/usr/bin/env python3
"""Golden values for TemporalSSL's TIME heads and losses, from a PyTorch re-implementation of the
reference heads (alinlab/temporal-selfsupervision, as specified in Docs reference/TIME.md §1).

Writes Tests/TemporalSSLTests/Fixtures/golden_time.safetensors with, for B=2, T=4, N=6, C=16, K=7:
  inputs   tokens [B,T,N,C], logits [B,K], shuffled_logits [B,K], labels [B] (int64),
           flow_labels [B,T-1,N] (int64)
  params   param.<key> for temp_head, mlp_q, mlp_k, mlp_v, mlp_proj, mlp_norm, flow_head
           (nn.Linear default init, seeded; mlp_norm perturbed so its gradient matters)
  outputs  order_logits [B,T,T], flow_logits [B,T-1,N,9], loss.{cls,order,debias,flow,total} [1]
  grads    grad.<key> for every parameter, grad.tokens, grad.logits, grad.shuffled_logits
           (of the total loss, all weights 1, label smoothing 0.2 except debias)

Usage:  python3 Scripts/reference/make_time_golden.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TemporalSSLTests", "Fixtures",
                   "golden_time.safetensors")
B, T, N, C, K, EPS = 2, 4, 6, 16, 7, 0.2


class TimeHeads(nn.Module):
    def __init__(self, dim, frames):
        super().__init__()
        self.temp_head = nn.Linear(dim, frames)
        self.mlp_q = nn.Linear(dim, dim, bias=True)
        self.mlp_k = nn.Linear(dim, dim, bias=True)
        self.mlp_v = nn.Linear(dim, dim, bias=True)
        self.mlp_proj = nn.Linear(dim, dim)
        self.mlp_norm = nn.LayerNorm(dim, eps=1e-6)
        self.flow_head = nn.Linear(dim, 9)

    def order(self, z):                       # z: (B, T, N, C)
        return self.temp_head(z.mean(dim=2))  # (B, T, T)

    def flow(self, z):
        prev, nxt = z[:, :-1], z[:, 1:]
        q, k, v = self.mlp_q(nxt), self.mlp_k(prev), self.mlp_v(prev)
        attn = (q @ k.transpose(-2, -1) * z.shape[-1] ** -0.5).softmax(dim=-1)
        return self.flow_head(self.mlp_norm(self.mlp_proj(attn @ v)))  # (B, T-1, N, 9)


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2022)
    heads = TimeHeads(C, T)
    with torch.no_grad():
        heads.mlp_norm.weight.add_(torch.randn(C, generator=gen) * 0.2)
        heads.mlp_norm.bias.add_(torch.randn(C, generator=gen) * 0.2)
    tokens = torch.randn(B, T, N, C, generator=gen).requires_grad_(True)
    logits = (torch.randn(B, K, generator=gen) * 2).requires_grad_(True)
    shuffled = (torch.randn(B, K, generator=gen) * 2).requires_grad_(True)
    labels = torch.randint(0, K, (B,), generator=gen)
    flow_labels = torch.randint(0, 9, (B, T - 1, N), generator=gen)

    order_logits = heads.order(tokens)
    flow_logits = heads.flow(tokens)
    loss_cls = F.cross_entropy(logits, labels, label_smoothing=EPS)
    loss_order = F.cross_entropy(order_logits.reshape(-1, T), torch.arange(T).repeat(B), label_smoothing=EPS)
    loss_debias = -(F.log_softmax(shuffled, dim=-1).mean(dim=-1)).mean()
    loss_flow = F.cross_entropy(flow_logits.reshape(-1, 9), flow_labels.reshape(-1), label_smoothing=EPS)
    total = loss_cls + loss_order + loss_debias + loss_flow
    total.backward()

    out = {"tokens": tokens.detach(), "logits": logits.detach(), "shuffled_logits": shuffled.detach(),
           "labels": labels, "flow_labels": flow_labels,
           "order_logits": order_logits.detach(), "flow_logits": flow_logits.detach(),
           "loss.cls": loss_cls.detach().reshape(1), "loss.order": loss_order.detach().reshape(1),
           "loss.debias": loss_debias.detach().reshape(1), "loss.flow": loss_flow.detach().reshape(1),
           "loss.total": total.detach().reshape(1),
           "grad.tokens": tokens.grad, "grad.logits": logits.grad, "grad.shuffled_logits": shuffled.grad}
    for key, p in heads.named_parameters():
        out[f"param.{key}"] = p.detach()
        out[f"grad.{key}"] = p.grad
    out = {k: v.contiguous() for k, v in out.items()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(out, OUT, metadata={"generator": "Scripts/reference/make_time_golden.py", "torch": torch.__version__})
    print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes); "
          f"total loss {total.item():.6f}")


if __name__ == "__main__":
    main()

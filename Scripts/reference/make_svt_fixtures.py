#!/usr/bin/env python3
"""Golden values for VideoSSL's SVT objective (DINO head, DINO loss, centre, schedules, EMA, clipping).

Writes Tests/TrainingTests/Fixtures/svt_golden.safetensors. The formulas are those of the
released SVT training code, restated from docs/reference/SVT-VideoMS-IIC.md §1.4-1.6:

Head (DINO head, no batch norm, 3 layers):
  x -> Linear(in, hidden) -> GELU(erf) -> Linear(hidden, hidden) -> GELU -> Linear(hidden, bottleneck)
    -> L2-normalise (x / max(||x||, 1e-12)) -> weight-normalised Linear(bottleneck, out, no bias)
  weight norm over dim 0: W[o, :] = g[o] * v[o, :] / ||v[o, :]||; g = 1 and frozen (norm_last_layer).
  The head's own start: the three MLP Linears trunc-normal(std 0.02, cut at +-2 absolute) with zero
  bias, v PyTorch's default Linear init. Here v is then overwritten with N(0, 1) * 0.3, and (unless
  --dino-init) the MLP weights with N(0, 1) / sqrt(fan_in) and the biases with N(0, 1) * 0.1: with
  the head's own start the bottleneck has norm ~1e-3, GELU works in its linear range (tanh and erf
  GELU then differ by ~3e-6 in the output) and the biases are zero, so neither would be tested.
  Keys: head.mlp.{0,2,4}.{weight,bias}, head.last_layer.weight_g [out, 1], head.last_layer.weight_v.

Loss (student views v = 0..V-1, teacher views q = 0..1, rows view-major v*B + b):
  P_q = softmax((t_q - c) / tau_t), teacher detached;  log Q_v = log_softmax(s_v / tau_s)
  L = sum_{q, v != q} mean_b(-sum_k P_q log Q_v) / n_terms,  n_terms = 2 * (V - 1)
  tau_t for epoch e comes from concat(linspace(warm, final, warm_epochs), final * ones(epochs - warm_epochs)).
Centre (after the loss, single process):  c' = 0.9 c + 0.1 * mean over the 2B teacher rows.
Schedules (per iteration):  warm-up linspace(start, base, warmup_iters), then
  final + 0.5 (base - final)(1 + cos(pi i / n)), i = 0..n-1, n = epochs*niter - warmup_iters.
EMA:  teacher.mul_(m).add_((1 - m) * student) on float32 tensors with m a float64 scalar
  (PyTorch rounds each scalar to float32 before the multiply: f32(m) and f32(1 - m)).
Clipping (per tensor):  coef = clip / (||g||_2 + 1e-6) in float32; if coef < 1: g *= coef.

Requires: torch, numpy, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_svt_fixtures.py
"""

import argparse
import json
import math
import os
import struct
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import load_file

OUT = os.path.join("Tests", "TrainingTests", "Fixtures", "svt_golden.safetensors")

IN_DIM, HIDDEN, BOTTLENECK, OUT_DIM = 16, 32, 8, 64
B, V, GLOBALS = 3, 6, 2
STUDENT_TEMP, TEACHER_TEMP, CENTER_MOMENTUM = 0.1, 0.04, 0.9
EPOCHS, NITER = 5, 7
CLIP = 3.0


class ProjectionHead(nn.Module):
    """The DINO projection head of VideoSSL's SVT objective (see the module docstring)."""

    def __init__(self, in_dim, out_dim, hidden_dim, bottleneck_dim):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.GELU(),
            nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
            nn.Linear(hidden_dim, bottleneck_dim),
        )
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
                nn.init.zeros_(m.bias)
        # Created after the MLP init, so v keeps the default Linear init.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):
        x = self.mlp(x)
        x = F.normalize(x, dim=-1, p=2)
        return self.last_layer(x)


def head_by_formula(p, x, gelu="none"):
    """The same head written out from the stored tensors (cross-check of the module)."""
    h = F.gelu(x @ p["mlp.0.weight"].T + p["mlp.0.bias"], approximate=gelu)
    h = F.gelu(h @ p["mlp.2.weight"].T + p["mlp.2.bias"], approximate=gelu)
    h = h @ p["mlp.4.weight"].T + p["mlp.4.bias"]
    h = h / h.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    v = p["last_layer.weight_v"]
    w = p["last_layer.weight_g"] * v / v.norm(dim=1, keepdim=True)
    return h @ w.T


def teacher_temp_schedule(warm, final, warm_epochs, epochs):
    return np.concatenate((np.linspace(warm, final, warm_epochs), np.ones(epochs - warm_epochs) * final))


def dino_loss(student_out, teacher_out, center, tau_t, ncrops, student_temp=STUDENT_TEMP):
    s = (student_out / student_temp).chunk(ncrops)
    t = F.softmax((teacher_out - center) / tau_t, dim=-1).detach().chunk(GLOBALS)
    total, terms = 0, 0
    for iq, q in enumerate(t):
        for v in range(len(s)):
            if v == iq:
                continue
            total = total + torch.sum(-q * F.log_softmax(s[v], dim=-1), dim=-1).mean()
            terms += 1
    return total / terms, terms


@torch.no_grad()
def updated_center(center, teacher_out, momentum=CENTER_MOMENTUM):
    batch_center = torch.sum(teacher_out, dim=0, keepdim=True) / len(teacher_out)
    return center * momentum + batch_center * (1 - momentum)


def cosine_scheduler(base, final, epochs, niter_per_ep, warmup_epochs=0, start_warmup_value=0):
    warmup_iters = warmup_epochs * niter_per_ep
    warm = np.linspace(start_warmup_value, base, warmup_iters) if warmup_epochs > 0 else np.array([])
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    main = final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / len(iters)))
    out = np.concatenate((warm, main))
    assert len(out) == epochs * niter_per_ep
    return out


def clip_tensor_grad(grad, clip):
    grad = grad.clone()
    norm = grad.norm(2)
    coef = clip / (norm + 1e-6)
    if coef < 1:
        grad.mul_(coef)
    return grad


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


def f32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dino-init", action="store_true",
                        help="keep the head's own start (trunc-normal 0.02, zero biases) for the MLP instead of "
                             "N(0, 1/fan_in) weights and N(0, 0.01) biases")
    dino_init = parser.parse_args().dino_init
    arrays = {}

    # ---- head, inputs, loss, centre, gradients ----
    torch.manual_seed(0)
    head = ProjectionHead(IN_DIM, OUT_DIM, HIDDEN, BOTTLENECK)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        head.last_layer.weight_v.copy_(torch.randn(OUT_DIM, BOTTLENECK, generator=gen) * 0.3)
        if not dino_init:
            # Unit-scale pre-activations and non-zero biases, so that the values tell exact GELU
            # from its tanh approximation and a missing bias from a present one.
            for m in head.mlp:
                if isinstance(m, nn.Linear):
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) / math.sqrt(m.in_features))
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    student_in = torch.randn(V * B, IN_DIM, generator=gen)
    teacher_in = torch.randn(GLOBALS * B, IN_DIM, generator=gen)
    center = torch.randn(1, OUT_DIM, generator=gen) * 0.5

    params = dict(head.named_parameters())
    names = ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias",
             "last_layer.weight_g", "last_layer.weight_v"]
    assert sorted(params) == sorted(names), sorted(params)
    for n in names:
        arrays[f"head.{n}"] = f32(params[n])

    student_in.requires_grad_(True)
    student_out = head(student_in)
    with torch.no_grad():
        teacher_out = head(teacher_in)

    # The module and the written-out formula agree.
    detached = {n: p.detach() for n, p in params.items()}
    by_formula = head_by_formula(detached, student_in.detach())
    assert torch.allclose(by_formula, student_out.detach(), atol=1e-6), (by_formula - student_out).abs().max()
    tanh_gap = (head_by_formula(detached, student_in.detach(), "tanh") - by_formula).abs().max().item()

    loss, terms = dino_loss(student_out, teacher_out, center, TEACHER_TEMP, V)
    assert terms == 2 * V - 2
    loss.backward()
    assert head.last_layer.weight_g.grad is None

    arrays["input.student"] = f32(student_in)
    arrays["input.teacher"] = f32(teacher_in)
    arrays["input.center"] = f32(center)
    arrays["output.student"] = f32(student_out)
    arrays["output.teacher"] = f32(teacher_out)
    arrays["loss"] = np.array([loss.item()], dtype=np.float32)
    arrays["center.after"] = f32(updated_center(center, teacher_out))
    arrays["grad.input.student"] = f32(student_in.grad)
    for n in names:
        if n == "last_layer.weight_g":
            continue
        arrays[f"grad.head.{n}"] = f32(params[n].grad)

    # Teacher-temperature warm-up: epoch 1 of a 3-epoch warm-up from 0.04 to 0.07 over 5 epochs.
    temps = teacher_temp_schedule(0.04, 0.07, 3, 5)
    with torch.no_grad():
        loss_w, _ = dino_loss(head(student_in), teacher_out, center, temps[1], V)
    arrays["loss.warmup_epoch1"] = np.array([loss_w.item()], dtype=np.float32)
    arrays["schedule.teacher_temp"] = temps.astype(np.float64)

    # ---- schedules ----
    lr = cosine_scheduler(5e-4 * 32 / 256.0, 1e-6, EPOCHS, NITER, warmup_epochs=2)
    wd = cosine_scheduler(0.04, 0.4, EPOCHS, NITER)
    mom = cosine_scheduler(0.996, 1.0, EPOCHS, NITER)
    arrays["schedule.lr"] = lr.astype(np.float64)
    arrays["schedule.wd"] = wd.astype(np.float64)
    arrays["schedule.momentum"] = mom.astype(np.float64)

    # ---- EMA ----
    gen = torch.Generator().manual_seed(2)
    ema_teacher = torch.randn(5, 7, generator=gen)
    ema_student = torch.randn(5, 7, generator=gen)
    m = mom[9]  # a numpy float64, as the training loop indexes its schedule
    after = ema_teacher.clone()
    after.mul_(m).add_((1 - m) * ema_student.detach())
    ref = ema_teacher.numpy() * np.float32(m) + np.float32(1 - m) * ema_student.numpy()
    assert np.array_equal(ref.astype(np.float32), after.numpy()), "EMA rounding differs from f32(m), f32(1-m)"
    arrays["ema.teacher"] = f32(ema_teacher)
    arrays["ema.student"] = f32(ema_student)
    arrays["ema.momentum"] = np.array([m], dtype=np.float64)
    arrays["ema.after"] = f32(after)

    # ---- per-tensor gradient clipping ----
    gen = torch.Generator().manual_seed(3)
    g0 = torch.randn(4, 5, generator=gen)
    g0 = g0 * (10.0 / g0.norm())
    g1 = torch.randn(6, generator=gen)
    g1 = g1 * (1.0 / g1.norm())
    c0, c1 = clip_tensor_grad(g0, CLIP), clip_tensor_grad(g1, CLIP)
    assert not torch.equal(c0, g0) and torch.equal(c1, g1)
    arrays["clip.in.0"], arrays["clip.in.1"] = f32(g0), f32(g1)
    arrays["clip.out.0"], arrays["clip.out.1"] = f32(c0), f32(c1)

    metadata = {
        "in_dim": str(IN_DIM), "hidden_dim": str(HIDDEN), "bottleneck_dim": str(BOTTLENECK),
        "out_dim": str(OUT_DIM), "batch": str(B), "ncrops": str(V), "global_crops": str(GLOBALS),
        "student_temp": repr(STUDENT_TEMP), "teacher_temp": repr(TEACHER_TEMP),
        "center_momentum": repr(CENTER_MOMENTUM), "loss_terms": str(terms),
        "rows": "view-major: row v*B + b",
        "mlp_init": "dino (trunc-normal 0.02, zero bias)" if dino_init else "N(0, 1/fan_in) weights, N(0, 0.01) biases",
        "gelu": "exact (erf)", "l2_normalize_eps": "1e-12", "weight_norm": "dim 0, g frozen at 1",
        "warmup_teacher_temp": "0.04", "warmup_final_teacher_temp": "0.07",
        "warmup_teacher_temp_epochs": "3", "warmup_nepochs": "5", "warmup_epoch": "1",
        "schedule_epochs": str(EPOCHS), "schedule_niter_per_ep": str(NITER),
        "lr_base": repr(5e-4 * 32 / 256.0), "lr_final": "1e-06", "lr_warmup_epochs": "2",
        "lr_start_warmup_value": "0", "wd_base": "0.04", "wd_final": "0.4",
        "momentum_base": "0.996", "momentum_final": "1", "ema_momentum_index": "9",
        "ema_rounding": "after = teacher*f32(m) + f32(1-m)*student in float32",
        "clip": repr(CLIP), "clip_eps": "1e-6",
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_safetensors(arrays, OUT, metadata)

    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    print(f"  loss {loss.item():.8f}  loss.warmup_epoch1 {loss_w.item():.8f}  terms {terms}")
    print(f"  max |output(tanh GELU) - output(erf GELU)| = {tanh_gap:.3g}")
    for k in sorted(arrays):
        print(f"  {k:32s} {str(arrays[k].dtype):8s} {list(arrays[k].shape)}")


if __name__ == "__main__":
    main()

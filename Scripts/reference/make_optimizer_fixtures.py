#!/usr/bin/env python3
"""Reference optimizer trajectories for the Training library (torch.optim, single-tensor path).

A small problem with 1-D, 2-D and "embedding" parameters is trained for 20 steps by several
optimizer/schedule combinations. The Swift tests feed the recorded gradients of each step to their
own optimizer (so the forward pass need not be reproduced) and compare the parameters after every
step with PyTorch's.

Problem: pos_embed [1,3], fc1.weight [4,3], fc1.bias [4], fc2.weight [2,4], fc2.bias [2];
  out = fc2(tanh(fc1(x + pos_embed))), loss = mean((out - y)^2), x [6,3], y [6,2] fixed (seed 0).
Iteration k runs at epoch k / 4 (4 iterations per epoch, 5 epochs).

Runs (group "decay" = parameters with >= 2 dims, "no_decay" = the rest):
  adamw_amsgrad  AdamW(betas (0.9, 0.999), eps 1e-8, amsgrad), wd 0.05 decay / 0 no_decay,
                 steps_with_relative_lrs base 0.05, steps [0, 2, 4], lrs [1, 0.1, 0.01];
                 gradients clipped with clip_grad_norm_(max_norm 0.5) before each step
  adamw          AdamW(amsgrad False), same groups, no_decay at 0.5x the lr; linear warm-up over
                 1 epoch from 0.001 into cosine(base 0.05, end 0.0005, max epoch 5)
  sgd_momentum   SGD(momentum 0.9, wd 1e-4), steps base 0.1, steps [0, 2, 4], lrs [1, 0.1, 0.01]
  sgd_nesterov   SGD(momentum 0.9, nesterov, wd 1e-4), warm-up 1 epoch from 0.01 into
                 cosine(base 0.1, end 0.001, max epoch 5)
  sgd_dampening  SGD(momentum 0.9, dampening 0.1, wd 0), constant lr 0.1

Writes Tests/TrainingTests/Fixtures/optim/optimizer_trajectories.safetensors with
  init.<key>                     initial parameters
  <run>.lr                       F64 [20] scheduled (base) lr of each step
  <run>.grad.<k>.<key>           raw gradient at step k (before clipping)
  <run>.param.<k>.<key>          parameter after step k
  <run>.grad_norm                [20] total norm returned by clip_grad_norm_ (adamw_amsgrad only)
  <run>.state.<key>.<name>       optimizer state after the last step (exp_avg, exp_avg_sq,
                                 max_exp_avg_sq, step / momentum_buffer), named as in PyTorch
  clip.grads.<i>                 three gradient tensors for clip_grad_norm_
  clip.<case>.{max_norm,norm_type,total,grad.<i>} for cases l2, l2_noclip, l1, l3, inf

Usage:  python3 Scripts/reference/make_optimizer_fixtures.py   (torch, safetensors)
"""
import math
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures",
                   "optim", "optimizer_trajectories.safetensors")
STEPS = 20
ITERS_PER_EPOCH = 4


# SlowFast slowfast/utils/lr_policy.py, restated.
def steps_with_relative_lrs(base, steps, lrs, max_epoch):
    def f(epoch):
        bounds = steps + [max_epoch]
        for ind, step in enumerate(bounds):
            if epoch < step:
                break
        return lrs[ind - 1] * base
    return f


def cosine(base, end, max_epoch, offset=0.0):
    return lambda epoch: end + (base - end) * (math.cos(math.pi * (epoch - offset) / (max_epoch - offset)) + 1.0) * 0.5


def warmup(schedule, epochs, start):
    def f(epoch):
        if epoch < epochs:
            alpha = (schedule(epochs) - start) / epochs
            return epoch * alpha + start
        return schedule(epoch)
    return f


def constant(value):
    return lambda epoch: value


def initial_parameters():
    g = torch.Generator().manual_seed(0)
    shapes = [("pos_embed", [1, 3]), ("fc1.weight", [4, 3]), ("fc1.bias", [4]),
              ("fc2.weight", [2, 4]), ("fc2.bias", [2])]
    params = {k: (torch.randn(s, generator=g) * 0.5) for k, s in shapes}
    x = torch.randn(6, 3, generator=g)
    y = torch.randn(6, 2, generator=g)
    return params, x, y


def loss_fn(p, x, y):
    h = torch.tanh((x + p["pos_embed"]) @ p["fc1.weight"].T + p["fc1.bias"])
    out = h @ p["fc2.weight"].T + p["fc2.bias"]
    return ((out - y) ** 2).mean()


def run(name, init, x, y, make_optimizer, schedule, scales, clip, out):
    params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    decay = [v for v in params.values() if v.dim() >= 2]
    no_decay = [v for v in params.values() if v.dim() < 2]
    opt = make_optimizer(decay, no_decay)
    lrs, norms = [], []
    for k in range(STEPS):
        lr = schedule(k / ITERS_PER_EPOCH)
        lrs.append(lr)
        for group, scale in zip(opt.param_groups, scales):
            group["lr"] = lr * scale
        opt.zero_grad()
        loss_fn(params, x, y).backward()
        for key, v in params.items():
            out[f"{name}.grad.{k}.{key}"] = v.grad.detach().clone()
        if clip is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(list(params.values()), clip).item())
        opt.step()
        for key, v in params.items():
            out[f"{name}.param.{k}.{key}"] = v.detach().clone()
    out[f"{name}.lr"] = torch.tensor(lrs, dtype=torch.float64)
    if clip is not None:
        out[f"{name}.grad_norm"] = torch.tensor(norms, dtype=torch.float32)
    for key, v in params.items():
        for state_name, value in opt.state[v].items():
            out[f"{name}.state.{key}.{state_name}"] = value.detach().clone().float().reshape(value.shape)


def adamw(amsgrad):
    def make(decay, no_decay):
        return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                  {"params": no_decay, "weight_decay": 0.0}],
                                 lr=1.0, betas=(0.9, 0.999), eps=1e-8, amsgrad=amsgrad, foreach=False)
    return make


def sgd(nesterov=False, dampening=0.0, weight_decay=1e-4):
    def make(decay, no_decay):
        return torch.optim.SGD([{"params": decay}, {"params": no_decay}], lr=1.0, momentum=0.9,
                               dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                               foreach=False)
    return make


def clip_cases(out):
    g = torch.Generator().manual_seed(1)
    grads = [torch.randn(3, 4, generator=g), torch.randn(5, generator=g) * 0.1,
             torch.randn(2, 2, 2, generator=g) * 2.0]
    for i, t in enumerate(grads):
        out[f"clip.grads.{i}"] = t.clone()
    cases = {"l2": (1.0, 2.0), "l2_noclip": (100.0, 2.0), "l1": (2.0, 1.0), "l3": (1.0, 3.0),
             "inf": (0.5, math.inf)}
    for case, (max_norm, norm_type) in cases.items():
        ps = [torch.zeros_like(t, requires_grad=True) for t in grads]
        for p, t in zip(ps, grads):
            p.grad = t.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        out[f"clip.{case}.max_norm"] = torch.tensor([max_norm])
        out[f"clip.{case}.norm_type"] = torch.tensor([norm_type])
        out[f"clip.{case}.total"] = total.reshape(1).clone()
        for i, p in enumerate(ps):
            out[f"clip.{case}.grad.{i}"] = p.grad.clone()


def main():
    torch.manual_seed(0)
    init, x, y = initial_parameters()
    out = {f"init.{k}": v.clone() for k, v in init.items()}
    steps = steps_with_relative_lrs
    run("adamw_amsgrad", init, x, y, adamw(True), steps(0.05, [0, 2, 4], [1, 0.1, 0.01], 5),
        [1.0, 1.0], 0.5, out)
    run("adamw", init, x, y, adamw(False), warmup(cosine(0.05, 0.0005, 5), 1, 0.001),
        [1.0, 0.5], None, out)
    run("sgd_momentum", init, x, y, sgd(), steps(0.1, [0, 2, 4], [1, 0.1, 0.01], 5),
        [1.0, 1.0], None, out)
    run("sgd_nesterov", init, x, y, sgd(nesterov=True), warmup(cosine(0.1, 0.001, 5), 1, 0.01),
        [1.0, 1.0], None, out)
    run("sgd_dampening", init, x, y, sgd(dampening=0.1, weight_decay=0.0), constant(0.1),
        [1.0, 1.0], None, out)
    clip_cases(out)
    out = {k: v.contiguous() for k, v in out.items()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(out, OUT, metadata={"produced_by": "Scripts/reference/make_optimizer_fixtures.py"})
    print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference learning rates of torch.optim.lr_scheduler.ReduceLROnPlateau (mode "min").

Each case builds SGD over one parameter at `lr`, then calls scheduler.step(metric) once per value
of a fixed metric sequence and records the learning rate after every call. The Swift test
(ScheduleTests, ReduceLROnPlateau golden) feeds the same values to ReduceLROnPlateau and requires
the same rates bit for bit. Values and rates are stored as hexadecimal floats (float.hex()), so
that they round-trip exactly.

Cases:
  iic        IIC's fine-tuning (reference section 3.9): lr 1e-3, factor 0.1, patience 50, min_lr 1e-5,
             threshold 1e-4 rel; 600 noisy losses that flatten out (seed 0)
  short      lr 0.1, factor 0.5, patience 2, threshold 1e-2 rel, min_lr 0.01; a hand-written
             sequence with improvements just above and just below the threshold and an infinity
  cooldown   lr 1.0, factor 0.3, patience 0, cooldown 2, threshold 0.05 abs, min_lr 0.05
  eps        lr 1e-3, factor 0.5, patience 0, min_lr 4e-4, eps 1.5e-4 (the second cut, to
             min_lr, is smaller than eps and skipped)

Writes Tests/TrainingTests/Fixtures/optim/reduce_lr_on_plateau.json.

Usage:  python3 Scripts/reference/make_plateau_fixtures.py   (torch)
"""
import json
import math
import os
import random

import torch


def run(lr, values, **kwargs):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", **kwargs)
    rates = []
    for v in values:
        scheduler.step(v)
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def case(name, lr, values, factor, patience, threshold=1e-4, threshold_mode="rel", cooldown=0,
         min_lr=0.0, eps=1e-8):
    rates = run(lr, values, factor=factor, patience=patience, threshold=threshold,
                threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps)
    return {
        "name": name, "lr": float(lr).hex(), "factor": float(factor).hex(), "patience": patience,
        "threshold": float(threshold).hex(), "threshold_mode": threshold_mode, "cooldown": cooldown,
        "min_lr": float(min_lr).hex(), "eps": float(eps).hex(),
        "values": [float(v).hex() for v in values], "rates": [float(r).hex() for r in rates],
    }


def main():
    rng = random.Random(0)
    iic = [2.0 * math.exp(-k / 30.0) + 0.4 + 0.05 * rng.random() for k in range(600)]
    short = [1.0, 0.995, 0.98, 0.975, 0.97, 0.9, 0.95, 0.95, 0.95, math.inf, 0.85, 0.86, 0.9, 0.9,
             0.9, 0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    cooldown = [1.0, 0.97, 0.96, 0.5, 0.5, 0.5, 0.5, 0.44, 0.43, 0.42, 0.41, 0.40, 0.2, 0.2, 0.2, 0.2, 0.2]
    eps = [1.0, 1.0, 1.0, 1.0]
    cases = [
        case("iic", 1e-3, iic, factor=0.1, patience=50, min_lr=1e-5),
        case("short", 0.1, short, factor=0.5, patience=2, threshold=1e-2, min_lr=0.01),
        case("cooldown", 1.0, cooldown, factor=0.3, patience=0, cooldown=2, threshold=0.05,
             threshold_mode="abs", min_lr=0.05),
        case("eps", 1e-3, eps, factor=0.5, patience=0, min_lr=4e-4, eps=1.5e-4),
    ]
    out = os.path.join(os.path.dirname(__file__), "../../Tests/TrainingTests/Fixtures/optim/reduce_lr_on_plateau.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    for c in cases:
        changes = [i for i in range(1, len(c["rates"])) if c["rates"][i] != c["rates"][i - 1]]
        print(c["name"], "rate changes after observations", changes, "final", float.fromhex(c["rates"][-1]))


if __name__ == "__main__":
    main()

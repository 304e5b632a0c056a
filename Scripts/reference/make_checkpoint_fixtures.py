#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures in Tests/VideoTransformersTests/Fixtures/checkpoints/.

CheckpointImportTests reads them and checks names, shapes and values against the formulas below,
so Swift reads what `torch.save` writes (zip format, the default since PyTorch 1.6).

plain.pth — torch.save(state_dict) of a plain dict, in this order:
  base        float32  [2, 3]  arange(6) * 0.5 - 1
  base_t      float32  [3, 2]  base.t()            (a view: same storage, strides (1, 3))
  base_tail   float32  [3]     base.view(-1)[2:5]  (a view: same storage, offset 2)
  half        float16  [4]     arange(4) * 0.25 + 1
  bf16        bfloat16 [2, 2]  arange(4).reshape(2, 2) - 2
  double      float64  [3]     [0.5, -1.5, 1e10]
  num_batches_tracked  int64 []  7

model.pyth — torch.save({"model_state": sd, "epoch": 3}) where sd is the state_dict() of
  Linear(3, 2) with weight = arange(6).reshape(2, 3) / 4 and bias = [-1, 1], plus an
  nn.Parameter "scale" = [2.0] (pickled through torch._utils._rebuild_parameter).

prefixed.pth — torch.save(OrderedDict) with facebookresearch-style keys:
  model.cls_token  float32 [1, 1, 4]  arange(4)
  model.head.bias  float32 [2]        [0.25, -0.25]

list.pth — torch.save([1, 2, 3]): a valid archive that holds no state dict.

module.pth — torch.save(nn.Linear(2, 2)): a whole pickled module (refers to a torch.nn class).

evil.pth — a zip laid out like torch.save output whose data.pkl is, byte for byte,
  PROTO 2; GLOBAL 'os system'; SHORT_BINUNICODE 'echo owned'; TUPLE1; REDUCE; STOP
  written by hand, so nothing runs here; a loader that executed it would call os.system.

Run from the repository root (needs torch; never needed by the build or tests):
  python3 Scripts/reference/make_checkpoint_fixtures.py
"""

import collections
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parents[2] / "Tests/VideoTransformersTests/Fixtures/checkpoints"


def plain() -> None:
    base = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1
    sd = {
        "base": base,
        "base_t": base.t(),
        "base_tail": base.view(-1)[2:5],
        "half": torch.arange(4, dtype=torch.float16) * 0.25 + 1,
        "bf16": (torch.arange(4).reshape(2, 2) - 2).to(torch.bfloat16),
        "double": torch.tensor([0.5, -1.5, 1e10], dtype=torch.float64),
        "num_batches_tracked": torch.tensor(7, dtype=torch.int64),
    }
    assert not sd["base_t"].is_contiguous()
    torch.save(sd, OUT / "plain.pth")


def model() -> None:
    linear = torch.nn.Linear(3, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4)
        linear.bias.copy_(torch.tensor([-1.0, 1.0]))
    sd = linear.state_dict()
    sd["scale"] = torch.nn.Parameter(torch.tensor([2.0]))
    torch.save({"model_state": sd, "epoch": 3}, OUT / "model.pyth")


def prefixed() -> None:
    sd = collections.OrderedDict()
    sd["model.cls_token"] = torch.arange(4, dtype=torch.float32).reshape(1, 1, 4)
    sd["model.head.bias"] = torch.tensor([0.25, -0.25])
    torch.save(sd, OUT / "prefixed.pth")


def not_state_dicts() -> None:
    torch.save([1, 2, 3], OUT / "list.pth")
    torch.manual_seed(0)
    torch.save(torch.nn.Linear(2, 2), OUT / "module.pth")


def evil() -> None:
    pickle = (
        b"\x80\x02"  # PROTO 2
        + b"cos\nsystem\n"  # GLOBAL os.system
        + b"\x8c\x0aecho owned"  # SHORT_BINUNICODE
        + b"\x85"  # TUPLE1
        + b"R"  # REDUCE
        + b"."  # STOP
    )
    with zipfile.ZipFile(OUT / "evil.pth", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("evil/data.pkl", pickle)
        archive.writestr("evil/byteorder", "little")
        archive.writestr("evil/version", "3\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    plain()
    model()
    prefixed()
    not_state_dicts()
    evil()


if __name__ == "__main__":
    main()

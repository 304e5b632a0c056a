#!/usr/bin/env python3
"""Writes Tests/TensorCoreTests/Fixtures/python_written.safetensors with the reference writer.

SafeTensorsTests.pythonWrittenFixture reads it and checks every name, dtype, shape and value
against the literals below, so Swift reads what PyTorch + safetensors write.

Values (all exactly representable in their dtype, so the Swift test compares exactly):
  f32_arange  F32  [2, 3]     arange(6) * 0.5 - 1
  f32_scalar  F32  []         3.25
  f32_empty   F32  [0, 3]     (no elements)
  f16_values  F16  [8]        1, -2.5, 65504 (max), 2^-14 (min normal), 2^-24 (min subnormal),
                              -0.0, +inf, -inf
  bf16_values BF16 [2, 4]     arange(4) * 0.75 - 1.5, then 3.140625, 2^100, 2^-130, +inf
  f64_values  F64  [3]        0.1, -1e-3, 1e10 (read back rounded to Float32)
  f8_e4m3     F8_E4M3 [4]     0.5, -1.75, 448 (max), 2^-9 (min subnormal)
  f8_e5m2     F8_E5M2 [4]     0.5, -1.75, 57344 (max), 2^-16 (min subnormal)
  i64_labels  I64  [4]        -1, 0, 7, 2^40
  i32_values  I32  [2]        -2^31, 2^31 - 1
  u8_frames   U8   [2, 2, 3]  (arange(12) * 23) % 256
  bool_mask   BOOL [3]        True, False, True
Metadata: {"format": "pt", "produced_by": "Scripts/reference/make_safetensors_fixture.py"}

Run from the repository root (needs torch and safetensors; never needed by the build or tests):
  python3 Scripts/reference/make_safetensors_fixture.py
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[2] / "Tests/TensorCoreTests/Fixtures/python_written.safetensors"


def main() -> None:
    inf = float("inf")
    tensors = {
        "f32_arange": (torch.arange(6, dtype=torch.float32) * 0.5 - 1).reshape(2, 3),
        "f32_scalar": torch.tensor(3.25, dtype=torch.float32),
        "f32_empty": torch.zeros(0, 3, dtype=torch.float32),
        "f16_values": torch.tensor(
            [1.0, -2.5, 65504.0, 2.0**-14, 2.0**-24, -0.0, inf, -inf], dtype=torch.float16
        ),
        "bf16_values": torch.cat(
            [
                torch.arange(4, dtype=torch.float32) * 0.75 - 1.5,
                torch.tensor([3.140625, 2.0**100, 2.0**-130, inf]),
            ]
        )
        .to(torch.bfloat16)
        .reshape(2, 4),
        "f64_values": torch.tensor([0.1, -1e-3, 1e10], dtype=torch.float64),
        "f8_e4m3": torch.tensor([0.5, -1.75, 448.0, 2.0**-9]).to(torch.float8_e4m3fn),
        "f8_e5m2": torch.tensor([0.5, -1.75, 57344.0, 2.0**-16]).to(torch.float8_e5m2),
        "i64_labels": torch.tensor([-1, 0, 7, 2**40], dtype=torch.int64),
        "i32_values": torch.tensor([-(2**31), 2**31 - 1], dtype=torch.int32),
        "u8_frames": ((torch.arange(12) * 23) % 256).to(torch.uint8).reshape(2, 2, 3),
        "bool_mask": torch.tensor([True, False, True]),
    }
    # Guard against a dtype silently rounding one of the documented values.
    assert tensors["bf16_values"].float().flatten().tolist()[4:7] == [3.140625, 2.0**100, 2.0**-130]
    assert tensors["f8_e4m3"].float().tolist() == [0.5, -1.75, 448.0, 2.0**-9]
    assert tensors["f8_e5m2"].float().tolist() == [0.5, -1.75, 57344.0, 2.0**-16]
    metadata = {"format": "pt", "produced_by": "Scripts/reference/make_safetensors_fixture.py"}
    save_file(tensors, str(OUT), metadata=metadata)
    header_length = int.from_bytes(OUT.read_bytes()[:8], "little")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, header {header_length} bytes)")
    print(OUT.read_bytes()[8 : 8 + header_length].decode())


if __name__ == "__main__":
    main()

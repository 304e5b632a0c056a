#!/usr/bin/env python3
"""Checks that Python's safetensors reads Tests/TensorCoreTests/Fixtures/swift_written.safetensors.

The fixture is written by the Swift test SafeTensorsTests.swiftWrittenFixture, which compares its
own output with the committed bytes. Regenerate it from the repository root with
  VIDEOSSL_WRITE_FIXTURES=1 swift test --filter swiftWrittenFixture
then run (needs torch and safetensors; never needed by the build or tests):
  python3 Scripts/reference/check_safetensors_roundtrip.py

Contents, mirrored from the Swift test (StateDictTests.swift, TinyModel and formulaValue):
  the state dict of a TinyModel (cls_token, blocks.{0,1}.{norm1,attn.qkv,attn.proj}.{weight,bias},
  head.{weight,bias}) as F32, where element i of the k-th tensor is float32(sin(i * 0.37 + k));
  frames  U8  [2, 2, 3]  (i * 37) % 256
  labels  I64 [4]        -3, 0, 5, 2^40
  metadata {"format": "pt", "produced_by": "SafeTensorsTests"}
"""

import json
import math
import struct
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

FIXTURE = Path(__file__).resolve().parents[2] / "Tests/TensorCoreTests/Fixtures/swift_written.safetensors"


def expected_parameters() -> list[tuple[str, list[int]]]:
    block = [
        ("norm1.weight", [4]),
        ("norm1.bias", [4]),
        ("attn.qkv.weight", [12, 4]),
        ("attn.qkv.bias", [12]),
        ("attn.proj.weight", [4, 4]),
        ("attn.proj.bias", [4]),
    ]
    keys = [("cls_token", [1, 1, 4])]
    for b in range(2):
        keys += [(f"blocks.{b}.{name}", shape) for name, shape in block]
    return keys + [("head.weight", [3, 4]), ("head.bias", [3])]


def main() -> int:
    tensors = load_file(str(FIXTURE))
    with safe_open(str(FIXTURE), framework="pt") as f:
        metadata = f.metadata()
    raw = FIXTURE.read_bytes()
    header_length = struct.unpack("<Q", raw[:8])[0]
    failures: list[str] = []

    def check(condition: bool, message: str) -> None:
        if not condition:
            failures.append(message)

    check(header_length % 8 == 0, f"header length {header_length} is not a multiple of 8")
    check(metadata == {"format": "pt", "produced_by": "SafeTensorsTests"}, f"metadata {metadata}")

    parameters = expected_parameters()
    expected_names = [name for name, _ in parameters] + ["frames", "labels"]
    check(sorted(tensors) == sorted(expected_names), f"names {sorted(tensors)}")
    header = json.loads(raw[8 : 8 + header_length])
    check([n for n in header if n != "__metadata__"] == expected_names, f"header order {list(header)}")

    exact = total = 0
    worst = 0.0
    for k, (name, shape) in enumerate(parameters):
        t = tensors.get(name)
        if t is None:
            continue
        check(t.dtype == torch.float32 and list(t.shape) == shape, f"{name}: {t.dtype} {list(t.shape)}")
        # math.sin is the C library's sin, as in the Swift test; the tolerance only guards
        # against a last-bit difference between libms.
        want = torch.tensor([math.sin(i * 0.37 + k) for i in range(t.numel())], dtype=torch.float32)
        got = t.flatten()
        exact += int((got == want).sum())
        total += t.numel()
        worst = max(worst, float((got - want).abs().max()))
        check(torch.allclose(got, want, rtol=0, atol=1e-7), f"{name}: values differ from the formula")

    frames = tensors["frames"]
    check(frames.dtype == torch.uint8 and list(frames.shape) == [2, 2, 3], f"frames {frames.dtype} {list(frames.shape)}")
    check(frames.flatten().tolist() == [(i * 37) % 256 for i in range(12)], f"frames {frames.flatten().tolist()}")
    labels = tensors["labels"]
    check(labels.dtype == torch.int64 and labels.tolist() == [-3, 0, 5, 2**40], f"labels {labels}")

    print(f"{FIXTURE.name}: {len(tensors)} tensors, metadata {metadata}")
    print(f"float values equal to the formula bit for bit: {exact}/{total} (max |diff| {worst:.3g})")
    for message in failures:
        print("FAIL:", message)
    print("OK" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

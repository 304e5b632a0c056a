"""Golden fixtures for VideoIO's clip transforms and RandAugment operations.

Writes Tests/VideoIOTests/Fixtures/transforms/transforms.safetensors with:
  resize/<case>/input   f32 [T, C, H, W]   random clip
  resize/<case>/output  f32                F.interpolate(mode, align_corners=False, antialias=False)
  crop/<case>/input, crop/<case>/view{0,1,2}   SlowFast `uniform_crop` (formula restated below)
  ra/image              u8 [H, W, 3]       a small textured RGB image (24 wide, 20 high)
  ra/<Op>/<variant>     u8 [H, W, 3]       timm's op function on that image (Pillow)
  ra/<Op>/<variant>/arg f64 [1]            the argument timm's level function gives
Variants: "pos"/"neg" (sign of the level argument at magnitude 10), "m5.5" (magnitude 5.5, sign +),
and for geometric ops a "_bilinear"/"_bicubic" suffix.

timm's auto_augment.py is loaded by file path so that timm's package import (which wants
torchvision) is not needed.

Requires: torch, numpy, pillow, safetensors, timm (pip install pillow safetensors; pip install --no-deps timm).
Run from the repository root:
    python3 Scripts/reference/make_transform_fixtures.py
"""

import importlib.util
import math
import os
import random

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import save_file

OUT = os.path.join("Tests", "VideoIOTests", "Fixtures", "transforms", "transforms.safetensors")


def load_auto_augment():
    spec = importlib.util.find_spec("timm")
    path = os.path.join(spec.submodule_search_locations[0], "data", "auto_augment.py")
    module_spec = importlib.util.spec_from_file_location("timm_auto_augment", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def resize_cases(rng, arrays):
    cases = {
        "bilinear_down": ((2, 3, 13, 17), (9, 11), "bilinear"),
        "bilinear_up": ((1, 3, 6, 7), (15, 11), "bilinear"),
        "bilinear_short_side": ((2, 3, 10, 14), (7, math.floor(14 / 10 * 7)), "bilinear"),
        "bicubic_down": ((2, 3, 13, 17), (9, 11), "bicubic"),
        "bicubic_up": ((1, 3, 6, 7), (15, 11), "bicubic"),
    }
    for name, (shape, size, mode) in cases.items():
        x = rng.standard_normal(shape).astype(np.float32)
        y = F.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=False, antialias=False)
        arrays[f"resize/{name}/input"] = x
        arrays[f"resize/{name}/output"] = y.numpy().astype(np.float32)


def uniform_crop(images, size, spatial_idx):
    """SlowFast slowfast/datasets/transform.py `uniform_crop` (scale_size None) on [T, C, H, W]."""
    height, width = images.shape[2], images.shape[3]
    y_offset = int(math.ceil((height - size) / 2))
    x_offset = int(math.ceil((width - size) / 2))
    if height > width:
        if spatial_idx == 0:
            y_offset = 0
        elif spatial_idx == 2:
            y_offset = height - size
    else:
        if spatial_idx == 0:
            x_offset = 0
        elif spatial_idx == 2:
            x_offset = width - size
    return images[:, :, y_offset:y_offset + size, x_offset:x_offset + size]


def crop_cases(rng, arrays):
    for name, shape, size in [("landscape", (2, 3, 6, 11), 5), ("portrait", (1, 3, 12, 7), 4), ("square", (1, 1, 6, 6), 3)]:
        x = rng.standard_normal(shape).astype(np.float32)
        arrays[f"crop/{name}/input"] = x
        for idx in range(3):
            arrays[f"crop/{name}/view{idx}"] = np.ascontiguousarray(uniform_crop(x, size, idx))


def textured_image(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([40 + 6 * xx, 60 + 5 * yy, 120 + 3 * (xx - yy)], axis=-1)
    noise = rng.normal(0, 12, (h, w, 3))
    img = base + noise
    img[5:11, 8:15] = [220, 30, 90]
    return np.clip(img, 10, 235).astype(np.uint8)


SIGNED = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel", "ColorIncreasing",
          "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing"}


def randaugment_cases(aa, rng, arrays):
    img_np = textured_image(rng, 20, 24)
    arrays["ra/image"] = img_np
    img = Image.fromarray(img_np)
    hparams = dict(translate_const=100, img_mean=(128, 128, 128))
    resamples = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    for name in sorted(set(aa._RAND_INCREASING_TRANSFORMS) | set(aa._RAND_TRANSFORMS)):
        fn = aa.NAME_TO_OP[name]
        level_fn = aa.LEVEL_TO_ARG[name]
        geometric = name in ("Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel")
        for variant, magnitude, sign_draw in [("pos", 10.0, 0.0), ("neg", 10.0, 1.0), ("m5.5", 5.5, 0.0)]:
            # _randomly_negate negates when random.random() > 0.5; pin that draw.
            saved = random.random
            random.random = lambda: sign_draw
            try:
                args = level_fn(magnitude, hparams) if level_fn is not None else ()
            finally:
                random.random = saved
            if variant == "neg" and name not in SIGNED:
                continue
            arg = np.array([args[0] if args else 0.0], np.float64)
            for rname, resample in (resamples.items() if geometric else [("", None)]):
                kwargs = dict(fillcolor=(128, 128, 128))
                if resample is not None:
                    kwargs["resample"] = resample
                try:
                    out = fn(img, *args, **kwargs)
                except ValueError as error:
                    # Pillow 11+ rejects posterize to 0 bits (older Pillow, as in TIME, gave black);
                    # the Swift side keeps the old behaviour and tests it by hand.
                    print(f"skipped {name} {variant}: {error}")
                    continue
                key = f"ra/{name}/{variant}" + (f"_{rname}" if rname else "")
                arrays[key] = np.asarray(out.convert("RGB"), dtype=np.uint8)
                arrays[key + "/arg"] = arg


def main():
    rng = np.random.default_rng(20240611)
    aa = load_auto_augment()
    arrays = {}
    resize_cases(rng, arrays)
    crop_cases(rng, arrays)
    randaugment_cases(aa, rng, arrays)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(arrays, OUT, metadata={"script": "Scripts/reference/make_transform_fixtures.py",
                                     "torch": torch.__version__, "pillow": Image.__version__})
    print(f"wrote {len(arrays)} arrays to {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()

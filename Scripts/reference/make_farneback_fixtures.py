"""Golden fixtures for VideoIO's Farneback optical flow and TIME flow-direction labels.

Writes Tests/VideoIOTests/Fixtures/farneback/{fixtures.json,fixtures.bin}.

Format: `fixtures.bin` is a concatenation of little-endian arrays; `fixtures.json` names each one
with its dtype ("u8", "i16", "f32"), shape, byte offset and, for quantised flows, the scale that turns
the stored integer back into pixels (flows are stored as int16 in units of 1/1024 px, which is 20x
finer than the tolerance the tests apply).

Frames are a procedurally textured scene (multi-scale smoothed noise plus a few shapes) moved with
sub-pixel affine motion (cv2.warpAffine, bilinear) and a little Gaussian noise, saved as UInt8.
Flows follow TIME's label pipeline exactly: frames normalised as (v/255 - 0.5)/0.5 in float32,
gray = 0.299 R + 0.587 G + 0.114 B, times 128, then cv2.calcOpticalFlowFarneback.

Requires: numpy, opencv-python-headless 4.x. Run from the repository root:
    python3 Scripts/reference/make_farneback_fixtures.py
"""

import json
import os

import cv2
import numpy as np

OUT_DIR = os.path.join("Tests", "VideoIOTests", "Fixtures", "farneback")
FLOW_SCALE = 1.0 / 1024.0
TIME_PARAMS = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2)


def textured_scene(rng, size, channels):
    """A natural-looking texture: octaves of blurred noise plus a few flat shapes."""
    h, w = size
    img = np.zeros((h, w, channels), np.float32)
    for octave, weight in [(1.0, 0.15), (2.0, 0.25), (4.0, 0.35), (9.0, 0.5)]:
        noise = rng.standard_normal((h, w, channels)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), octave).reshape(h, w, channels)
        img += weight * noise / (noise.std() + 1e-6)
    for _ in range(6):
        color = rng.uniform(-1.5, 1.5, channels).tolist() + [0.0] * (4 - channels)
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (cx, cy), int(rng.integers(w // 16, w // 5)), color, -1, cv2.LINE_AA)
        else:
            dx, dy = int(rng.integers(w // 12, w // 4)), int(rng.integers(h // 12, h // 4))
            cv2.rectangle(img, (cx, cy), (cx + dx, cy + dy), color, -1, cv2.LINE_AA)
    img = (img - img.min()) / (img.max() - img.min())
    return img * 220.0 + 18.0


def warp(rng, scene, size, angle, scale, shift, noise):
    """Crops `size` from the centre of `scene` after a sub-pixel affine motion."""
    sh, sw = scene.shape[:2]
    m = cv2.getRotationMatrix2D((sw / 2.0, sh / 2.0), angle, scale)
    m[0, 2] += shift[0]
    m[1, 2] += shift[1]
    moved = cv2.warpAffine(scene, m, (sw, sh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if moved.ndim == 2:
        moved = moved[:, :, None]
    y0, x0 = (sh - size) // 2, (sw - size) // 2
    crop = moved[y0:y0 + size, x0:x0 + size]
    crop = crop + rng.standard_normal(crop.shape).astype(np.float32) * noise
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8)


def gray_x128(rgb_u8):
    """TIME's gray input from a [3, H, W] UInt8 frame, with numpy float32 arithmetic."""
    f = (rgb_u8.astype(np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)
    g = np.float32(0.299) * f[0] + np.float32(0.587) * f[1] + np.float32(0.114) * f[2]
    return g * np.float32(128.0)


def farneback(a, b, flow=None, **overrides):
    params = dict(TIME_PARAMS, flags=0)
    params.update(overrides)
    return cv2.calcOpticalFlowFarneback(a, b, flow, params["pyr_scale"], params["levels"],
                                        params["winsize"], params["iterations"], params["poly_n"],
                                        params["poly_sigma"], params["flags"])


def reference_labels(flow, patch):
    """The TIME dataset code's label pipeline (ssv2_webm.py), for sizes divisible by `patch`."""
    h, w = flow.shape[:2]
    gh, gw = h // patch, w // patch
    pooled = flow[:gh * patch, :gw * patch].reshape(gh, patch, gw, patch, 2)
    pooled = pooled.transpose(4, 0, 2, 1, 3).reshape(2, gh, gw, patch * patch).mean(-1)
    mag, ang = cv2.cartToPolar(pooled[0], pooled[1])
    ang = ang * 180 / np.pi
    moving = cv2.normalize(mag, None, 0, 100, cv2.NORM_MINMAX).reshape(-1) // 1 > 0
    return ((np.clip(ang // 45, 0, 7) + 1).reshape(-1) * moving).astype(np.int16)


class Writer:
    def __init__(self):
        self.blob = bytearray()
        self.arrays = {}

    def add(self, name, array, dtype, scale=None):
        data = np.ascontiguousarray(array)
        if dtype == "i16" and scale is not None:
            data = np.clip(np.rint(data / scale), -32768, 32767)
        data = data.astype({"u8": "<u1", "i16": "<i2", "f32": "<f4"}[dtype])
        entry = {"dtype": dtype, "shape": list(data.shape), "offset": len(self.blob)}
        if scale is not None:
            entry["scale"] = scale
        self.arrays[name] = entry
        self.blob += data.tobytes()


def main():
    rng = np.random.default_rng(20220717)
    out = Writer()

    # 112x112 RGB clip of 4 frames: two affine (zoom + rotation + translation) steps, then a pure
    # sub-pixel rightward shift of 1.5 px.
    scene = textured_scene(rng, (160, 160), 3)
    motions = [(0.0, 1.0, (0.0, 0.0)), (1.5, 1.02, (1.3, -0.7)), (3.5, 1.05, (2.1, 0.4)),
               (3.5, 1.05, (3.6, 0.4))]
    clip = np.stack([warp(rng, scene, 112, a, s, t, 1.0).transpose(2, 0, 1) for a, s, t in motions])
    gray = [gray_x128(f) for f in clip]
    flows = np.stack([farneback(gray[t], gray[t + 1]) for t in range(3)])
    out.add("clip112", clip, "u8")
    out.add("flow112", flows, "i16", FLOW_SCALE)
    out.add("labels112_p16", np.stack([reference_labels(f, 16) for f in flows]), "i16")
    out.add("labels112_p8", np.stack([reference_labels(f, 8) for f in flows]), "i16")

    # Gaussian window on pair 0, and a constant initial flow (OPTFLOW_USE_INITIAL_FLOW) on pair 1.
    out.add("flow112_gaussian", farneback(gray[0], gray[1], flags=cv2.OPTFLOW_FARNEBACK_GAUSSIAN),
            "i16", FLOW_SCALE)
    init = np.empty((112, 112, 2), np.float32)
    init[..., 0], init[..., 1] = 0.75, -0.5
    out.add("flow112_initial", farneback(gray[1], gray[2], init.copy(), flags=cv2.OPTFLOW_USE_INITIAL_FLOW),
            "i16", FLOW_SCALE)

    # Odd size (pyramid sizes round, non-2x resizes) and non-default parameters, Gaussian window.
    a, b = np.ascontiguousarray(gray[0][:101, :90]), np.ascontiguousarray(gray[1][:101, :90])
    odd = farneback(a, b, pyr_scale=0.6, levels=4, winsize=9, iterations=2, poly_n=7, poly_sigma=1.5,
                    flags=cv2.OPTFLOW_FARNEBACK_GAUSSIAN)
    out.add("flow_odd_101x90", odd, "i16", FLOW_SCALE)

    # 224x224 pair; gray frames stored as one channel, the clip repeats it to RGB.
    scene = textured_scene(rng, (300, 300), 1)
    frames = [warp(rng, scene, 224, a, s, t, 1.0)[:, :, 0] for a, s, t in
              [(0.0, 1.0, (0.0, 0.0)), (-2.0, 0.97, (-1.8, 2.6))]]
    frames = np.stack(frames)
    gray224 = [gray_x128(np.stack([f, f, f])) for f in frames]
    flow224 = farneback(gray224[0], gray224[1])[None]
    out.add("gray224", frames, "u8")
    out.add("flow224", flow224, "i16", FLOW_SCALE)
    out.add("labels224_p16", reference_labels(flow224[0], 16)[None], "i16")

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "fixtures.bin"), "wb") as f:
        f.write(bytes(out.blob))
    meta = {"generator": "Scripts/reference/make_farneback_fixtures.py",
            "opencv": cv2.__version__, "arrays": out.arrays}
    with open(os.path.join(OUT_DIR, "fixtures.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out.blob)} bytes, opencv {cv2.__version__}")
    for t in range(3):
        print("pair", t, "labels p16", np.bincount(reference_labels(flows[t], 16), minlength=9))


if __name__ == "__main__":
    main()

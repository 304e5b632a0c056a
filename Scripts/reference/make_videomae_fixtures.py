#!/usr/bin/env python3
"""Golden values for VideoSSL's VideoMAE / VideoMS pre-training: tiny model, masks, targets, loss, gradients.

Writes Tests/TrainingTests/Fixtures/videomae_golden.safetensors. The model is a re-statement of the
VideoMAE pre-training network (docs/reference/SVT-VideoMS-IIC.md §2.2-2.4, §2.9), at tiny sizes:

  clip [B, 3, T, H, W] (reference layout), ImageNet-normalised; img 32, patch 8, 8 frames, tubelet 2
    -> 4 time slots x 4 x 4 cells = 64 tokens, token index = t'*16 + h*4 + w.
  encoder: Conv3d(3 -> 24, kernel = stride = (2, 8, 8)) -> flatten -> + fixed sinusoid table (dim 24)
    -> keep visible tokens (ascending position) -> 2 pre-norm blocks -> LayerNorm.
  block: x + attn(norm1(x)); x + mlp(norm2(x)); LayerNorm eps 1e-6; MLP fc1 (ratio 4) -> exact (erf)
    GELU -> fc2; attention with `qkv` Linear without bias and its bias assembled as
    cat(q_bias, zeros, v_bias); heads split as reshape(B, N, 3, heads, dim/heads); scale
    (dim/heads)^-0.5 applied to q before q.k; softmax over keys; drop_path 0, no dropout.
  bridge: encoder_to_decoder Linear(24 -> 16, no bias).
  decoder input: cat([bridge(x_vis) + table_dec[visible positions], mask_token + table_dec[target
    positions]]) along tokens, both groups in ascending position order; 1 block (dim 16, 2 heads),
    then LayerNorm and head Linear(16 -> 384) on the last n_target tokens only.
  sinusoid table (not a state-dict entry): angle(p, j) = p / 10000^(2*(j//2)/d) in float64, sin on
    even j, cos on odd j, then float32; 64 rows (dim 24 encoder, dim 16 decoder).

Targets (VideoMAE's engine_for_pretraining): un-normalise (x * std + mean, float32), patchify
  b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2) c with p0 = 2, p1 = p2 = 8, then per token and
  channel (x - mean) / (sqrt(unbiased var) + 1e-6) over the 512 pixels, flattened (p c), channel
  fastest. Un-normalised variant: the same patches without the per-patch normalisation.
Loss: mean squared error over all elements of the [B, n_target, 384] prediction and target.

Masks, drawn from VideoSSL's RandomGenerator (the port in make_svt_view_fixtures.py), one fresh
generator per case, samples b = 0, 1 in order:
  tube:    perm = permutation(16); cells perm[0 ..< int(rho*16)] masked in every time slot.
  random:  perm = permutation(64); tokens perm[0 ..< int(rho*64)] masked.
  motion-centric (VideoMS mcm_step): e = patch embedding [B, 64, C] (no table, no grad) viewed
    [B, 4, 16, C]; d[t', n] = ||e[t'+1, n] - e[t', n]||_2 (t' = 0..2); importance = [d[0], d[0], d[1],
    d[2]] flattened [B, 64]; order = stable descending sort (ties: lower index first); candidates =
    order[0 ..< K], K = int((1 - rho_mc)*64) = 19; per sample perm = permutation(K); visible =
    candidates[perm[0 ..< n_vis]], n_vis = int((1 - rho)*64) = 6; targets = candidates[perm[n_vis ..< K]].

Keys (float32 unless noted):
  weights under the reference state-dict names (mask_token, encoder.*, decoder.*, encoder_to_decoder.weight)
  table.encoder [64, 24], table.decoder [64, 16]
  input.clip [2, 3, 8, 32, 32]; input.mask uint8 [2, 64] (1 = masked; = mask.tube.75)
  output.encoder [2, 16, 24]; output.decoder [2, 48, 384]; output.target [2, 48, 384];
  loss [1]; grad.<name> for GRAD_NAMES
  mask.tube.{75,90,50}, mask.random.{75,90} uint8 [2, 64] (1 = masked)
  mcm.importance [2, 64]; mcm.order int64 [2, 64] (the stable descending order); mcm.visible uint8
  [2, 64] (1 = visible); mcm.target uint8 [2, 64] (1 = reconstruction target); mcm.decoder [2, 13, 384];
  mcm.target_pixels [2, 13, 384]; mcm.loss [1]

Requires: torch, numpy, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_videomae_fixtures.py
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_svt_view_fixtures import RandomGenerator  # noqa: E402

OUT = os.path.join("Tests", "TrainingTests", "Fixtures", "videomae_golden.safetensors")

IMG, PATCH, FRAMES, TUBELET = 32, 8, 8, 2
ENC_DIM, ENC_DEPTH, ENC_HEADS = 24, 2, 2
DEC_DIM, DEC_DEPTH, DEC_HEADS = 16, 1, 2
MLP_RATIO, EPS = 4, 1e-6
BATCH = 2
WEIGHT_SEED, NOISE_SEED, CLIP_SEED, MASK_SEED = 0, 1, 2, 3
NOISE_STD = 0.05
TUBE_RATIOS = (0.75, 0.9, 0.5)
RANDOM_RATIOS = (0.75, 0.9)
MC_RATIO, MC_MASK_RATIO = 0.7, 0.9
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
GRAD_NAMES = ["encoder.patch_embed.proj.weight", "encoder.blocks.0.attn.q_bias", "encoder.blocks.0.attn.v_bias",
              "encoder.blocks.1.mlp.fc2.weight", "encoder_to_decoder.weight", "mask_token",
              "decoder.blocks.0.attn.qkv.weight", "decoder.head.weight", "decoder.head.bias"]


# ----------------------------------------------------------------------------------------------
# Model

def sinusoid_table(n_position, dim):
    """Fixed 1-D sin-cos table [n_position, dim]: float64 angles, rounded to float32 at the end."""
    rows = [[p / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for p in range(n_position)]
    table = np.array(rows)
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.tensor(table, dtype=torch.float32)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias, requires_grad=False), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        weights = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, n, -1))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, ratio=MLP_RATIO):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, int(dim * ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch=PATCH, tubelet=TUBELET):
        super().__init__()
        self.proj = nn.Conv3d(3, dim, kernel_size=(tubelet, patch, patch), stride=(tubelet, patch, patch))

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Encoder(nn.Module):
    def __init__(self, dim, depth, heads, tokens, patch=PATCH):
        super().__init__()
        self.patch_embed = PatchEmbed(dim, patch=patch)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.register_buffer("table", sinusoid_table(tokens, dim), persistent=False)

    def forward(self, x, visible, embedded=None):
        x = (self.patch_embed(x) if embedded is None else embedded) + self.table
        b, _, c = x.shape
        x = x[visible].reshape(b, -1, c)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


class Decoder(nn.Module):
    def __init__(self, dim, depth, heads, out_dim):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, x, n_target):
        for blk in self.blocks:
            x = blk(x)
        if n_target > 0:
            return self.head(self.norm(x[:, -n_target:]))
        return self.head(self.norm(x))  # the reference's path without targets: every token


class PretrainModel(nn.Module):
    """VideoMAE's pre-training network; `forward(clip, visible, target)` with bool [B, N] selections."""

    def __init__(self, img=IMG, frames=FRAMES, enc=(ENC_DIM, ENC_DEPTH, ENC_HEADS), dec=(DEC_DIM, DEC_DEPTH, DEC_HEADS),
                 patch=PATCH):
        super().__init__()
        self.tokens = (img // patch) ** 2 * (frames // TUBELET)
        self.slots = frames // TUBELET
        # Registration order as the reference's: mask_token ends first in state_dict() (own parameter).
        self.encoder = Encoder(*enc, self.tokens, patch=patch)
        self.decoder = Decoder(*dec, 3 * TUBELET * patch * patch)
        self.encoder_to_decoder = nn.Linear(enc[0], dec[0], bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec[0]))
        self.register_buffer("table", sinusoid_table(self.tokens, dec[0]), persistent=False)

    def reference_init(self):
        """The reference's start: Xavier-uniform Linears with zero bias inside encoder and decoder, LayerNorm
        1/0, PyTorch defaults for the Conv3d and encoder_to_decoder, mask_token trunc-normal std 0.02 cut
        at +-0.02."""
        for part in (self.encoder, self.decoder):
            for m in part.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.mask_token, std=0.02, a=-0.02, b=0.02)

    def forward(self, clip, visible, target, embedded=None):
        x = self.encoder_to_decoder(self.encoder(clip, visible, embedded))
        b, _, c = x.shape
        table = self.table.expand(b, -1, -1)
        n_target = int(target[0].sum())
        full = torch.cat([x + table[visible].reshape(b, -1, c),
                          self.mask_token + table[target].reshape(b, n_target, c)], dim=1)
        return self.decoder(full, n_target)

    def motion_forward(self, clip, shuffle, mc_ratio=None, ratio=None):
        """VideoMS's pre-training forward: one patch embedding serves the motion signal and the encoder.
        Returns (prediction for the targets, visible, target, importance, order)."""
        embedded = self.encoder.patch_embed(clip)
        importance = self.importance(embedded)
        visible, target, order = motion_selection(importance, shuffle, mc_ratio or MC_RATIO, ratio or MC_MASK_RATIO)
        return self(clip, visible, target, embedded), visible, target, importance, order

    @torch.no_grad()
    def importance(self, embedded):
        """VideoMS's motion signal from the patch embedding [B, N, C] (detached, before the table): distance of
        temporally adjacent embeddings at the same cell, the first slot reusing the first distance."""
        e = embedded.detach()
        b, n, c = e.shape
        e = e.reshape(b, self.slots, n // self.slots, c)
        d = torch.linalg.vector_norm(e[:, 1:] - e[:, :-1], ord=2, dim=3)
        return torch.cat((d[:, 0], d.flatten(1)), dim=1)


def patch_targets(clip, normalise, patch=PATCH):
    """engine_for_pretraining's labels for every token: [B, N, 384], (p0 p1 p2 c) with c fastest."""
    mean = torch.as_tensor(MEAN)[None, :, None, None, None]
    std = torch.as_tensor(STD)[None, :, None, None, None]
    x = clip * std + mean
    b, c, t, h, w = x.shape
    x = x.reshape(b, c, t // TUBELET, TUBELET, h // patch, patch, w // patch, patch)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(b, -1, TUBELET * patch * patch, c)
    if normalise:
        x = (x - x.mean(dim=-2, keepdim=True)) / (x.var(dim=-2, unbiased=True, keepdim=True).sqrt() + 1e-6)
    return x.reshape(b, x.shape[1], -1)


# ----------------------------------------------------------------------------------------------
# Masks

def tube_mask(rng, batch, ratio, slots, cells):
    masked = int(ratio * cells)
    mask = torch.zeros(batch, slots * cells, dtype=torch.bool)
    for b in range(batch):
        perm = rng.permutation(cells)
        for t in range(slots):
            for cell in perm[:masked]:
                mask[b, t * cells + cell] = True
    return mask


def random_mask(rng, batch, ratio, tokens):
    masked = int(ratio * tokens)
    mask = torch.zeros(batch, tokens, dtype=torch.bool)
    for b in range(batch):
        mask[b, rng.permutation(tokens)[:masked]] = True
    return mask


def motion_counts(tokens, mc_ratio=MC_RATIO, ratio=MC_MASK_RATIO):
    return int((1 - mc_ratio) * tokens), int((1 - ratio) * tokens)


def motion_selection(importance, shuffle, mc_ratio=MC_RATIO, ratio=MC_MASK_RATIO):
    """Visible and target selections (bool [B, N]) from the importance; shuffle(b, K) gives a permutation of K."""
    b, n = importance.shape
    keep, n_vis = motion_counts(n, mc_ratio, ratio)
    order = torch.sort(importance, dim=1, descending=True, stable=True).indices
    visible = torch.zeros(b, n, dtype=torch.bool)
    target = torch.zeros(b, n, dtype=torch.bool)
    for i in range(b):
        candidates = order[i, :keep]
        perm = torch.as_tensor(shuffle(i, keep))
        visible[i, candidates[perm[:n_vis]]] = True
        target[i, candidates[perm[n_vis:]]] = True
    return visible, target, order


# ----------------------------------------------------------------------------------------------
# Fixture

def build_model():
    """The tiny model with the fixture's weights: reference start from WEIGHT_SEED, then N(0, 0.05) noise on
    every bias, q_bias, v_bias, LayerNorm weight and bias and the mask_token (in state_dict order)."""
    torch.manual_seed(WEIGHT_SEED)
    model = PretrainModel()
    model.reference_init()
    noise = torch.Generator().manual_seed(NOISE_SEED)
    norms = {name for name, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = name.rsplit(".", 1)[0]
            if name.endswith(("bias", "q_bias", "v_bias")) or owner in norms or name == "mask_token":
                p.add_(torch.randn(p.shape, generator=noise) * NOISE_STD)
    return model


def make_clip(seed=CLIP_SEED, batch=BATCH):
    raw = torch.rand(batch, 3, FRAMES, IMG, IMG, generator=torch.Generator().manual_seed(seed))
    mean = torch.as_tensor(MEAN)[None, :, None, None, None]
    std = torch.as_tensor(STD)[None, :, None, None, None]
    return (raw - mean) / std


def to_u8(mask):
    return mask.numpy().astype(np.uint8)


def save_safetensors(arrays, path, metadata):
    """Writes a safetensors file with keys in sorted order, so reruns give identical bytes."""
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
              np.dtype(np.uint8): "U8"}
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
    assert sorted(back) == sorted(arrays) and all(np.array_equal(back[k], arrays[k]) for k in arrays)


def main():
    torch.set_num_threads(1)
    slots, cells = FRAMES // TUBELET, (IMG // PATCH) ** 2
    tokens = slots * cells

    rng = RandomGenerator(MASK_SEED)
    firsts = [rng.next() for _ in range(3)]
    print(f"RandomGenerator(seed: {MASK_SEED}) first next(): " + ", ".join(str(v) for v in firsts)
          + "  (" + ", ".join(f"0x{v:016X}" for v in firsts) + ")")
    keep, n_vis = motion_counts(tokens)
    print(f"int((1 - {MC_RATIO}) * {tokens}) = {keep}  ((1 - {MC_RATIO}) * {tokens} = {(1 - MC_RATIO) * tokens!r}); "
          f"int((1 - {MC_MASK_RATIO}) * {tokens}) = {n_vis}  ({(1 - MC_MASK_RATIO) * tokens!r})")
    assert (keep, n_vis) == (19, 6)

    model = build_model()
    arrays = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    arrays["table.encoder"] = model.encoder.table.numpy().copy()
    arrays["table.decoder"] = model.table.numpy().copy()
    clip = make_clip()
    arrays["input.clip"] = clip.numpy()

    # Masks.
    for ratio in TUBE_RATIOS:
        m = tube_mask(RandomGenerator(MASK_SEED), BATCH, ratio, slots, cells)
        assert (m.sum(1) == slots * int(ratio * cells)).all()
        arrays[f"mask.tube.{round(ratio * 100)}"] = to_u8(m)
    for ratio in RANDOM_RATIOS:
        m = random_mask(RandomGenerator(MASK_SEED), BATCH, ratio, tokens)
        assert (m.sum(1) == int(ratio * tokens)).all()
        arrays[f"mask.random.{round(ratio * 100)}"] = to_u8(m)
    mask = torch.from_numpy(arrays["mask.tube.75"]).bool()
    assert (mask.sum(1) == 48).all()
    arrays["input.mask"] = to_u8(mask)

    # Tube-masked forward, targets, loss and gradients.
    n_masked = int(mask[0].sum())
    encoded = model.encoder(clip, ~mask)
    arrays["output.encoder"] = encoded.detach().numpy()
    prediction = model(clip, ~mask, mask)
    with torch.no_grad():
        target = patch_targets(clip, True)[mask].reshape(BATCH, n_masked, -1)
        plain = patch_targets(clip, False)[mask].reshape(BATCH, n_masked, -1)
    loss = F.mse_loss(prediction, target)
    loss.backward()
    params = dict(model.named_parameters())
    arrays["output.decoder"] = prediction.detach().numpy()
    arrays["output.target"] = target.numpy()
    arrays["loss"] = np.array([loss.item()], dtype=np.float32)
    for name in GRAD_NAMES:
        arrays[f"grad.{name}"] = params[name].grad.numpy().copy()
    model.zero_grad(set_to_none=True)

    # Motion-centric selection and its forward.
    rng = RandomGenerator(MASK_SEED)
    with torch.no_grad():
        mc_prediction, visible, target_sel, importance, order = model.motion_forward(clip, lambda b, k: rng.permutation(k))
        assert (visible.sum(1) == n_vis).all() and (target_sel.sum(1) == keep - n_vis).all()
        assert not (visible & target_sel).any()
        mc_target = patch_targets(clip, True)[target_sel].reshape(BATCH, keep - n_vis, -1)
        mc_loss = F.mse_loss(mc_prediction, mc_target)
    arrays["mcm.importance"] = importance.numpy()
    arrays["mcm.order"] = order.numpy().astype(np.int64)
    arrays["mcm.visible"] = to_u8(visible)
    arrays["mcm.target"] = to_u8(target_sel)
    arrays["mcm.decoder"] = mc_prediction.numpy()
    arrays["mcm.target_pixels"] = mc_target.numpy()
    arrays["mcm.loss"] = np.array([mc_loss.item()], dtype=np.float32)

    metadata = {
        "img_size": str(IMG), "patch_size": str(PATCH), "num_frames": str(FRAMES), "tubelet_size": str(TUBELET),
        "tokens": f"{tokens} = {slots} slots x {cells} cells; index = t'*{cells} + h*{IMG // PATCH} + w",
        "encoder": f"dim {ENC_DIM}, depth {ENC_DEPTH}, heads {ENC_HEADS}, mlp_ratio {MLP_RATIO}",
        "decoder": f"dim {DEC_DIM}, depth {DEC_DEPTH}, heads {DEC_HEADS}, mlp_ratio {MLP_RATIO}, head 16 -> {3 * TUBELET * PATCH * PATCH}",
        "layer_norm_eps": "1e-6", "gelu": "exact (erf)", "drop_path": "0",
        "qkv_bias": "qkv Linear without bias; bias = cat(q_bias, zeros, v_bias)",
        "attention": "reshape(B, N, 3, heads, dim/heads).permute(2, 0, 3, 1, 4); q * (dim/heads)^-0.5; softmax(q k^T) v",
        "table": "angle(p, j) = p / 10000^(2*(j//2)/d) float64; sin even j, cos odd j; float32; not in the state dict",
        "decoder_input": "cat([e2d(x_vis) + table_dec[visible], mask_token + table_dec[target]]); head on last n_target",
        "clip": f"torch.rand seed {CLIP_SEED} in [0, 1], then (x - mean) / std; layout B,C,T,H,W",
        "mean": ",".join(map(str, MEAN)), "std": ",".join(map(str, STD)),
        "weights": f"torch.manual_seed({WEIGHT_SEED}) reference init (Xavier-uniform Linears, zero bias, LayerNorm 1/0, "
                   "default Conv3d and encoder_to_decoder, mask_token trunc-normal 0.02 cut at +-0.02), then "
                   f"N(0, {NOISE_STD}) noise (generator seed {NOISE_SEED}) on every bias, q_bias, v_bias, LayerNorm "
                   "weight/bias and mask_token, in state-dict order",
        "target": "unnormalise x*std+mean; b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2) c, p0=2, p1=p2=16; "
                  "(x - mean) / (sqrt(unbiased var) + 1e-6) over the 512 pixels per token and channel; "
                  "flatten (p c) channel fastest; masked tokens ascending",
        "loss": "mean squared error over all elements",
        "grads": ",".join(GRAD_NAMES) + " (of loss, tube-75 forward)",
        "mask_seed": str(MASK_SEED),
        "rng": "one RandomGenerator(seed: 3) per case; samples b = 0, 1 in order",
        "mask_tube": "per sample perm = permutation(16); cells perm[0 ..< int(rho*16)] masked in all 4 slots "
                     "(token t'*16 + cell); 1 = masked; ratios 0.75 (12 cells), 0.9 (14), 0.5 (8)",
        "mask_random": "per sample perm = permutation(64); perm[0 ..< int(rho*64)] masked; ratios 0.75 (48), 0.9 (57)",
        "input_mask": "mask.tube.75",
        "mcm": f"rho_mc {MC_RATIO}, rho {MC_MASK_RATIO}: K = int((1 - rho_mc)*64) = {keep}, n_vis = int((1 - rho)*64) = {n_vis}, "
               f"targets {keep - n_vis}; importance [d0, d0, d1, d2] with d[t'] = ||e[t'+1] - e[t']||_2 of the patch "
               "embedding (before the table, no grad); order = torch.sort(stable=True, descending=True); per sample "
               "perm = permutation(K); visible = cand[perm[0 ..< n_vis]], target = cand[perm[n_vis ..< K]]",
        "mcm_decoder": "decoder input = visible tokens + mask tokens at the target positions only, both ascending",
        "rng_seed3_first3": ",".join(str(v) for v in firsts),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_safetensors(arrays, OUT, metadata)

    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(arrays)} tensors)")
    for key in sorted(arrays):
        a = arrays[key]
        print(f"  {key:48s} {str(a.dtype):8s} {list(a.shape)}  {a.nbytes} bytes")
    print("loss", float(arrays["loss"][0]), "mcm.loss", float(arrays["mcm.loss"][0]))
    for ratio in TUBE_RATIOS:
        m = arrays[f"mask.tube.{round(ratio * 100)}"]
        print(f"  tube {ratio}: masked cells per sample", [np.nonzero(m[b, :cells])[0].tolist() for b in range(BATCH)])
    for ratio in RANDOM_RATIOS:
        m = arrays[f"mask.random.{round(ratio * 100)}"]
        print(f"  random {ratio}: visible tokens", [np.nonzero(m[b] == 0)[0].tolist() for b in range(BATCH)])
    print("  mcm candidates", [order[b, :keep].tolist() for b in range(BATCH)])
    print("  mcm visible", [np.nonzero(arrays["mcm.visible"][b])[0].tolist() for b in range(BATCH)])
    print("  mcm target", [np.nonzero(arrays["mcm.target"][b])[0].tolist() for b in range(BATCH)])


if __name__ == "__main__":
    main()

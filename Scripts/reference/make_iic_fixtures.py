#!/usr/bin/env python3
"""Golden values for VideoSSL's IIC parts, from a PyTorch / NumPy re-implementation of the released
code (BestJuly/IIC), restated from docs/reference/SVT-VideoMS-IIC.md §3.

Writes three small files:

Tests/TemporalSSLTests/Fixtures/iic_nce.safetensors  (lib/NCEAverage.py, lib/NCECriterion.py,
lib/alias_multinomial.py):
  Alias table (Walker/Vose, float32): p = w / sum(w) if sum(w) > 1; prob[k] = K * p[k]; cells with
  prob < 1 go to `smaller`, the rest to `larger`; while both are non-empty pop the last of each:
  alias[small] = large, prob[large] = (prob[large] - 1) + prob[small], and `large` goes back to
  `smaller` or `larger`; every cell left in either list gets prob 1. Keys alias.<case>.weights,
  alias.<case>.prob (F32), alias.<case>.alias (I64).
  Exact draws with VideoSSL's RandomGenerator (ported below), per draw: k = next_int(K), then
  u = next_uniform_double(), result k if u < prob[k] else alias[k]: alias.<case>.draws (seed 11).
  Statistics: alias.skewed.torch_frequencies, 200000 draws of the reference's own draw
  (torch random_ + bernoulli) normalised to frequencies.
  NCE (softmax): banks memory_l, memory_ab, memory_neg [N, D] (given); features f1, f2, fn [B, D];
  idx [B, K+1] with column 0 = y.
    out_l  = bmm(cat(memory_ab[idx], memory_neg[idx]), f1) / T      [B, 2K+2]
    out_ab = bmm(cat(memory_l[idx],  memory_neg[idx]), f2) / T
    loss = CE(out_l, 0) + CE(out_ab, 0) (batch means); grads of f1, f2 (fn gets none)
    update (no grad): M[y] = normalize(m * M[y] + (1 - m) * f) for (memory_l, f1), (memory_ab, f2),
    (memory_neg, fn). Keys nce.* ; the `ori` variant (no memory_neg, K+1 columns) under ori.*;
  NCE probabilities (softmax False): out = exp(x / T) / Z with Z = mean(exp(x / T)) * N set on the
    first call, criterion -(sum log(P0 / (P0 + m Pn + eps)) + sum log(m Pn / (Pj + m Pn + eps))) / B,
    Pn = 1/N, m = columns - 1, eps = 1e-7: keys prob.*.
  Bank initialisation bound s = 1/sqrt(D/3) in metadata.

Tests/VideoIOTests/Fixtures/iic_inputs.safetensors (train_ssl.py `diff`, ft_classify.py, gen_neg.py,
datasets/ucf101.py UCF101ClipRetrievalDataset):
  clips [B, T, 3, H, W] in [0, 1]; residual.scaled = ((x - roll(x, 1, time)) + 1) / 2 and
  residual.unscaled = x - roll(x, 1, time), computed on the reference layout [B, C, T, H, W].
  Intra-negatives from VideoSSL's generator (seed 5), per sample in batch order:
    repeat: t = next_int(T); every frame is frame t.
    shuffle: i = next_int(4), r = next_int(3), j = (i + r + 1) % 4; chunks i and j of 4 swap.
  neg.repeat, neg.shuffle [B, T, 3, H, W]; neg.repeat.frames, neg.shuffle.frames [B, T] (I64).
  Retrieval clip starts: for frame counts F in centred.frame_counts, L = F - 1,
  starts int(c - 8) for c in np.linspace(8, L - 8, 10): centred.starts [n, 10].

Tests/TrainingTests/Fixtures/iic_retrieval.safetensors (retrieve_clips.py `topk_retrieval`):
  gallery features [Vg*10, C] (10 clips per video, rows video-major), labels, indices; queries
  likewise. Video feature = mean of its clips; distances = 1 - cosine (sklearn's cosine_distances,
  restated in NumPy float64); indices = argsort(distances) (ties absent by construction); hit at k
  when the query label is among the labels of the first k. results.all [5] hits for k = 1, 5, 10,
  20, 50; results.drop_last [5] after dropping each set's trailing videos beyond whole batches of 8.

Tests/VideoTransformersTests/Fixtures/iic_ssl_checkpoint.pth and iic_finetuned.pth: the layouts of
IIC's files with a tiny two-stage R3D-like state dict (IIC's key names, values 0.01 * index): the
self-supervised training checkpoint {opt: argparse.Namespace, model: {module.* keys}, contrast:
{params, memory_l, memory_ab, memory_neg}, optimizer: SGD state_dict, epoch} (train_ssl.py), and
the fine-tuned weights as a flat dict with `linear.*` (ft_classify.py).

Requires: torch, numpy, safetensors.  Run from the repository root:
    python3 Scripts/reference/make_iic_fixtures.py
"""

import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

MASK = (1 << 64) - 1
NCE_OUT = os.path.join("Tests", "TemporalSSLTests", "Fixtures", "iic_nce.safetensors")
INPUTS_OUT = os.path.join("Tests", "VideoIOTests", "Fixtures", "iic_inputs.safetensors")
RETRIEVAL_OUT = os.path.join("Tests", "TrainingTests", "Fixtures", "iic_retrieval.safetensors")
SSL_CKPT_OUT = os.path.join("Tests", "VideoTransformersTests", "Fixtures", "iic_ssl_checkpoint.pth")
FT_CKPT_OUT = os.path.join("Tests", "VideoTransformersTests", "Fixtures", "iic_finetuned.pth")


# TensorCore's RandomGenerator, ported once for every fixture script.
from make_svt_view_fixtures import RandomGenerator  # noqa: E402


def save_safetensors(arrays, path, metadata):
    """Keys in sorted order, so reruns give identical bytes."""
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
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    back = load_file(path)
    assert sorted(back) == sorted(arrays) and all(np.array_equal(back[k], arrays[k]) for k in arrays)


def f32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def i64(x):
    return np.asarray(x, dtype=np.int64)


# ---------------------------------------------------------------- alias method
class AliasTable:
    """The reference's AliasMethod table (float32 tensors) and draw."""

    def __init__(self, probs):
        probs = probs.clone().float()
        if probs.sum() > 1:
            probs.div_(probs.sum())
        k = len(probs)
        self.prob = torch.zeros(k)
        self.alias = torch.zeros(k, dtype=torch.long)
        smaller, larger = [], []
        for kk, p in enumerate(probs):
            self.prob[kk] = k * p
            if self.prob[kk] < 1.0:
                smaller.append(kk)
            else:
                larger.append(kk)
        while len(smaller) > 0 and len(larger) > 0:
            small = smaller.pop()
            large = larger.pop()
            self.alias[small] = large
            self.prob[large] = (self.prob[large] - 1.0) + self.prob[small]
            if self.prob[large] < 1.0:
                smaller.append(large)
            else:
                larger.append(large)
        for last in smaller + larger:
            self.prob[last] = 1

    def draw_torch(self, n, gen):
        k = self.alias.size(0)
        kk = torch.zeros(n, dtype=torch.long).random_(0, k, generator=gen)
        prob = self.prob.index_select(0, kk)
        alias = self.alias.index_select(0, kk)
        b = torch.bernoulli(prob, generator=gen)
        return kk * b.long() + alias * (1 - b).long()

    def draw_ours(self, n, rng):
        out = []
        for _ in range(n):
            k = rng.next_int(len(self.prob))
            u = rng.next_uniform_double()
            out.append(k if u < float(self.prob[k]) else int(self.alias[k]))
        return out


def alias_fixtures(arrays):
    cases = {
        "uniform": torch.ones(37),
        "skewed": torch.tensor([5.0, 1.0, 0.5, 3.0, 0.0, 2.0, 7.5, 1.0]),
    }
    for name, weights in cases.items():
        table = AliasTable(weights)
        arrays[f"alias.{name}.weights"] = f32(weights)
        arrays[f"alias.{name}.prob"] = f32(table.prob)
        arrays[f"alias.{name}.alias"] = i64(table.alias.numpy())
        arrays[f"alias.{name}.draws"] = i64(table.draw_ours(64, RandomGenerator(11)))
    table = AliasTable(cases["skewed"])
    gen = torch.Generator().manual_seed(0)
    draws = table.draw_torch(200000, gen)
    arrays["alias.skewed.torch_frequencies"] = np.bincount(draws.numpy(), minlength=8).astype(np.float64) / 200000


# ---------------------------------------------------------------- NCE with memory banks
N, D, K, B = 11, 6, 5, 3
T, MOMENTUM = 0.07, 0.5


def nce_step(banks, f1, f2, fn, y, idx, use_softmax, z=None):
    """One NCEAverage forward (intra-negatives when fn is given) and the memory update."""
    memory_l, memory_ab, memory_neg = banks
    flat = idx.view(-1)
    w_l = torch.index_select(memory_l, 0, flat).detach().view(B, K + 1, D)
    w_ab = torch.index_select(memory_ab, 0, flat).detach().view(B, K + 1, D)
    if fn is not None:
        w_neg = torch.index_select(memory_neg, 0, flat).detach().view(B, K + 1, D)
        w_l = torch.cat((w_l, w_neg), 1)
        w_ab = torch.cat((w_ab, w_neg), 1)
    out_ab = torch.bmm(w_l, f2.view(B, D, 1))
    out_l = torch.bmm(w_ab, f1.view(B, D, 1))
    if use_softmax:
        out_l, out_ab = torch.div(out_l, T), torch.div(out_ab, T)
    else:
        out_ab = torch.exp(torch.div(out_ab, T))
        out_l = torch.exp(torch.div(out_l, T))
        z_l = out_l.mean().item() * N if z is None else z[0]
        z_ab = out_ab.mean().item() * N if z is None else z[1]
        z = (z_l, z_ab)
        out_l, out_ab = torch.div(out_l, z_l), torch.div(out_ab, z_ab)
    updated = []
    with torch.no_grad():
        for bank, feature in ((memory_l, f1), (memory_ab, f2), (memory_neg, fn)):
            if feature is None:
                updated.append(None)
                continue
            pos = torch.index_select(bank, 0, y.view(-1))
            pos.mul_(MOMENTUM)
            pos.add_(torch.mul(feature, 1 - MOMENTUM))
            norm = pos.pow(2).sum(1, keepdim=True).pow(0.5)
            new = bank.clone()
            new.index_copy_(0, y, pos.div(norm))
            updated.append(new)
    return out_l.squeeze(-1), out_ab.squeeze(-1), updated, z


def nce_softmax_loss(x):
    return F.cross_entropy(x, torch.zeros(x.shape[0], dtype=torch.long))


def nce_criterion(x):
    eps = 1e-7
    bsz = x.shape[0]
    m = x.size(1) - 1
    pn = 1.0 / N
    p_pos = x.select(1, 0)
    ln_pmt = torch.div(p_pos, p_pos.add(m * pn + eps)).log_()
    p_neg = x.narrow(1, 1, m)
    ln_pon = torch.div(p_neg.clone().fill_(m * pn), p_neg.add(m * pn + eps)).log_()
    return -(ln_pmt.sum(0) + ln_pon.view(-1, 1).sum(0)) / bsz


def nce_fixtures(arrays):
    gen = torch.Generator().manual_seed(3)
    s = 1.0 / math.sqrt(D / 3)
    banks = [torch.rand(N, D, generator=gen) * (2 * s) - s for _ in range(3)]
    feats = [torch.randn(B, D, generator=gen) for _ in range(3)]
    y = torch.tensor([4, 0, 9])
    idx = torch.randint(0, N, (B, K + 1), generator=gen)
    idx[:, 0] = y
    for name, bank in zip(("memory_l", "memory_ab", "memory_neg"), banks):
        arrays[f"in.{name}"] = f32(bank)
    for name, feat in zip(("f1", "f2", "fn"), feats):
        arrays[f"in.{name}"] = f32(feat)
    arrays["in.y"] = i64(y.numpy())
    arrays["in.idx"] = i64(idx.numpy())

    for prefix, with_neg, use_softmax in (("nce", True, True), ("ori", False, True), ("prob", True, False)):
        f1, f2, fn = (f.clone().requires_grad_(True) for f in feats)
        out_l, out_ab, updated, z = nce_step(banks, f1, f2, fn if with_neg else None, y, idx, use_softmax)
        criterion = nce_softmax_loss if use_softmax else nce_criterion
        l1, l2 = criterion(out_l), criterion(out_ab)
        (l1 + l2).sum().backward()
        arrays[f"{prefix}.out_l"] = f32(out_l)
        arrays[f"{prefix}.out_ab"] = f32(out_ab)
        arrays[f"{prefix}.loss"] = f32(torch.stack([l1.reshape(()), l2.reshape(())]))
        arrays[f"{prefix}.grad.f1"] = f32(f1.grad)
        arrays[f"{prefix}.grad.f2"] = f32(f2.grad)
        assert fn.grad is None
        arrays[f"{prefix}.after.memory_l"] = f32(updated[0])
        arrays[f"{prefix}.after.memory_ab"] = f32(updated[1])
        if with_neg:
            arrays[f"{prefix}.after.memory_neg"] = f32(updated[2])
        if not use_softmax:
            arrays[f"{prefix}.z"] = np.array(z, dtype=np.float32)


# ---------------------------------------------------------------- inputs
def diff(x):  # x: [B, C, T, H, W]
    return ((x - torch.roll(x, 1, 2)) + 1) / 2


def input_fixtures(arrays):
    gen = torch.Generator().manual_seed(1)
    bsz, frames, h, w = 3, 16, 4, 5
    clips = torch.rand(bsz, frames, 3, h, w, generator=gen)  # our layout
    ref = clips.permute(0, 2, 1, 3, 4)  # the reference's [B, C, T, H, W]
    arrays["clips"] = f32(clips)
    arrays["residual.scaled"] = f32(diff(ref).permute(0, 2, 1, 3, 4))
    arrays["residual.unscaled"] = f32((ref - torch.roll(ref, 1, 2)).permute(0, 2, 1, 3, 4))

    for kind in ("repeat", "shuffle"):
        rng = RandomGenerator(5)
        outs, orders = [], []
        for b in range(bsz):
            one = ref[b]  # [C, T, H, W]
            if kind == "repeat":
                t = rng.next_int(frames)
                new = one[:, t, :, :].unsqueeze(1).repeat(1, frames, 1, 1)
                order = [t] * frames
            else:
                chunks = torch.chunk(one, 4, dim=1)
                order4 = [0, 1, 2, 3]
                i = rng.next_int(4)
                j = (i + rng.next_int(3) + 1) % 4
                order4[i], order4[j] = order4[j], order4[i]
                new = torch.cat([chunks[o] for o in order4], 1)
                size = frames // 4
                order = [order4[c] * size + k for c in range(4) for k in range(size)]
            outs.append(new.permute(1, 0, 2, 3))
            orders.append(order)
        arrays[f"neg.{kind}"] = f32(torch.stack(outs))
        arrays[f"neg.{kind}.frames"] = i64(orders)

    counts = [17, 18, 25, 33, 100, 101, 173]
    starts = []
    for count in counts:
        length = count - 1
        starts.append([int(c - 16 / 2) for c in np.linspace(16 / 2, length - 16 / 2, 10)])
    arrays["centred.frame_counts"] = i64(counts)
    arrays["centred.starts"] = i64(starts)


# ---------------------------------------------------------------- retrieval
def topk_hits(train_x, train_y, test_x, test_y, ks):
    train_x = train_x.mean(1)
    test_x = test_x.mean(1)
    a = test_x / np.linalg.norm(test_x, axis=1, keepdims=True)
    b = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    distances = 1 - a @ b.T
    indices = np.argsort(distances)
    hits = []
    for k in ks:
        correct = 0
        for ind, label in zip(indices[:, :k], test_y):
            if label in train_y[ind]:
                correct += 1
        hits.append(correct)
    return hits


def retrieval_fixtures(arrays):
    rng = np.random.default_rng(3)
    classes, width, clips = 8, 12, 10
    centres = rng.normal(size=(classes, width))
    def make(videos):
        labels = rng.integers(0, classes, size=videos)
        feats = centres[labels][:, None, :] + 5.0 * rng.normal(size=(videos, clips, width))
        return feats.astype(np.float32), labels
    gx, gy = make(43)
    qx, qy = make(19)
    ks = [1, 5, 10, 20, 50]
    for name, x, y in (("gallery", gx, gy), ("queries", qx, qy)):
        arrays[f"{name}.features"] = x.reshape(-1, width)
        arrays[f"{name}.labels"] = i64(np.repeat(y, clips))
        arrays[f"{name}.indices"] = i64(np.repeat(np.arange(len(y)), clips))
    gx64, qx64 = gx.astype(np.float64), qx.astype(np.float64)
    arrays["results.all"] = i64(topk_hits(gx64, gy, qx64, qy, ks))
    gk, qk = len(gy) // 8 * 8, len(qy) // 8 * 8
    arrays["results.drop_last"] = i64(topk_hits(gx64[:gk], gy[:gk], qx64[:qk], qy[:qk], ks))
    arrays["results.ks"] = i64(ks)
    # No near-ties: the gap between consecutive sorted distances stays far above float32 rounding.
    d = 1 - (qx64.mean(1) / np.linalg.norm(qx64.mean(1), axis=1, keepdims=True)) @ (
        gx64.mean(1) / np.linalg.norm(gx64.mean(1), axis=1, keepdims=True)).T
    gaps = np.diff(np.sort(d, axis=1), axis=1)
    assert gaps.min() > 2e-6, gaps.min()


def checkpoint_fixtures():
    import argparse
    shapes = [
        ("conv1.temporal_spatial_conv.weight", (4, 3, 3, 3, 3)),
        ("bn1.weight", (4,)), ("bn1.bias", (4,)), ("bn1.running_mean", (4,)), ("bn1.running_var", (4,)),
        ("bn1.num_batches_tracked", ()),
        ("conv2.block1.conv1.temporal_spatial_conv.weight", (4, 4, 3, 3, 3)),
        ("conv2.block1.bn1.weight", (4,)),
        ("conv3.block1.downsampleconv.temporal_spatial_conv.weight", (8, 4, 1, 1, 1)),
        ("conv3.block1.downsamplebn.running_var", (8,)),
    ]
    model = {}
    start = 0
    for name, shape in shapes:
        n = int(np.prod(shape)) if shape else 1
        if name.endswith("num_batches_tracked"):
            model[name] = torch.tensor(7, dtype=torch.long)
        else:
            model[name] = (torch.arange(start, start + n, dtype=torch.float32) * 0.01).reshape(shape)
        start += n
    linear = {"linear.weight": torch.full((5, 8), 0.5), "linear.bias": torch.full((5,), -0.5)}
    params = [torch.nn.Parameter(t.clone()) for k, t in model.items() if t.is_floating_point()]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    ssl = {
        "opt": argparse.Namespace(model="r3d", modality="res", nce_k=1024),
        "model": {"module." + k: v for k, v in model.items()},
        "contrast": {"params": torch.tensor([1024, 0.07, -1, -1, 0.5]), "memory_l": torch.zeros(3, 8),
                     "memory_ab": torch.zeros(3, 8), "memory_neg": torch.zeros(3, 8)},
        "optimizer": optimizer.state_dict(),
        "epoch": 240,
    }
    torch.save(ssl, SSL_CKPT_OUT)
    torch.save({**model, **linear}, FT_CKPT_OUT)
    return model


def main():
    torch.set_default_dtype(torch.float32)
    nce = {}
    alias_fixtures(nce)
    nce_fixtures(nce)
    save_safetensors(nce, NCE_OUT, {"N": str(N), "D": str(D), "K": str(K), "B": str(B), "T": repr(T),
                                    "momentum": repr(MOMENTUM), "bank_bound": repr(1.0 / math.sqrt(D / 3)),
                                    "alias_draw_seed": "11"})
    inputs = {}
    input_fixtures(inputs)
    save_safetensors(inputs, INPUTS_OUT, {"intra_negative_seed": "5", "layout": "[B, T, 3, H, W]"})
    retrieval = {}
    retrieval_fixtures(retrieval)
    save_safetensors(retrieval, RETRIEVAL_OUT, {"clips_per_video": "10", "drop_last_batch": "8"})
    checkpoint_fixtures()
    print(f"wrote {SSL_CKPT_OUT} ({os.path.getsize(SSL_CKPT_OUT)} bytes) and {FT_CKPT_OUT} ({os.path.getsize(FT_CKPT_OUT)} bytes)")
    for path, arrays in ((NCE_OUT, nce), (INPUTS_OUT, inputs), (RETRIEVAL_OUT, retrieval)):
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
        for k in sorted(arrays):
            print(f"  {k:32s} {str(arrays[k].dtype):8s} {list(arrays[k].shape)}")
    print("alias uniform prob", nce["alias.uniform.prob"][:5], "alias", nce["alias.uniform.alias"][:5])
    print("nce loss", nce["nce.loss"], "prob loss", nce["prob.loss"], "retrieval", retrieval["results.all"],
          retrieval["results.drop_last"])


if __name__ == "__main__":
    main()

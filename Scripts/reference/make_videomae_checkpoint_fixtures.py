#!/usr/bin/env python3
"""Checkpoint files laid out as VideoMAE / VideoMS and Hugging Face write them, at tiny sizes.

Writes Tests/TrainingTests/Fixtures/videomae_checkpoints/ (formats: docs/reference/SVT-VideoMS-IIC.md §2,
"What each released repo lets a user run"). The state dicts come from `nn.Module.state_dict()` of module
trees laid out with the reference names, so they are OrderedDicts carrying `_metadata`.

  pretrain.pth   what the pre-training scripts save with their AMP loss scaler:
                 {'model': the pre-training state dict of make_videomae_fixtures.py (same values),
                  'optimizer': torch.optim.AdamW state_dict after one step on two stand-in parameters
                               (groups as the reference's: 'no_decay' first, then 'decay', each with
                               'lr_scale'; betas (0.9, 0.95)),
                  'epoch': 799, 'scaler': the GradScaler state dict, 'args': argparse.Namespace(...)}
  finetune.pth   {'module': fine-tuned state dict} (what the DeepSpeed fine-tuning keeps as 'module'):
                 patch_embed.proj.{weight,bias}, blocks.{i}.{norm1, attn (q_bias, v_bias, qkv.weight,
                 proj), norm2, mlp.fc1, mlp.fc2}, fc_norm.{weight,bias}, head.{weight,bias}; no norm.*
                 (Identity with mean pooling) and no pos_embed (fixed table, not a parameter).
  hf_videomae.safetensors  the same fine-tuned model in the Hugging Face layout as published on the Hub
                 (`save_pretrained` output: attention.attention.{query,key,value}.weight plus q_bias and
                 v_bias, key without bias).
  expected_logits.safetensors  input.clip [1, 3, 8, 32, 32] (reference layout B,C,T,H,W; Hugging Face
                 takes it permuted to B,T,C,H,W), logits.reference [1, 5] (reference-style model),
                 logits.hf [1, 5] (Hugging Face model), and the fine-tuned tensors under our names
                 (patch_embed.proj.weight, ...).

Tiny sizes: img 32, patch 8, 8 frames, tubelet 2 (64 tokens), dim 24, depth 2, heads 2, MLP 96,
LayerNorm eps 1e-6, 5 classes, mean pooling with fc_norm LayerNorm(24).

Requires: torch, numpy, safetensors, transformers.  Run from the repository root:
    python3 Scripts/reference/make_videomae_checkpoint_fixtures.py
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_videomae_fixtures as golden  # noqa: E402
from make_videomae_fixtures import EPS, Block, PatchEmbed, save_safetensors, sinusoid_table  # noqa: E402

OUT = Path("Tests") / "TrainingTests" / "Fixtures" / "videomae_checkpoints"

DIM, DEPTH, HEADS, CLASSES = 24, 2, 2, 5
FINETUNE_SEED, NOISE_SEED, CLIP_SEED = 4, 5, 6
HEAD_STD = 0.2


class FinetuneModel(nn.Module):
    """VideoMAE's fine-tuning VisionTransformer with mean pooling: fc_norm(mean of tokens) -> head."""

    def __init__(self, tokens=64):
        super().__init__()
        self.patch_embed = PatchEmbed(DIM)
        self.blocks = nn.ModuleList([Block(DIM, HEADS) for _ in range(DEPTH)])
        self.norm = nn.Identity()
        self.fc_norm = nn.LayerNorm(DIM, eps=EPS)
        self.head = nn.Linear(DIM, CLASSES)
        self.register_buffer("table", sinusoid_table(tokens, DIM), persistent=False)

    def forward(self, x):
        x = self.patch_embed(x) + self.table
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.fc_norm(self.norm(x).mean(1)))


def build_finetune():
    """Trunc-normal(0.02) Linears as the reference starts them, then noise so nothing is 0 or 1; the head
    gets N(0, 0.2) weights (the reference's init_scale 0.001 would make the logits all but equal)."""
    torch.manual_seed(FINETUNE_SEED)
    model = FinetuneModel()
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    noise = torch.Generator().manual_seed(NOISE_SEED)
    norms = {name for name, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.rsplit(".", 1)[0] in norms:
                p.add_(torch.randn(p.shape, generator=noise) * golden.NOISE_STD)
            elif p.dim() == 2:  # the trunc-normal matrices: widen so the blocks do more than pass through
                p.mul_(10.0)
        model.head.weight.copy_(torch.randn(model.head.weight.shape, generator=noise) * HEAD_STD)
    return model


def expected_finetune_keys():
    keys = ["patch_embed.proj.weight", "patch_embed.proj.bias"]
    for i in range(DEPTH):
        keys += [f"blocks.{i}.{k}" for k in ["norm1.weight", "norm1.bias", "attn.q_bias", "attn.v_bias",
                                             "attn.qkv.weight", "attn.proj.weight", "attn.proj.bias",
                                             "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                                             "mlp.fc2.weight", "mlp.fc2.bias"]]
    return keys + ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"]


def to_hf(ours):
    """Our (reference) names -> Hugging Face names, Hub layout (q_bias / v_bias kept as such)."""
    hf = {"videomae.embeddings.patch_embeddings.projection.weight": ours["patch_embed.proj.weight"],
          "videomae.embeddings.patch_embeddings.projection.bias": ours["patch_embed.proj.bias"]}
    for i in range(DEPTH):
        src, dst = f"blocks.{i}.", f"videomae.encoder.layer.{i}."
        q, k, v = ours[src + "attn.qkv.weight"].chunk(3, dim=0)
        hf[dst + "attention.attention.query.weight"] = q
        hf[dst + "attention.attention.key.weight"] = k
        hf[dst + "attention.attention.value.weight"] = v
        hf[dst + "attention.attention.q_bias"] = ours[src + "attn.q_bias"]
        hf[dst + "attention.attention.v_bias"] = ours[src + "attn.v_bias"]
        pairs = [("attn.proj", "attention.output.dense"), ("norm1", "layernorm_before"),
                 ("norm2", "layernorm_after"), ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense")]
        for a, b in pairs:
            for kind in ("weight", "bias"):
                hf[f"{dst}{b}.{kind}"] = ours[f"{src}{a}.{kind}"]
    for kind in ("weight", "bias"):
        hf[f"fc_norm.{kind}"] = ours[f"fc_norm.{kind}"]
        hf[f"classifier.{kind}"] = ours[f"head.{kind}"]
    return {k: v.contiguous() for k, v in hf.items()}


def hf_config():
    from transformers import VideoMAEConfig
    from transformers.utils import logging
    logging.disable_progress_bar()
    # layer_norm_eps: the library's default is 1e-12; 1e-6 is the reference's (see the report in main()).
    return VideoMAEConfig(image_size=golden.IMG, patch_size=golden.PATCH, num_channels=3, num_frames=8, tubelet_size=2,
                          hidden_size=DIM, num_hidden_layers=DEPTH, num_attention_heads=HEADS,
                          intermediate_size=4 * DIM, qkv_bias=True, use_mean_pooling=True, num_labels=CLASSES,
                          layer_norm_eps=EPS)


def hf_model(ours):
    from transformers import VideoMAEForVideoClassification
    torch.manual_seed(0)
    model = VideoMAEForVideoClassification(hf_config()).eval()
    mapped = to_hf(ours)
    # The in-memory module keeps q_bias / v_bias as the biases of query / value (the library renames them
    # when it reads a Hub file); load through that renaming.
    live = {k.replace("attention.attention.q_bias", "attention.attention.query.bias")
             .replace("attention.attention.v_bias", "attention.attention.value.bias"): v for k, v in mapped.items()}
    missing, unexpected = model.load_state_dict(live, strict=False)
    assert not unexpected, unexpected
    assert not [k for k in missing if "position" not in k], missing
    return model, mapped


def adamw_state_dict():
    """AdamW's state_dict after one step, groups as the reference's parameter groups (no_decay, decay)."""
    weight = nn.Parameter(torch.randn(3, 4, generator=torch.Generator().manual_seed(7)))
    bias = nn.Parameter(torch.randn(4, generator=torch.Generator().manual_seed(8)))
    groups = [{"weight_decay": 0.0, "params": [bias], "lr_scale": 1.0},
              {"weight_decay": 0.05, "params": [weight], "lr_scale": 1.0}]
    optimizer = torch.optim.AdamW(groups, lr=1.5e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    (weight.sum(0) * bias).pow(2).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


def pretrain_args():
    return argparse.Namespace(
        batch_size=24, epochs=800, save_ckpt_freq=50, model="pretrain_videomae_base_patch16_224",
        decoder_depth=4, mask_type="tube", mask_ratio=0.75, input_size=224, drop_path=0.0,
        normlize_target=True, opt="adamw", opt_eps=1e-08, opt_betas=[0.9, 0.95], clip_grad=None,
        momentum=0.9, weight_decay=0.05, weight_decay_end=0.05, lr=0.00028125, warmup_lr=1.40625e-06,
        min_lr=2.8125e-06, warmup_epochs=40, warmup_steps=-1, use_checkpoint=False, color_jitter=0.0,
        train_interpolation="bicubic", data_path="/path/to/train.csv", imagenet_default_mean_and_std=True,
        num_frames=16, sampling_rate=4, output_dir="output", log_dir="output", device="cuda", seed=0,
        resume="", auto_resume=True, start_epoch=0, num_workers=10, pin_mem=True, world_size=8,
        local_rank=-1, dist_on_itp=False, dist_url="env://", distributed=True, rank=0, gpu=0,
        dist_backend="nccl", patch_size=(16, 16), window_size=(8, 14, 14))


def scaler_state_dict():
    """torch.cuda.amp.GradScaler.state_dict() as the AMP loss scaler returns it."""
    return {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
            "_growth_tracker": 0}


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)

    # Pre-training checkpoint: the golden model's weights.
    pretrain = golden.build_model().state_dict()
    if os.path.exists(golden.OUT):
        stored = load_file(golden.OUT)
        assert all(np.array_equal(stored[k], v.numpy()) for k, v in pretrain.items()), "golden fixture out of date"
    torch.save({"model": pretrain, "optimizer": adamw_state_dict(), "epoch": 799, "scaler": scaler_state_dict(),
                "args": pretrain_args()}, OUT / "pretrain.pth")

    # Fine-tuning checkpoint.
    model = build_finetune().eval()
    ours = model.state_dict()
    assert list(ours) == expected_finetune_keys(), list(ours)
    torch.save({"module": ours}, OUT / "finetune.pth")

    # Hugging Face layout and logits.
    hf, mapped = hf_model(ours)
    clip = golden.make_clip(seed=CLIP_SEED, batch=1)
    with torch.no_grad():
        ref_logits = model(clip)
        hf_logits = hf(pixel_values=clip.permute(0, 2, 1, 3, 4)).logits
        # The library's fc_norm is nn.LayerNorm(hidden) with eps 1e-5, not config.layer_norm_eps.
        fc_eps = hf.fc_norm.eps
        hf.fc_norm.eps = EPS
        hf_logits_eps = hf(pixel_values=clip.permute(0, 2, 1, 3, 4)).logits
        hf.fc_norm.eps = fc_eps
    diff = (ref_logits - hf_logits).abs().max().item()
    diff_eps = (ref_logits - hf_logits_eps).abs().max().item()
    print(f"logits reference {ref_logits.numpy().round(5).tolist()}\n       hf        {hf_logits.numpy().round(5).tolist()}")
    print(f"max |reference - hf| = {diff:.3g} (hf fc_norm eps {fc_eps}); with fc_norm eps {EPS}: {diff_eps:.3g}")
    assert diff_eps < 1e-5 and diff < 1e-4, (diff, diff_eps)

    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        saved = load_file(os.path.join(tmp, "model.safetensors"))
        assert sorted(saved) == sorted(mapped), sorted(set(saved) ^ set(mapped))
        assert all(np.array_equal(saved[k], v.numpy()) for k, v in mapped.items())
        shutil.copyfile(os.path.join(tmp, "model.safetensors"), OUT / "hf_videomae.safetensors")
        config = json.load(open(os.path.join(tmp, "config.json")))
        # A Hub-style file read back by the library gives the same logits.
        from transformers import VideoMAEForVideoClassification
        again = VideoMAEForVideoClassification.from_pretrained(tmp).eval()
        with torch.no_grad():
            reread = again(pixel_values=clip.permute(0, 2, 1, 3, 4)).logits
        print(f"read back with from_pretrained: max |diff| = {(reread - hf_logits).abs().max().item():.3g} "
              f"(attention {hf.config._attn_implementation} / {again.config._attn_implementation})")
        assert torch.allclose(reread, hf_logits, rtol=0, atol=1e-6)

    arrays = {k: v.numpy() for k, v in ours.items()}
    arrays["input.clip"] = clip.numpy()
    arrays["logits.reference"] = ref_logits.numpy()
    arrays["logits.hf"] = hf_logits.numpy()
    keep = ["image_size", "patch_size", "num_channels", "num_frames", "tubelet_size", "hidden_size",
            "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act", "layer_norm_eps",
            "qkv_bias", "qv_bias", "use_mean_pooling", "transformers_version"]
    metadata = {
        "embed_dim": str(DIM), "depth": str(DEPTH), "num_heads": str(HEADS), "mlp_ratio": "4", "patch_size": str(golden.PATCH),
        "tubelet_size": "2", "num_frames": "8", "img_size": str(golden.IMG), "num_classes": str(CLASSES),
        "layer_norm_eps": "1e-6 (blocks and fc_norm, reference)", "use_mean_pooling": "true",
        "hf_fc_norm_eps": f"{fc_eps} (nn.LayerNorm default; logits.hf uses it)",
        "max_abs_logit_diff": f"{diff:.6g}",
        "hf_input_layout": "pixel_values = input.clip.permute(0, 2, 1, 3, 4) (B,T,C,H,W)",
        "hf_config": json.dumps({k: config[k] for k in keep if k in config}, sort_keys=True),
        "clip": f"torch.rand seed {CLIP_SEED} in [0, 1], ImageNet-normalised",
        "weights": f"seed {FINETUNE_SEED}: trunc-normal 0.02 x 10 matrices, default Conv3d, N(0, 0.05) noise on biases "
                   f"and LayerNorms (seed {NOISE_SEED}), head weight N(0, {HEAD_STD})",
        "pretrain_pth": "model (= videomae_golden.safetensors weights), optimizer, epoch 799, scaler, args",
    }
    save_safetensors(arrays, OUT / "expected_logits.safetensors", metadata)

    # Read back as a consumer would.
    back = torch.load(OUT / "pretrain.pth", map_location="cpu", weights_only=False)
    assert list(back) == ["model", "optimizer", "epoch", "scaler", "args"]
    assert list(back["model"]) == list(pretrain)
    back = torch.load(OUT / "finetune.pth", map_location="cpu", weights_only=True)
    assert list(back) == ["module"] and list(back["module"]) == list(ours)

    print(f"wrote {OUT}/")
    for name in ["pretrain.pth", "finetune.pth", "hf_videomae.safetensors", "expected_logits.safetensors"]:
        print(f"  {name:30s} {os.path.getsize(OUT / name):8d} bytes")
    print("  pretrain.pth['model'] keys:")
    for k, v in pretrain.items():
        print(f"    {k:44s} {list(v.shape)}")
    print("  pretrain.pth optimizer:", {k: (v if k == "param_groups" else {i: sorted(s) for i, s in v.items()})
                                      for k, v in back_optimizer().items()})
    print("  finetune.pth['module'] keys:")
    for k, v in ours.items():
        print(f"    {k:44s} {list(v.shape)}")
    hf_file = load_file(OUT / "hf_videomae.safetensors")
    print("  hf_videomae.safetensors keys (file order is the library's):")
    for k in sorted(hf_file):
        print(f"    {k:72s} {list(hf_file[k].shape)}")
    print("  hf config:", metadata["hf_config"])


def back_optimizer():
    return torch.load(OUT / "pretrain.pth", map_location="cpu", weights_only=False)["optimizer"]


if __name__ == "__main__":
    main()

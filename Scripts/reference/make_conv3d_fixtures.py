#!/usr/bin/env python3
"""Golden values for TensorCore's 3-D primitives and the 3D-CNN backbones, computed with PyTorch
(CPU, float32) and torchvision's video ResNet building blocks.

Writes:
  Tests/TensorCoreTests/Fixtures/golden_conv3d.safetensors
    conv3d.<case>.{x, weight, bias?, g, out, dx, dweight, dbias?}   F.conv3d; stride/padding in the
        case table below (general, strided, pointwise, downsample, tubelet, stem)
    conv2d.general.*                                                F.conv2d through the shared kernel
    bn.{weight, bias, x0, x1, x2, out0, out1, out2, g2, dx2, dweight2, dbias2,
        running_mean, running_var}                                  BatchNorm3d(4) in train mode:
        three forwards (three updates of the running statistics), backward through the third
    bn.eval.{x, g, out, dx, dweight, dbias}                         the same layer in eval mode after
    bn2d.{x, out, running_mean, running_var}                        BatchNorm2d(3), one train step
    maxpool.<case>.{x, g, out, dx}, avgpool.<case>.*, adaptive.<case>.*

  Tests/VideoTransformersTests/Fixtures/golden_cnn3d.safetensors
    <model>.param.<key>    every parameter and BatchNorm running statistic (no num_batches_tracked)
    input                  the clip all models read, [2, 8, 3, 16, 16] in VideoSSL's [B, T, 3, H, W] layout
    <model>.features       pooled features [2, C] in eval mode
    <model>.logits         head logits [2, 5] in eval mode
    <model>.logits_train   head logits in train mode (batch statistics), one forward
    <model>.running_mean   running mean of the stem BatchNorm after that train-mode forward
    models: c3d, r3d_10, r21d_10 (BestJuly/IIC layouts and key names, rewritten here from
    reference/SVT-VideoMS-IIC.md §3.6 with the stage widths divided by 32), r3d_18 and r2plus1d_18
    (torchvision's BasicBlock, Conv3DSimple and Conv2Plus1D at widths 2-4-8-16, stem mid width 1 =
    ⌊45·2/64⌋).
  Tests/VideoTransformersTests/Fixtures/keys_<model>.txt   "name shape" for every parameter of the
    full-size model: torchvision's r3d_18 / r2plus1d_18 (400 classes) and the IIC models with a
    101-class classifier.

Usage:  python3 Scripts/reference/make_conv3d_fixtures.py   (torch, torchvision, safetensors)
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, Conv3DSimple, VideoResNet

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests")
CORE = os.path.join(ROOT, "TensorCoreTests", "Fixtures")
MODELS = os.path.join(ROOT, "VideoTransformersTests", "Fixtures")


def leaf(t):
    return t.clone().requires_grad_(True)


# ---------------------------------------------------------------- primitives

CONV_CASES = {
    # name: (x shape, weight shape, stride, padding, bias)
    "general": ((2, 3, 5, 7, 6), (4, 3, 3, 3, 2), (1, 2, 2), (1, 1, 0), True),
    "strided": ((2, 4, 6, 7, 7), (3, 4, 3, 3, 3), (2, 2, 2), (1, 1, 1), False),
    "pointwise": ((2, 5, 3, 4, 5), (6, 5, 1, 1, 1), (1, 1, 1), (0, 0, 0), False),
    "downsample": ((2, 4, 5, 6, 7), (3, 4, 1, 1, 1), (2, 2, 2), (0, 0, 0), False),
    "tubelet": ((2, 3, 4, 8, 8), (5, 3, 2, 4, 4), (2, 4, 4), (0, 0, 0), True),
    "stem": ((1, 3, 4, 12, 12), (4, 3, 3, 7, 7), (1, 2, 2), (1, 3, 3), False),
    "temporal": ((2, 4, 5, 3, 3), (3, 4, 3, 1, 1), (2, 1, 1), (1, 0, 0), False),
}

# Unit-stride cases (the input gradient runs as a transposed convolution), drawn from their own
# generator so that adding them left every other fixture value unchanged.
UNIT_STRIDE_CASES = {
    "same": ((2, 3, 4, 5, 6), (4, 3, 3, 3, 3), (1, 1, 1), (1, 1, 1), True),
    "mixed": ((2, 4, 5, 6, 5), (3, 4, 3, 2, 3), (1, 1, 1), (2, 0, 1), False),
    "spatial": ((1, 5, 3, 7, 7), (6, 5, 1, 3, 3), (1, 1, 1), (0, 1, 1), False),
}


def conv_cases(out, gen):
    conv3d_cases(out, gen, CONV_CASES)
    conv2d_case(out, gen)
    conv3d_cases(out, torch.Generator().manual_seed(1), UNIT_STRIDE_CASES)


def conv3d_cases(out, gen, cases):
    for name, (xs, ws, stride, padding, has_bias) in cases.items():
        x, w = torch.randn(*xs, generator=gen), torch.randn(*ws, generator=gen) * 0.3
        b = torch.randn(ws[0], generator=gen) if has_bias else None
        xl, wl = leaf(x), leaf(w)
        bl = leaf(b) if has_bias else None
        y = F.conv3d(xl, wl, bl, stride=stride, padding=padding)
        g = torch.randn(*y.shape, generator=gen)
        (y * g).sum().backward()
        p = f"conv3d.{name}"
        out.update({f"{p}.x": x, f"{p}.weight": w, f"{p}.g": g, f"{p}.out": y.detach(),
                    f"{p}.dx": xl.grad, f"{p}.dweight": wl.grad})
        if has_bias:
            out.update({f"{p}.bias": b, f"{p}.dbias": bl.grad})


def conv2d_case(out, gen):
    x, w, b = torch.randn(2, 3, 9, 8, generator=gen), torch.randn(4, 3, 3, 3, generator=gen), torch.randn(4, generator=gen)
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    y = F.conv2d(xl, wl, bl, stride=(2, 1), padding=(1, 2))
    g = torch.randn(*y.shape, generator=gen)
    (y * g).sum().backward()
    out.update({"conv2d.general.x": x, "conv2d.general.weight": w, "conv2d.general.bias": b,
                "conv2d.general.g": g, "conv2d.general.out": y.detach(), "conv2d.general.dx": xl.grad,
                "conv2d.general.dweight": wl.grad, "conv2d.general.dbias": bl.grad})


def batchnorm_cases(out, gen):
    bn = nn.BatchNorm3d(4)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(4, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(4, generator=gen))
    out["bn.weight"], out["bn.bias"] = bn.weight.detach().clone(), bn.bias.detach().clone()
    bn.train()
    for step in range(3):
        x = torch.randn(3, 4, 3, 4, 5, generator=gen) * (step + 1) + step
        xl = leaf(x)
        y = bn(xl)
        out[f"bn.x{step}"], out[f"bn.out{step}"] = x, y.detach()
        if step == 2:
            g = torch.randn(*y.shape, generator=gen)
            (y * g).sum().backward()
            out.update({"bn.g2": g, "bn.dx2": xl.grad, "bn.dweight2": bn.weight.grad.clone(),
                        "bn.dbias2": bn.bias.grad.clone()})
    out["bn.running_mean"], out["bn.running_var"] = bn.running_mean.clone(), bn.running_var.clone()
    bn.eval()
    bn.weight.grad, bn.bias.grad = None, None
    x = torch.randn(2, 4, 2, 3, 3, generator=gen) * 2 + 1
    xl = leaf(x)
    y = bn(xl)
    g = torch.randn(*y.shape, generator=gen)
    (y * g).sum().backward()
    out.update({"bn.eval.x": x, "bn.eval.g": g, "bn.eval.out": y.detach(), "bn.eval.dx": xl.grad,
                "bn.eval.dweight": bn.weight.grad, "bn.eval.dbias": bn.bias.grad})
    bn2 = nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 5, 6, generator=gen) * 3 - 1
    y = bn2(x)
    out.update({"bn2d.x": x, "bn2d.out": y.detach(), "bn2d.running_mean": bn2.running_mean.clone(),
                "bn2d.running_var": bn2.running_var.clone()})


POOL_CASES = {
    # name: (kind, x shape, kernel/output, stride, padding)
    "maxpool.c3d": ("max", (2, 3, 4, 6, 6), (1, 2, 2), (1, 2, 2), (0, 0, 0)),
    "maxpool.cube": ("max", (2, 3, 5, 7, 6), (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "maxpool.padded": ("max", (1, 2, 5, 7, 8), (3, 3, 3), (2, 2, 1), (1, 1, 1)),
    "avgpool.cube": ("avg", (2, 3, 4, 6, 7), (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    "avgpool.padded": ("avg", (1, 2, 5, 7, 6), (3, 3, 2), (2, 1, 2), (1, 1, 1)),
    "adaptive.global": ("adaptive", (2, 3, 4, 5, 6), (1, 1, 1), None, None),
    "adaptive.general": ("adaptive", (2, 3, 5, 7, 6), (2, 3, 4), None, None),
}


def pool_cases(out, gen):
    for name, (kind, xs, k, s, p) in POOL_CASES.items():
        x = torch.randn(*xs, generator=gen)
        xl = leaf(x)
        if kind == "max":
            y = F.max_pool3d(xl, k, s, p)
        elif kind == "avg":
            y = F.avg_pool3d(xl, k, s, p)
        else:
            y = F.adaptive_avg_pool3d(xl, k)
        g = torch.randn(*y.shape, generator=gen)
        (y * g).sum().backward()
        out.update({f"{name}.x": x, f"{name}.g": g, f"{name}.out": y.detach(), f"{name}.dx": xl.grad})


# ---------------------------------------------------------------- IIC backbones (§3.6)

class IICConv(nn.Module):
    """R3D's SpatioTemporalConv: one Conv3d under the key `temporal_spatial_conv`."""

    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.temporal_spatial_conv = nn.Conv3d(cin, cout, k, stride=stride, padding=padding, bias=False)

    def forward(self, x):
        return self.temporal_spatial_conv(x)


def triple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)


class IICFactoredConv(nn.Module):
    """R(2+1)D's SpatioTemporalConv: spatial 1×d×d conv, BN, ReLU, temporal t×1×1 conv, with
    M = floor(t·d²·Cin·Cout / (d²·Cin + t·Cout)) intermediate channels."""

    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        k, s, p = triple(k), triple(stride), triple(padding)
        m = (k[0] * k[1] * k[2] * cin * cout) // (k[1] * k[2] * cin + k[0] * cout)
        self.spatial_conv = nn.Conv3d(cin, m, (1, k[1], k[2]), stride=(1, s[1], s[2]), padding=(0, p[1], p[2]), bias=False)
        self.bn = nn.BatchNorm3d(m)
        self.relu = nn.ReLU()
        self.temporal_conv = nn.Conv3d(m, cout, (k[0], 1, 1), stride=(s[0], 1, 1), padding=(p[0], 0, 0), bias=False)

    def forward(self, x):
        return self.temporal_conv(self.relu(self.bn(self.spatial_conv(x))))


class IICBlock(nn.Module):
    def __init__(self, conv, cin, cout, downsample):
        super().__init__()
        self.downsample = downsample
        if downsample:
            self.downsampleconv = conv(cin, cout, 1, stride=2)
            self.downsamplebn = nn.BatchNorm3d(cout)
            self.conv1 = conv(cin, cout, 3, padding=1, stride=2)
        else:
            self.conv1 = conv(cin, cout, 3, padding=1)
        self.bn1 = nn.BatchNorm3d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = conv(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm3d(cout)
        self.outrelu = nn.ReLU()

    def forward(self, x):
        res = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.downsample:
            x = self.downsamplebn(self.downsampleconv(x))
        return self.outrelu(x + res)


class IICLayer(nn.Module):
    def __init__(self, conv, cin, cout, size, downsample=False):
        super().__init__()
        self.block1 = IICBlock(conv, cin, cout, downsample)
        self.blocks = nn.ModuleList([IICBlock(conv, cout, cout, False) for _ in range(size - 1)])

    def forward(self, x):
        x = self.block1(x)
        for b in self.blocks:
            x = b(x)
        return x


class IICResNet(nn.Module):
    def __init__(self, conv, widths, layer_sizes=(1, 1, 1, 1), num_classes=0):
        super().__init__()
        w = widths
        self.conv1 = conv(3, w[0], (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        self.bn1 = nn.BatchNorm3d(w[0])
        self.relu1 = nn.ReLU()
        self.conv2 = IICLayer(conv, w[0], w[0], layer_sizes[0])
        self.conv3 = IICLayer(conv, w[0], w[1], layer_sizes[1], downsample=True)
        self.conv4 = IICLayer(conv, w[1], w[2], layer_sizes[2], downsample=True)
        self.conv5 = IICLayer(conv, w[2], w[3], layer_sizes[3], downsample=True)
        self.pool = nn.AdaptiveAvgPool3d(1)
        if num_classes:
            self.linear = nn.Linear(w[3], num_classes)

    def features(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        return self.pool(x).flatten(1)

    def head(self, f):
        return self.linear(f)


class IICC3D(nn.Module):
    def __init__(self, widths, num_classes=0):
        super().__init__()
        w = widths
        plan = [("1", 3, w[0]), ("2", w[0], w[1]), ("3a", w[1], w[2]), ("3b", w[2], w[2]),
                ("4a", w[2], w[3]), ("4b", w[3], w[3]), ("5a", w[3], w[4]), ("5b", w[4], w[4])]
        self.order = [n for n, _, _ in plan]
        for n, cin, cout in plan:
            setattr(self, f"conv{n}", nn.Conv3d(cin, cout, 3, padding=1))
            setattr(self, f"bn{n}", nn.BatchNorm3d(cout))
        self.pools = {"1": (1, 2, 2), "2": (2, 2, 2), "3b": (2, 2, 2), "4b": (2, 2, 2)}
        self.pool5 = nn.AdaptiveAvgPool3d(1)
        if num_classes:
            self.linear = nn.Linear(w[4], num_classes)

    def features(self, x):
        for n in self.order:
            x = F.relu(getattr(self, f"bn{n}")(getattr(self, f"conv{n}")(x)))
            if n in self.pools:
                x = F.max_pool3d(x, self.pools[n], self.pools[n])
        return self.pool5(x).flatten(1)

    def head(self, f):
        return self.linear(f)


# ---------------------------------------------------------------- torchvision at reduced width

class TinyVideoResNet(VideoResNet):
    """torchvision's VideoResNet with stage widths `widths` and its own stem, built from
    torchvision's BasicBlock and conv builders (so the mid-plane formula and the keys are theirs)."""

    def __init__(self, conv_builder, widths, stem_mid, num_classes):
        nn.Module.__init__(self)
        w = widths
        if conv_builder is Conv3DSimple:
            self.stem = nn.Sequential(
                nn.Conv3d(3, w[0], (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                nn.BatchNorm3d(w[0]), nn.ReLU(inplace=True))
        else:
            self.stem = nn.Sequential(
                nn.Conv3d(3, stem_mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
                nn.BatchNorm3d(stem_mid), nn.ReLU(inplace=True),
                nn.Conv3d(stem_mid, w[0], (3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
                nn.BatchNorm3d(w[0]), nn.ReLU(inplace=True))
        self.inplanes = w[0]
        self.layer1 = self._make_layer(BasicBlock, conv_builder, w[0], 2, stride=1)
        self.layer2 = self._make_layer(BasicBlock, conv_builder, w[1], 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, conv_builder, w[2], 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, conv_builder, w[3], 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(w[3], num_classes)

    def features(self, x):
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)

    def head(self, f):
        return self.fc(f)


def randomise(model, gen):
    """Non-trivial BatchNorm affine parameters and running statistics, so eval mode is tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


def model_case(out, name, model, stem_bn, x, gen):
    randomise(model, gen)
    for k, v in model.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out[f"{name}.param.{k}"] = v.detach().clone()
    model.eval()
    with torch.no_grad():
        f = model.features(x)
        out[f"{name}.features"], out[f"{name}.logits"] = f, model.head(f)
        model.train()
        out[f"{name}.logits_train"] = model.head(model.features(x))
        out[f"{name}.running_mean"] = stem_bn(model).running_mean.clone()


def key_list(path, model):
    with open(path, "w") as f:
        for k, p in model.named_parameters():
            f.write(f"{k} {','.join(str(s) for s in p.shape)}\n")


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    core = {}
    conv_cases(core, gen)
    batchnorm_cases(core, gen)
    pool_cases(core, gen)
    save_file({k: v.contiguous() for k, v in core.items()}, os.path.join(CORE, "golden_conv3d.safetensors"))

    models = {}
    tiny = (2, 4, 8, 16)
    x = torch.rand(2, 3, 8, 16, 16, generator=gen)
    models["input"] = x.permute(0, 2, 1, 3, 4).contiguous()
    model_case(models, "c3d", IICC3D((2, 4, 8, 16, 16), num_classes=5), lambda m: m.bn1, x, gen)
    model_case(models, "r3d_10", IICResNet(IICConv, tiny, num_classes=5), lambda m: m.bn1, x, gen)
    model_case(models, "r21d_10", IICResNet(IICFactoredConv, tiny, num_classes=5), lambda m: m.bn1, x, gen)
    model_case(models, "r3d_18", TinyVideoResNet(Conv3DSimple, tiny, 1, 5), lambda m: m.stem[1], x, gen)
    model_case(models, "r2plus1d_18", TinyVideoResNet(Conv2Plus1D, tiny, 1, 5), lambda m: m.stem[1], x, gen)
    save_file({k: v.contiguous() for k, v in models.items()}, os.path.join(MODELS, "golden_cnn3d.safetensors"))

    from torchvision.models.video import r2plus1d_18, r3d_18
    key_list(os.path.join(MODELS, "keys_r3d_18.txt"), r3d_18())
    key_list(os.path.join(MODELS, "keys_r2plus1d_18.txt"), r2plus1d_18())
    full = (64, 128, 256, 512)
    key_list(os.path.join(MODELS, "keys_c3d.txt"), IICC3D((64, 128, 256, 512, 512), num_classes=101))
    key_list(os.path.join(MODELS, "keys_r3d_10.txt"), IICResNet(IICConv, full, num_classes=101))
    key_list(os.path.join(MODELS, "keys_r21d_10.txt"), IICResNet(IICFactoredConv, full, num_classes=101))


if __name__ == "__main__":
    main()

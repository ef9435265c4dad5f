"""check_repvgg.py - the repvgg tool against PyTorch itself (CTest label `torch`).

Usage: check_repvgg.py REPVGG_BINARY WORK_DIR

1. The notebook's own classes (docs/notebook.md, In [6] to In [17]; only the stride fix:
   the identity branch needs stride 1), built with random weights and BN
   statistics set the way training leaves them (the batch statistics of
   random images, perturbed), saved as safetensors by hand (8-byte length,
   JSON header, raw data), with BN's int64 num_batches_tracked included.
   Checked: `repvgg run` against model(x); `repvgg convert` against the
   weights of model.switch_to_fast(); the converted file loads with
   strict=True into the fast model; `repvgg run` on it against the fast model.
2. The same for the paper's layout (stage0..stage4, rbr_dense / rbr_1x1 /
   rbr_identity, rbr_reparam, linear head), with groups, built here.
Several shapes: odd sizes, batch > 1, one large enough for Winograd F(4x4).
Tolerance: the project's model, |a - r| <= 1e-5 + 1e-4 |r| per element and
relative L2 <= 1e-5.
Exit: 0 pass, 1 fail, 77 skipped (no torch, torchvision or numpy).
"""
import copy
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
    from torch import nn
    from torchvision.ops import Conv2dNormActivation

    from rv_torch import Tally
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

tally = Tally()
agree = tally.agree


# --- the notebook's classes (docs/notebook.md), with the stride fix --------------------------
class RepVGGFastBlock(nn.Sequential):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
        self.relu = nn.ReLU(inplace=True)


def get_fused_bn_to_conv_state_dict(conv, bn):
    bn_std = (bn.running_var + bn.eps).sqrt()
    conv_weight = nn.Parameter((bn.weight / bn_std).reshape(-1, 1, 1, 1) * conv.weight)
    conv_bias = nn.Parameter(bn.bias - bn.running_mean * bn.weight / bn_std)
    return {"weight": conv_weight, "bias": conv_bias}


def get_fused_conv_state_dict_from_block(block):
    fused = get_fused_bn_to_conv_state_dict(block.block[0], block.block[1])
    if block.shortcut:
        c1 = get_fused_bn_to_conv_state_dict(block.shortcut[0], block.shortcut[1])
        c1["weight"] = torch.nn.functional.pad(c1["weight"], [1, 1, 1, 1])
        fused["weight"] += c1["weight"]
        fused["bias"] += c1["bias"]
    if block.identity:
        identity_conv = nn.Conv2d(block.block[0].in_channels, block.block[0].in_channels,
                                  kernel_size=3, bias=True, padding=1)
        identity_conv.weight.zero_()
        in_channels = identity_conv.in_channels
        for i in range(identity_conv.in_channels):
            identity_conv.weight[i, i % in_channels, 1, 1] = 1
        ident = get_fused_bn_to_conv_state_dict(identity_conv, block.identity)
        fused["weight"] += ident["weight"]
        fused["bias"] += ident["bias"]
    return {k: nn.Parameter(v) for k, v in fused.items()}


class RepVGGBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.block = Conv2dNormActivation(in_channels, out_channels, kernel_size=3, padding=1,
                                          bias=False, stride=stride, activation_layer=None)
        self.shortcut = Conv2dNormActivation(in_channels, out_channels, kernel_size=1,
                                             stride=stride, activation_layer=None)
        # the stride fix: the notebook tests only in_channels == out_channels
        self.identity = (nn.BatchNorm2d(out_channels)
                         if in_channels == out_channels and stride == 1 else None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        res = x
        x = self.block(x)
        x += self.shortcut(res)
        if self.identity:
            x += self.identity(res)
        return self.relu(x)

    def to_fast(self):
        fast = RepVGGFastBlock(self.block[0].in_channels, self.block[0].out_channels,
                               stride=self.block[0].stride)
        fast.conv.load_state_dict(get_fused_conv_state_dict_from_block(self))
        return fast


class RepVGGStage(nn.Sequential):
    def __init__(self, in_channels, out_channels, depth):
        super().__init__(RepVGGBlock(in_channels, out_channels, stride=2),
                         *[RepVGGBlock(out_channels, out_channels) for _ in range(depth - 1)])


class RepVGG(nn.Sequential):
    def __init__(self, widths, depths, in_channels=3):
        super().__init__()
        in_out_channels = zip(widths, widths[1:])
        self.stages = nn.Sequential(
            RepVGGStage(in_channels, widths[0], depth=1),
            *[RepVGGStage(i, o, d) for (i, o), d in zip(in_out_channels, depths)])

    def switch_to_fast(self):
        for stage in self.stages:
            for i, block in enumerate(stage):
                stage[i] = block.to_fast()
        return self


# --- the paper's layout, written here from its reference code's structure --------------
def conv_bn(cin, cout, k, stride, pad, groups):
    s = nn.Sequential()
    s.add_module("conv", nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False))
    s.add_module("bn", nn.BatchNorm2d(cout))
    return s


class OfficialBlock(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        self.cin, self.cout, self.stride, self.groups = cin, cout, stride, groups
        self.rbr_identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.rbr_dense = conv_bn(cin, cout, 3, stride, 1, groups)
        self.rbr_1x1 = conv_bn(cin, cout, 1, stride, 0, groups)
        self.rbr_reparam = None

    def forward(self, x):
        if self.rbr_reparam is not None:
            return torch.relu(self.rbr_reparam(x))
        y = self.rbr_dense(x) + self.rbr_1x1(x)
        if self.rbr_identity is not None:
            y = y + self.rbr_identity(x)
        return torch.relu(y)

    def switch_to_deploy(self):
        def fuse(kernel, bn):
            std = (bn.running_var + bn.eps).sqrt()
            t = (bn.weight / std).reshape(-1, 1, 1, 1)
            return kernel * t, bn.bias - bn.running_mean * bn.weight / std
        k3, b3 = fuse(self.rbr_dense.conv.weight, self.rbr_dense.bn)
        k1, b1 = fuse(self.rbr_1x1.conv.weight, self.rbr_1x1.bn)
        k, b = k3 + nn.functional.pad(k1, [1, 1, 1, 1]), b3 + b1
        if self.rbr_identity is not None:
            ident = torch.zeros(self.cin, self.cin // self.groups, 3, 3)
            for i in range(self.cin):
                ident[i, i % (self.cin // self.groups), 1, 1] = 1
            ki, bi = fuse(ident, self.rbr_identity)
            k, b = k + ki, b + bi
        self.rbr_reparam = nn.Conv2d(self.cin, self.cout, 3, self.stride, 1, groups=self.groups)
        self.rbr_reparam.weight.data, self.rbr_reparam.bias.data = k, b
        for name in ("rbr_dense", "rbr_1x1", "rbr_identity"):
            delattr(self, name)
            setattr(self, name, None)


class Official(nn.Module):
    def __init__(self, widths, depths, groups, classes):
        super().__init__()
        layer, cin = 0, 3
        self.stage0 = OfficialBlock(cin, widths[0], 2, 1)
        cin, layer = widths[0], 1
        for s in range(1, 5):
            blocks = []
            for d in range(depths[s]):
                g = groups if layer in range(2, 27, 2) else 1
                blocks.append(OfficialBlock(cin, widths[s], 2 if d == 0 else 1, g))
                cin, layer = widths[s], layer + 1
            setattr(self, f"stage{s}", nn.Sequential(*blocks))
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stage0(x)
        for s in range(1, 5):
            x = getattr(self, f"stage{s}")(x)
        return self.linear(x.mean(dim=(2, 3)))

    def switch_to_deploy(self):
        for m in list(self.modules()):
            if isinstance(m, OfficialBlock):
                m.switch_to_deploy()
        return self


# --- files ------------------------------------------------------------------------------
def save_safetensors(path, state):
    header, blobs, at = {}, [], 0
    for name, t in state.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[8 + n + b:8 + n + end], np.float32).reshape(e["shape"]).copy())
    return out


def calibrate(model, gen, size=64):
    """BN statistics as training leaves them: one train-mode pass with momentum 1
    (running stats := this batch's), then perturbed so they are not exactly it."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 3, size, size, generator=gen) * 2 - 1)
        for bn in bns:
            c = bn.num_features
            bn.running_mean += (torch.rand(c, generator=gen) - 0.5) * 0.4 * bn.running_var.sqrt()
            floor = 0.1 * (bn.running_var + bn.running_mean ** 2).mean()
            bn.running_var.mul_(0.5 + 1.5 * torch.rand(c, generator=gen)).add_(floor)
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(torch.rand(c, generator=gen) - 0.5)
    model.eval()


def run_tool(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{tool} {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def check_model(tool, work, name, model, fast_fn, shapes, gen):
    train_path = os.path.join(work, f"{name}_train.safetensors")
    fast_path = os.path.join(work, f"{name}_fast.safetensors")
    save_safetensors(train_path, model.state_dict())
    with torch.no_grad():
        inputs = [torch.rand(*s, generator=gen) * 2 - 1 for s in shapes]
        expect = [model(x).numpy() for x in inputs]
        fast = fast_fn(model)
        expect_fast = [fast(x).numpy() for x in inputs]
    run_tool(tool, "convert", train_path, fast_path)
    ours = load_safetensors(fast_path)
    theirs = {k: v for k, v in fast.state_dict().items()}
    same = set(ours) == set(theirs)
    tally.check(f"{name}: converted names as PyTorch's", same,
                "" if same else f"differing: {sorted(set(ours) ^ set(theirs))[:4]}")
    if same:
        w_ours = np.concatenate([ours[k].numpy().ravel() for k in sorted(ours)])
        w_theirs = np.concatenate([theirs[k].numpy().ravel() for k in sorted(ours)])
        agree(f"{name}: repvgg convert vs PyTorch's switch, all weights", w_ours, w_theirs)
        fast.load_state_dict(ours, strict=True)  # raises if the names or shapes are off
    for path, m in ((train_path, model), (fast_path, fast)):  # buffers are not parameters
        info = run_tool(tool, "info", path)
        count = int(next(l for l in info.splitlines() if l.startswith("params:")).split()[1])
        want = sum(p.numel() for p in m.parameters())
        tally.check(f"{name}: repvgg info params of {os.path.basename(path)}", count == want,
                    f"{count}, PyTorch's parameters(): {want}")
    for i, (x, want, want_fast) in enumerate(zip(inputs, expect, expect_fast)):
        xin, yout = os.path.join(work, f"{name}_x{i}.npy"), os.path.join(work, f"{name}_y{i}.npy")
        np.save(xin, x.numpy())
        shape = "x".join(map(str, x.shape))
        run_tool(tool, "run", "--weights", train_path, "--input", xin, "--output", yout,
                 "--device", "cpu")
        agree(f"{name} {shape}: repvgg run, train-time vs PyTorch", np.load(yout), want)
        run_tool(tool, "run", "--weights", fast_path, "--input", xin, "--output", yout,
                 "--device", "cpu")
        agree(f"{name} {shape}: repvgg run, converted vs PyTorch's fast model", np.load(yout),
              want_fast)


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    # 2x3x96x96: its 24x24 layers have enough tiles for Winograd F(4x4) (rv_winograd_tile)
    shapes = [(1, 3, 32, 32), (2, 3, 37, 29), (3, 3, 48, 48), (2, 3, 96, 96)]

    nb = RepVGG(widths=[8, 16, 16, 24, 32], depths=[2, 2, 3, 1])  # stage 1 opens 16 -> 16, stride 2
    calibrate(nb, gen)
    check_model(tool, work, "notebook", nb, lambda m: copy.deepcopy(m).switch_to_fast().eval(),
                shapes, gen)

    off = Official(widths=[16, 16, 32, 32, 48], depths=[1, 2, 4, 2, 1], groups=2, classes=10)
    calibrate(off, gen)
    check_model(tool, work, "official-g2", off,
                lambda m: copy.deepcopy(m).switch_to_deploy().eval(), shapes, gen)

    print(f"{'PASS' if tally.failures == 0 else 'FAIL'} check_repvgg: {tally.failures} "
          "failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

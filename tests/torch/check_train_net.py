"""check_train_net.py - one training step of whole networks against PyTorch's autograd
(CTest label `torch`).

Usage: check_train_net.py TEST_TRAIN_BINARY WORK_DIR

`test_train --dump WORK_DIR` builds three small train-time networks (widths 8, 8, 16, 16,
depths 1, 2, 2, 1, on a batch of 4 images of 1x16x16, 10 classes): RepVGG's blocks, QARepVGG's
blocks and plain VGG blocks (one 3x3 conv-BN-ReLU), and writes as .npy each network's block
table, its weights, BN running statistics, the batch and its labels, then, after one step of
our training plan (and the same for test_train's finite-difference network, 3 images of 1x6x6,
5 classes: RepVGG blocks without and with the identity, a QARepVGG block, a VGG block at
stride 2, a 3x3 conv with bias and no BN), the loss, every parameter's gradient and the running statistics.

Here each network is built as PyTorch modules (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, a linear
head after global average pooling) from the block table, which is first checked against each
family's definition (RepVGG: 3x3 conv-BN + 1x1 conv-BN + identity BN where in == out and
stride 1; QARepVGG: 3x3 conv-BN + 1x1 conv + identity, then a BN after the sum; VGG: 3x3
conv-BN). The weights are loaded, the network is put in train mode and run in float64 (so the
reference's own rounding is far below the tolerance), F.cross_entropy (mean over the batch) is
its loss, and loss.backward() gives the gradients. Compared:
  - the loss: relative error at most 1e-5;
  - every parameter's gradient: relative L2 error of all of them together at most 1e-4 (the
    bound for a whole network's gradients), and each tensor's own at most 1e-4 (relative to
    its norm, or to 1 % of the whole gradient's norm where its own is smaller);
  - every BN's running mean and variance after the step (momentum 0.1, unbiased variance):
    the project's tolerance model (relative L2 1e-5).
Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy).
"""
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    from rv_torch import Tally, run_dump
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

tally = Tally()
FAMILIES = ("repvgg", "qarepvgg", "vgg", "mixed")
# test_train's finite-difference network: one block of each kind (the last, a conv with bias)
MIXED = ("repvgg", "repvgg", "qarepvgg", "vgg", "bias")
CONV, IDENTITY = 1, 2
GRAD_REL_L2 = 1e-4  # the bound for a whole network's parameter gradients
LOSS_REL = 1e-5
FLOOR = 1e-2  # see the comment in check()


class Branch(nn.Module):
    def __init__(self, row, in_ch, out_ch, stride, groups):
        super().__init__()
        kind, kh, kw, ph, pw, bn, bias = (int(v) for v in row[1:8])
        self.conv = (nn.Conv2d(in_ch, out_ch, (kh, kw), stride, (ph, pw), groups=groups,
                               bias=bool(bias)) if kind == CONV else None)
        self.bn = nn.BatchNorm2d(out_ch) if bn else None

    def forward(self, x):
        y = self.conv(x) if self.conv is not None else x
        return self.bn(y) if self.bn is not None else y


class Block(nn.Module):
    def __init__(self, rows):
        super().__init__()
        stride, groups, post_bn, in_ch, out_ch = (int(v) for v in rows[0][8:13])
        self.branches = nn.ModuleList(Branch(r, in_ch, out_ch, stride, groups) for r in rows)
        self.post_bn = nn.BatchNorm2d(out_ch) if post_bn else None

    def forward(self, x):
        s = sum(b(x) for b in self.branches)
        return F.relu(self.post_bn(s) if self.post_bn is not None else s)


class Net(nn.Module):
    def __init__(self, spec, classes, features):
        super().__init__()
        n = int(spec[:, 0].max()) + 1
        self.blocks = nn.ModuleList(Block(spec[spec[:, 0] == i]) for i in range(n))
        self.head = nn.Linear(features, classes)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean(dim=(2, 3)))


def family_ok(net, spec):
    """The block table is each block's family's definition (not merely whatever the C side
    built)."""
    for i in range(int(spec[:, 0].max()) + 1):
        fam = MIXED[i] if net == "mixed" else net
        rows = spec[spec[:, 0] == i]
        stride, _, post_bn, in_ch, out_ch = (int(v) for v in rows[0][8:13])
        got = [tuple(int(v) for v in r[1:8]) for r in rows]
        conv3, conv1 = (CONV, 3, 3, 1, 1), (CONV, 1, 1, 0, 0)
        identity = in_ch == out_ch and stride == 1
        if fam == "repvgg":
            want = [conv3 + (1, 0), conv1 + (1, 0)] + [(IDENTITY, 0, 0, 0, 0, 1, 0)] * identity
        elif fam == "qarepvgg":
            want = [conv3 + (1, 0), conv1 + (0, 0)] + [(IDENTITY, 0, 0, 0, 0, 0, 0)] * identity
        elif fam == "vgg":
            want = [conv3 + (1, 0)]
        else:  # a conv with bias and no BN
            want = [conv3 + (0, 1)]
        if got != want or post_bn != (fam == "qarepvgg"):
            print(f"{net} block {i}: branches {got}, post-sum BN {post_bn}; expected {want}")
            return False
    return True


def check(work, fam):
    def load(name):
        return np.load(os.path.join(work, f"{fam}.{name}.npy"))

    spec = load("spec")
    tally.check(f"{fam}: blocks are the family's", family_ok(fam, spec))
    head_w = load("head.weight")
    net = Net(spec, head_w.shape[0], head_w.shape[1]).double()
    state = {}
    for name, t in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = t
        elif name.endswith(("running_mean", "running_var")):
            state[name] = torch.from_numpy(load(name + ".before").astype(np.float64))
        else:
            state[name] = torch.from_numpy(load(name).astype(np.float64))
    net.load_state_dict(state, strict=True)
    net.train()
    x = torch.from_numpy(load("x").astype(np.float64))
    labels = torch.from_numpy(load("labels").astype(np.int64))
    loss = F.cross_entropy(net(x), labels)
    loss.backward()
    ours = float(load("loss")[0])
    rel = abs(ours - loss.item()) / abs(loss.item())
    tally.check(f"{fam}: loss", rel <= LOSS_REL,
                f"ours {ours:.9g}, PyTorch {loss.item():.9g}, relative error {rel:.3g} "
                f"(allowed {LOSS_REL:g})")
    num = den = 0.0
    worst, worst_name, count, grads = 0.0, "", 0, []
    for name, prm in net.named_parameters():
        a, r = load("grad." + name).astype(np.float64), prm.grad.numpy()
        if a.shape != r.shape:
            tally.check(f"{fam} {name}: gradient shape", False, f"{a.shape} vs {r.shape}")
            continue
        grads.append((name, a, r))
    total_norm = sum(float(np.sum(r ** 2)) for _, _, r in grads) ** 0.5
    for name, a, r in grads:
        num += float(np.sum((a - r) ** 2))
        den += float(np.sum(r ** 2))
        # Some gradients are (nearly) zero in real arithmetic and what float32 gives is the
        # rounding of a cancellation: a BN's beta right before another BN (QARepVGG's 3x3
        # branch: exactly 0), a 1x1 conv of one input channel before a BN (BN undoes its
        # scale but for eps: 1e-4 of the largest tensor's). Each tensor's error is taken
        # relative to its own norm, or to 1 % of the whole gradient's where it is smaller.
        e = float(np.linalg.norm(a - r)) / max(float(np.linalg.norm(r)), FLOOR * total_norm)
        if e > worst:
            worst, worst_name = e, name
        count += 1
    total = (num / den) ** 0.5
    tally.check(f"{fam}: every parameter's gradient ({count} tensors)",
                total <= GRAD_REL_L2 and worst <= GRAD_REL_L2,
                f"relative L2 {total:.3g} over all, worst tensor {worst_name} {worst:.3g} "
                f"(allowed {GRAD_REL_L2:g})")
    for name, buf in net.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            tally.agree(f"{fam} {name} after the step", load(name + ".after"), buf.numpy())


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    rc = run_dump(binary, work, "cpu")
    if rc is not None:
        return rc
    torch.manual_seed(0)
    for fam in FAMILIES:
        check(work, fam)
    print(f"{'FAIL' if tally.failures else 'PASS'} check_train_net: {tally.failures} failed "
          "check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

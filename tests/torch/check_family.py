"""check_family.py - ACNet's and DBB's blocks against PyTorch (CTest label `torch`).

Usage: check_family.py TEST_BRANCHES_BINARY WORK_DIR [cpu|cuda]

`test_branches --dump WORK_DIR --device D` writes, as .npy files, blocks of
every family in its table (ACNet's and DBB's) of seeded random weights and BN
statistics (odd sizes, batch > 1, stride 1 and 2, groups, DBB's depthwise
form), an input for each, the output of our multi-branch block, the output of
our folded conv and the folded kernel and bias, with a list of the blocks
(cases.txt: family, channels, stride, groups, the folded conv's kernel size
and padding). This script builds each block in PyTorch from the papers'
equations (below; FAMILIES holds one row per family), gives it the same
weights and input, runs it in float64 (so that the reference carries no
float32 rounding of its own) and checks, per block:
  - our multi-branch output against PyTorch's multi-branch output;
  - our folded conv's output against PyTorch's multi-branch output;
  - our folded kernel and bias, run through PyTorch's own conv2d, against the
    same (the fold checked apart from our conv);
  - our folded kernel and bias against the papers' transforms computed here
    in PyTorch (DBB's transforms I to VI);
  - for a family whose middles pad with the BN's shift (DBB), that the data
    make the border matter: PyTorch's block with its middles padded with zeros
    instead differs from the right one by more than 1e-2 on the output's
    border, so a fold that padded with zeros could not pass.

ACNet ("ACNet: Strengthening the Kernel Skeletons for Powerful CNN via
Asymmetric Convolution Blocks", Ding et al., ICCV 2019):
    y = BN_a(conv3x3(x)) + BN_b(conv1x3(x)) + BN_c(conv3x1(x))
  the 1x3 kernel padded (0, 1), the 3x1 padded (1, 0), so that both land on
  the centre row and column of the 3x3 window; each conv without bias, with
  the block's stride and groups.
DBB ("Diverse Branch Block: Building a Convolution as an Inception-like
Unit", Ding et al., CVPR 2021), for a 3x3 conv of stride s and groups g:
    y = BN_a(conv3x3(x))                                          (origin)
      + BN_b(conv1x1_s(x))                                        (1x1)
      + BN_c(avg3x3_s(bnpad_d(conv1x1(x))))                       (1x1 then average)
      + BN_e(conv3x3_s(bnpad_f(conv1x1'(x))))                     (1x1 then 3x3)
  where bnpad is BN followed by a 1-pixel border filled with that BN's shift
  beta - mean * gamma / sqrt(var + eps) (the authors' BNAndPadLayer), the
  average pool and the second 3x3 conv then have no padding of their own, and
  conv1x1' (in_ch -> in_ch) is the identity plus a learned 1x1 (the authors'
  IdentityBasedConv1x1: its weight here is ours minus the identity). A
  depthwise DBB (g = out_ch) has no 1x1 branch, pools x itself (padding 1,
  zeros counted), and its conv1x1' is a plain 1x1 to 2 in_ch channels.
Tolerance: the project's model (tolerance.py), |a - r| <= 1e-5 s + 1e-4 |r| per
element, s the largest |r| (at least 1), and relative L2 <= 1e-5.
Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy; no CUDA device for cuda).
"""
import os
import sys
from collections import namedtuple

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
check, agree = tally.check, tally.agree


# --- the blocks, from the papers' equations -------------------------------------------------
def conv(cin, cout, kh, kw, stride, pad, groups):
    return nn.Conv2d(cin, cout, (kh, kw), stride, pad, groups=groups, bias=False)


class BNAndPad(nn.Module):
    """BN, then a border of `pad` pixels holding the BN's shift: what the BN gives where
    its input is zero, which is what the conv before it gives at a zero-padded input."""

    def __init__(self, channels, pad, zeros=False):
        super().__init__()
        self.bn, self.pad, self.zeros = nn.BatchNorm2d(channels), pad, zeros

    def forward(self, x):
        y = self.bn(x)
        if self.zeros:  # the wrong border, for the data check
            return F.pad(y, [self.pad] * 4)
        bn = self.bn
        shift = bn.bias - bn.running_mean * bn.weight / torch.sqrt(bn.running_var + bn.eps)
        n, c, h, w = y.shape
        p = self.pad
        out = shift.view(1, c, 1, 1).expand(n, c, h + 2 * p, w + 2 * p).clone()
        out[:, :, p:p + h, p:p + w] = y
        return out


class ACBlock(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        self.square = nn.Sequential(conv(cin, cout, 3, 3, stride, (1, 1), groups),
                                    nn.BatchNorm2d(cout))
        self.hor = nn.Sequential(conv(cin, cout, 1, 3, stride, (0, 1), groups),
                                 nn.BatchNorm2d(cout))
        self.ver = nn.Sequential(conv(cin, cout, 3, 1, stride, (1, 0), groups),
                                 nn.BatchNorm2d(cout))
        self.branches = [self.square, self.hor, self.ver]  # our order: 3x3, 1x3, 3x1

    def forward(self, x):
        return self.square(x) + self.hor(x) + self.ver(x)


class IdentityBasedConv1x1(nn.Module):
    """A 1x1 conv C -> C whose kernel is the identity plus a learned weight."""

    def __init__(self, channels, groups):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, channels // groups, 1, 1))
        eye = torch.zeros(channels, channels // groups, 1, 1)
        eye[torch.arange(channels), torch.arange(channels) % (channels // groups)] = 1
        self.register_buffer("eye", eye)
        self.groups = groups

    def kernel(self):
        return self.weight + self.eye

    def forward(self, x):
        return F.conv2d(x, self.kernel(), groups=self.groups)


class DBB(nn.Module):
    def __init__(self, cin, cout, stride, groups, zero_border=False):
        super().__init__()
        self.depthwise = groups >= cout
        self.origin = nn.Sequential(conv(cin, cout, 3, 3, stride, 1, groups), nn.BatchNorm2d(cout))
        if self.depthwise:
            self.avg = nn.Sequential(nn.AvgPool2d(3, stride, 1), nn.BatchNorm2d(cout))
            mid = 2 * cin
            first = conv(cin, mid, 1, 1, 1, 0, groups)
        else:
            self.one = nn.Sequential(conv(cin, cout, 1, 1, stride, 0, groups),
                                     nn.BatchNorm2d(cout))
            self.avg = nn.Sequential(conv(cin, cout, 1, 1, 1, 0, groups),
                                     BNAndPad(cout, 1, zero_border), nn.AvgPool2d(3, stride, 0),
                                     nn.BatchNorm2d(cout))
            mid = cin
            first = IdentityBasedConv1x1(cin, groups)
        self.one_three = nn.Sequential(first, BNAndPad(mid, 1, zero_border),
                                       conv(mid, cout, 3, 3, stride, 0, groups),
                                       nn.BatchNorm2d(cout))
        self.branches = ([self.origin, self.avg, self.one_three] if self.depthwise else
                         [self.origin, self.one, self.avg, self.one_three])

    def forward(self, x):
        return sum(b(x) for b in self.branches)


# --- our tensors into the modules -----------------------------------------------------------
def load_bn(bn, f, prefix):
    bn = bn.bn if isinstance(bn, BNAndPad) else bn
    for name, target in (("gamma", bn.weight), ("beta", bn.bias), ("mean", bn.running_mean),
                         ("var", bn.running_var)):
        target.copy_(torch.from_numpy(f(f"{prefix}.{name}")))


def load_branch(branch, f, prefix):
    """branch: a Sequential whose first conv takes <prefix>.w1 when it has one and
    the last conv <prefix>.w; BN (or BN-and-pad) layers after the 1x1 take
    <prefix>.bn1 and the last BN <prefix>.bn."""
    convs = [m for m in branch if isinstance(m, (nn.Conv2d, IdentityBasedConv1x1))]
    bns = [m for m in branch if isinstance(m, (nn.BatchNorm2d, BNAndPad))]
    pooled = any(isinstance(m, nn.AvgPool2d) for m in branch)
    # a 1x1 then a 3x3 conv or a pool: the 1x1's weight is w1 and its BN is bn1
    if len(convs) == 2 or (pooled and convs):
        first = convs[0]
        w1 = torch.from_numpy(f(f"{prefix}.w1"))
        if isinstance(first, IdentityBasedConv1x1):
            first.weight.copy_(w1 - first.eye)
        else:
            first.weight.copy_(w1)
        load_bn(bns[0], f, f"{prefix}.bn1")
        convs = convs[1:]
    if convs:
        convs[0].weight.copy_(torch.from_numpy(f(f"{prefix}.w")))
    load_bn(bns[-1], f, f"{prefix}.bn")


# --- the papers' fold, in PyTorch (DBB's transforms I to VI) ----------------------------------
def fuse_bn(k, bn):  # I: conv then BN
    bn = bn.bn if isinstance(bn, BNAndPad) else bn
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return k * s.view(-1, 1, 1, 1), bn.bias - bn.running_mean * s


def merge_1x1_kxk(k1, b1, k2, b2, groups):  # III, group by group, concatenated (IV)
    ks, bs = [], []
    m, o = k1.shape[0] // groups, k2.shape[0] // groups
    for g in range(groups):
        k1g, k2g = k1[g * m:(g + 1) * m], k2[g * o:(g + 1) * o]
        ks.append(F.conv2d(k2g, k1g.permute(1, 0, 2, 3)))
        bs.append((k2g * b1[g * m:(g + 1) * m].view(1, -1, 1, 1)).sum((1, 2, 3)))
    return torch.cat(ks), torch.cat(bs) + b2


def avg_kernel(channels, groups, size):  # V: 1/size^2 on the matching channel of its group
    k = torch.zeros(channels, channels // groups, size, size, dtype=torch.float64)
    k[torch.arange(channels), torch.arange(channels) % (channels // groups)] = 1.0 / size**2
    return k


def pad_to(k, kh, kw):  # VI: centred in zeros, to kh x kw
    return F.pad(k, [(kw - k.shape[3]) // 2] * 2 + [(kh - k.shape[2]) // 2] * 2)


def branch_kernel(branch, cout, groups, kh, kw):
    """One branch of a block as one kh x kw kernel and bias."""
    convs = [m for m in branch if isinstance(m, (nn.Conv2d, IdentityBasedConv1x1))]
    bns = [m for m in branch if isinstance(m, (nn.BatchNorm2d, BNAndPad))]
    pools = [m.kernel_size for m in branch if isinstance(m, nn.AvgPool2d)]
    weight = [c.kernel() if isinstance(c, IdentityBasedConv1x1) else c.weight for c in convs]
    if pools and not convs:  # a pool of x itself
        k, b = fuse_bn(avg_kernel(cout, groups, pools[0]), bns[0])
    elif len(weight) == 1 and not pools:  # one conv: I (then VI)
        k, b = fuse_bn(weight[0], bns[0])
    else:  # a 1x1 then a conv or a pool: III
        k1, b1 = fuse_bn(weight[0], bns[0])
        k2, b2 = fuse_bn(avg_kernel(cout, groups, pools[0]) if pools else weight[1], bns[1])
        k, b = merge_1x1_kxk(k1, b1, k2, b2, groups)
    return pad_to(k, kh, kw), b


def fold(block, cout, groups, kh, kw):  # II: the branches summed
    parts = [branch_kernel(b, cout, groups, kh, kw) for b in block.branches]
    return sum(k for k, _ in parts), sum(b for _, b in parts)


# --- the families: one row each, as test_branches.c's table of families has one ---------------
# title: the paper's name for it; make(cin, cout, stride, groups): the block from the paper's
# equations, its branches in our order in .branches; a block with BN-and-pad middles also
# takes zero_border=True (those middles padded with zeros), for the border check.
Family = namedtuple("Family", "title make")
FAMILIES = {
    "acnet": Family("ACNet", ACBlock),
    "dbb": Family("DBB", DBB),
}


# --- the cases ------------------------------------------------------------------------------
def check_case(work, line):
    name, family, *numbers = line.split()
    cin, cout, stride, groups, n, size, branches, kh, kw, pad_h, pad_w = map(int, numbers)

    def f(key):
        return np.load(os.path.join(work, f"{name}.{key}.npy"))

    make = FAMILIES[family].make
    block = make(cin, cout, stride, groups).double().eval()
    # how far into the output the BN-and-pad middles' border reaches (0: none)
    border = max((m.pad for m in block.modules() if isinstance(m, BNAndPad)), default=0)
    check(f"{name}: {family} block with {len(block.branches)} branches",
          len(block.branches) == branches, f"ours has {branches}")
    if len(block.branches) != branches:
        return
    x = torch.from_numpy(f("x")).double()
    check(f"{name}: input", tuple(x.shape) == (n, cin, size, size),
          f"{tuple(x.shape)}, batch {n}, {size}x{size}")
    for i, b in enumerate(block.branches):  # float32 values into float64 tensors
        load_branch(b, f, str(i))
    ref = block(x)
    w, b = torch.from_numpy(f("w")).double(), torch.from_numpy(f("b")).double()
    agree(f"{name}: our multi-branch block vs PyTorch's", f("y"), ref)
    agree(f"{name}: our folded conv vs PyTorch's multi-branch block", f("yf"), ref)
    agree(f"{name}: PyTorch's conv2d with our folded kernel vs its multi-branch block",
          F.conv2d(x, w, b, stride, (pad_h, pad_w), 1, groups), ref)
    fw, fb = fold(block, cout, groups, kh, kw)
    agree(f"{name}: our folded kernel vs the papers' transforms", w, fw)
    agree(f"{name}: our folded bias vs the papers' transforms", b, fb)
    if border:
        wrong = make(cin, cout, stride, groups, zero_border=True).double().eval()
        wrong.load_state_dict(block.state_dict())
        d, r = (wrong(x) - ref).abs(), border
        inside = d[:, :, r:-r, r:-r].max().item()
        ring = max(d[:, :, :r].max().item(), d[:, :, -r:].max().item(),
                   d[:, :, :, :r].max().item(), d[:, :, :, -r:].max().item())
        check(f"{name}: the border matters (zero padding in place of BN-and-pad)",
              ring > 1e-2 and inside == 0,
              f"max |difference| {ring:.3g} on the border ring, {inside:.3g} inside")


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n\n")[1])
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    device = sys.argv[3] if len(sys.argv) == 4 else "cpu"
    rc = run_dump(binary, work, device, clear=(".npy", "cases.txt"))
    if rc is not None:
        return rc
    with open(os.path.join(work, "cases.txt")) as listing:
        lines = [ln for ln in listing.read().splitlines() if ln.strip()]
    families = sorted({ln.split()[1] for ln in lines})
    check(f"the blocks: {' and '.join(f.title for f in FAMILIES.values())}, batch > 1, "
          "stride 1 and 2, groups",
          families == sorted(FAMILIES) and all(int(ln.split()[6]) > 1 for ln in lines) and
          {int(ln.split()[4]) for ln in lines} == {1, 2} and
          any(int(ln.split()[5]) > 1 for ln in lines),
          f"{len(lines)} blocks")
    torch.set_grad_enabled(False)
    for line in lines:
        name, family = line.split()[:2]
        if family not in FAMILIES:
            check(f"{name}: a {family} block", False, "no such family in FAMILIES")
            continue
        try:
            check_case(work, line)
        except FileNotFoundError as e:
            check(f"{name}: its tensors", False, str(e))
    print(f"check_family ({device}, torch {torch.__version__}): {tally.failures} failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""check_mobileone.py - MobileOne's block against PyTorch (CTest label `torch`).

Usage: check_mobileone.py TEST_MOBILEONE_BINARY WORK_DIR

`test_mobileone --dump WORK_DIR` writes, as .npy files, each case's input, the train-time
parameters of every branch (conv weights, BN gamma, beta and running statistics), our folded
convs and our outputs, multi-branch and folded, with cases.tsv listing the cases (odd sizes,
batch > 1, stride 1 and 2, k = 1 to 4, in == out and not). This script builds the block in
PyTorch from the equations of "MobileOne: An Improved One millisecond Mobile Backbone" (Vasu et
al., CVPR 2023), written below, loads the same parameters into it (a missing or extra branch, or
a parameter of the wrong shape, is a failure: the branches PyTorch expects come from the
equations, not from the files), runs it in eval mode on the same input and checks:
  - our multi-branch output and our folded output against PyTorch's multi-branch output, after
    the depthwise part and after the whole block;
  - our folded convs against the equations' fold computed in PyTorch, and, so that the fold
    written here is itself checked, PyTorch's conv with that fold against its multi-branch output.
Tolerance: the project's model (tolerance.py, through rv_torch.py's tally). Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy).
"""
import csv
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
agree = tally.agree


# --- MobileOne's block, from the paper's equations ------------------------------------------
# One re-parameterizable part (the paper's Fig. 3; the official code's MobileOneBlock), kernel K,
# `groups` groups:
#   out = ReLU( sum_{i<k} BN_i(conv_KxK_i(x))                 k over-parameterized branches
#               + BN_s(conv_1x1(x))       when K > 1          the "scale" branch
#               + BN_id(x) )              when in == out and stride 1   the skip branch
# The block is the depthwise part (C -> C, K = 3, padding 1, stride 1 or 2, C groups) then the
# pointwise part (C -> O, K = 1, stride 1, one group).
class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, kernel, stride, groups):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)


class MobileOnePart(nn.Module):
    def __init__(self, cin, cout, kernel, stride, groups, k):
        super().__init__()
        self.cin, self.kernel, self.stride, self.groups = cin, kernel, stride, groups
        self.convs = nn.ModuleList(ConvBN(cin, cout, kernel, stride, groups) for _ in range(k))
        self.scale = ConvBN(cin, cout, 1, stride, groups) if kernel > 1 else None
        self.skip = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None

    def branches(self):
        """In our files' order: the k convs, the scale branch, the skip branch."""
        return [*self.convs] + [b for b in (self.scale, self.skip) if b is not None]

    def forward(self, x):
        out = sum(b(x) for b in self.convs)
        if self.scale is not None:
            out = out + self.scale(x)
        if self.skip is not None:
            out = out + self.skip(x)
        return torch.relu(out)

    def fold(self):
        """The paper's re-parameterization: each branch's BN folded into its kernel
        (W gamma / sqrt(var + eps), beta - mean gamma / sqrt(var + eps)), the 1x1 kernel padded
        to K x K with zeros, the skip branch as the identity kernel (a 1 at the centre of each
        channel's own kernel), all summed."""
        def fuse(kernel, bn):
            std = (bn.running_var + bn.eps).sqrt()
            scale = bn.weight / std
            return kernel * scale.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * scale

        w, b = 0, 0
        for br in self.convs:
            kw, kb = fuse(br.conv.weight, br.bn)
            w, b = w + kw, b + kb
        if self.scale is not None:
            kw, kb = fuse(self.scale.conv.weight, self.scale.bn)
            p = self.kernel // 2
            w, b = w + F.pad(kw, [p, p, p, p]), b + kb
        if self.skip is not None:
            per = self.cin // self.groups
            ident = torch.zeros(self.cin, per, self.kernel, self.kernel)
            for c in range(self.cin):
                ident[c, c % per, self.kernel // 2, self.kernel // 2] = 1
            kw, kb = fuse(ident, self.skip)
            w, b = w + kw, b + kb
        return w, b

    def folded(self, x, w, b):
        return torch.relu(F.conv2d(x, w, b, self.stride, self.kernel // 2, groups=self.groups))


# --- our files into the PyTorch block --------------------------------------------------------
def load_part(work, c, name, part, files):
    """Our parameters of part `name` into `part`; False (printed) when they do not fit."""
    ok, want = True, set()
    for i, br in enumerate(part.branches()):
        bn = br if isinstance(br, nn.BatchNorm2d) else br.bn
        params = [("gamma", bn.weight), ("beta", bn.bias), ("mean", bn.running_mean),
                  ("var", bn.running_var)]
        if not isinstance(br, nn.BatchNorm2d):
            params.append(("w", br.conv.weight))
        for what, t in params:
            f = f"c{c}_{name}_b{i}_{what}.npy"
            want.add(f)
            if f not in files:
                print(f"case {c}, {name} branch {i}: no {what} in our files (the paper has "
                      "one) -> FAIL")
                ok = False
                continue
            v = torch.from_numpy(np.load(os.path.join(work, f)))
            if v.shape != t.shape:
                print(f"case {c}, {name} branch {i}: {what} is {tuple(v.shape)}, the paper's "
                      f"{tuple(t.shape)} -> FAIL")
                ok = False
                continue
            with torch.no_grad():
                t.copy_(v)
    extra = sorted(f for f in files if f.startswith(f"c{c}_{name}_b") and f not in want)
    if extra:
        print(f"case {c}, {name}: parameters of branches the paper does not have: {extra[:4]} "
              "-> FAIL")
        ok = False
    return ok


def main():
    binary, work = sys.argv[1], sys.argv[2]
    rc = run_dump(binary, work, "cpu", clear=(".npy", "cases.tsv"))
    if rc is not None:
        return rc
    torch.set_num_threads(1)
    files = set(os.listdir(work))
    with open(os.path.join(work, "cases.tsv")) as f:
        cases = list(csv.DictReader(f, delimiter="\t"))
    if not cases:
        print("no cases in cases.tsv -> FAIL")
        return 1
    strides, ks, odd, batch = set(), set(), False, 1
    for c, case in enumerate(cases):
        C, O, s, k = (int(case[key]) for key in ("in_ch", "out_ch", "stride", "k"))
        strides.add(s)
        ks.add(k)
        odd |= int(case["size"]) % 2 == 1
        batch = max(batch, int(case["batch"]))
        dw = MobileOnePart(C, C, 3, s, C, k).eval()
        pw = MobileOnePart(C, O, 1, 1, 1, k).eval()
        if not (load_part(work, c, "dw", dw, files) & load_part(work, c, "pw", pw, files)):
            tally.failures += 1
            continue
        ours = {n: np.load(os.path.join(work, f"c{c}_{n}.npy"))
                for n in ("x", "mid", "y", "midf", "yf", "dw_fused_w", "dw_fused_b", "pw_fused_w",
                          "pw_fused_b")}
        x = torch.from_numpy(ours["x"])
        with torch.no_grad():
            mid = dw(x)
            y = pw(mid)
            (wd, bd), (wp, bp) = dw.fold(), pw.fold()
            y_folded = pw.folded(dw.folded(x, wd, bd), wp, bp)
        what = f"case {c} ({case['name']}, input {'x'.join(map(str, x.shape))})"
        print(what)
        agree("  depthwise part, ours multi-branch vs PyTorch's", ours["mid"], mid.numpy())
        agree("  depthwise part, ours folded vs PyTorch's multi-branch", ours["midf"], mid.numpy())
        agree("  block, ours multi-branch vs PyTorch's", ours["y"], y.numpy())
        agree("  block, ours folded vs PyTorch's multi-branch", ours["yf"], y.numpy())
        agree("  our folded depthwise kernel vs the paper's fold", ours["dw_fused_w"], wd.numpy())
        agree("  our folded depthwise bias vs the paper's fold", ours["dw_fused_b"], bd.numpy())
        agree("  our folded pointwise kernel vs the paper's fold", ours["pw_fused_w"], wp.numpy())
        agree("  our folded pointwise bias vs the paper's fold", ours["pw_fused_b"], bp.numpy())
        agree("  (this script's fold: PyTorch's folded block vs its multi-branch)",
              y_folded.numpy(), y.numpy())
    # what the cases must cover, so that a change of data cannot pass by not testing
    for want, have, name in (({1, 2}, strides, "strides"), ({1, 3}, ks, "k")):
        tally.check(f"the cases cover {name} {sorted(have)}, all of {sorted(want)}", want <= have)
    tally.check("the cases have an odd size and a batch > 1", odd and batch >= 2)
    print(f"{'PASS' if tally.failures == 0 else 'FAIL'} check_mobileone: {tally.failures} "
          "failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

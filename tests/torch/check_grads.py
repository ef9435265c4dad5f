"""check_grads.py - the backward ops against PyTorch's autograd (CTest label `torch`).

Usage: check_grads.py TEST_GRAD_BINARY WORK_DIR

`test_grad --dump WORK_DIR` writes, as .npy files, each op's inputs, a random output gradient
dy and our gradients. This script runs the same forward in PyTorch (float64, so that the
reference's own rounding is far below the tolerance), calls backward with dy, and compares:
  - conv2d (each case: kernel 3x3, 5x3, 1x1, stride 1 and 2, per-axis padding, groups 2,
    depthwise): dx, dw, db of our im2col + OpenBLAS version and of our naive reference;
  - batch norm in training mode (F.batch_norm, training=True, momentum 0.1, eps 1e-5, input on
    a mean of 3): y, the running mean and variance after the step, dx, dgamma, dbeta;
  - ReLU (with inputs exactly 0, where PyTorch's gradient is 0), global average pooling, the
    linear layer (dx, dw, db), softmax cross-entropy (F.cross_entropy, mean over the batch: the
    loss and dz), and the sum of branches y = conv3x3(x) + conv1x1(x) + x (dx).
Tolerance: the project's model (tolerance.py): relative L2 error at most 1e-5 per tensor.
Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy).
"""
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from rv_torch import Tally, run_dump
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

tally = Tally()
agree = tally.agree


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    rc = run_dump(binary, work, "cpu")
    if rc is not None:
        return rc

    def load(name):
        return np.load(os.path.join(work, name + ".npy"))

    def leaf(name):
        return torch.from_numpy(load(name).astype(np.float64)).requires_grad_()

    # conv2d, every case the C side wrote
    cases = sorted(f[: -len("_params.npy")] for f in os.listdir(work) if f.endswith("_params.npy"))
    tally.check("conv cases written", len(cases) >= 5, f"{len(cases)}: {', '.join(cases)}")
    for case in cases:
        stride, pad_h, pad_w, groups = (int(v) for v in load(case + "_params"))
        x, w, b = leaf(case + "_x"), leaf(case + "_w"), leaf(case + "_b")
        y = F.conv2d(x, w, b, stride=stride, padding=(pad_h, pad_w), groups=groups)
        y.backward(torch.from_numpy(load(case + "_dy").astype(np.float64)))
        for ours, theirs in (("dx", x), ("dw", w), ("db", b)):
            agree(f"{case} {ours}", load(f"{case}_{ours}"), theirs.grad.numpy())
        for ours, theirs in (("dx_ref", x), ("dw_ref", w)):
            agree(f"{case} {ours}", load(f"{case}_{ours}"), theirs.grad.numpy())

    # batch norm in training mode: the statistics update in place, as in nn.BatchNorm2d
    x, gamma, beta = leaf("bn_x"), leaf("bn_gamma"), leaf("bn_beta")
    rm = torch.from_numpy(load("bn_running_mean0").astype(np.float64))
    rv = torch.from_numpy(load("bn_running_var0").astype(np.float64))
    y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
    y.backward(torch.from_numpy(load("bn_dy").astype(np.float64)))
    agree("bn y", load("bn_y"), y.detach().numpy())
    agree("bn running mean", load("bn_running_mean1"), rm.numpy())
    agree("bn running var (unbiased)", load("bn_running_var1"), rv.numpy())
    agree("bn dx", load("bn_dx"), x.grad.numpy())
    agree("bn dgamma", load("bn_dgamma"), gamma.grad.numpy())
    agree("bn dbeta", load("bn_dbeta"), beta.grad.numpy())

    x = leaf("relu_x")
    tally.check("relu input has exact zeros", bool((x.detach() == 0).any()))
    F.relu(x).backward(torch.from_numpy(load("relu_dy").astype(np.float64)))
    agree("relu dx", load("relu_dx"), x.grad.numpy())

    x = leaf("gap_x")
    x.mean(dim=(2, 3)).backward(torch.from_numpy(load("gap_dy").astype(np.float64)))
    agree("global average pool dx", load("gap_dx"), x.grad.numpy())

    x, w, b = leaf("linear_x"), leaf("linear_w"), leaf("linear_b")
    F.linear(x, w, b).backward(torch.from_numpy(load("linear_dy").astype(np.float64)))
    for name, t in (("dx", x), ("dw", w), ("db", b)):
        agree(f"linear {name}", load(f"linear_{name}"), t.grad.numpy())

    z = leaf("xent_z")
    labels = torch.from_numpy(load("xent_labels").astype(np.int64))
    loss = F.cross_entropy(z, labels)
    loss.backward()
    agree("softmax cross-entropy loss", load("xent_loss"), loss.detach().numpy().reshape(1))
    agree("softmax cross-entropy dz", load("xent_dz"), z.grad.numpy())

    x, w3, w1 = leaf("branches_x"), leaf("branches_w3"), leaf("branches_w1")
    y = F.conv2d(x, w3, padding=1) + F.conv2d(x, w1) + x
    y.backward(torch.from_numpy(load("branches_dy").astype(np.float64)))
    agree("sum of branches dx", load("branches_dx"), x.grad.numpy())

    print(f"{'FAIL' if tally.failures else 'PASS'} check_grads: {tally.failures} failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

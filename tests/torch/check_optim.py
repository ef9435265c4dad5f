"""check_optim.py - our SGD and learning-rate schedule against torch.optim (CTest label `torch`).

Usage: check_optim.py TEST_OPTIM_BINARY WORK_DIR

`test_optim --dump WORK_DIR` writes four parameters (a conv weight and a linear weight that
decay, a bias and BN's gamma that do not), the gradients of 10 steps, the learning rate of each
step, and our parameters and momentum buffers after each step. This script runs
torch.optim.SGD(momentum=0.9, dampening=0, weight_decay=5e-4, nesterov=True) in float32 on the
same parameters, in two groups (weight_decay 5e-4 and 0, as the decay flags say), with the same
gradients and learning rates, and compares every parameter and buffer after every step:
relative L2 error at most 1e-6 (the same float32 steps, rounded a little differently: PyTorch's
vector loops may fuse a multiply and an add; observed: at most 1.3e-7 after 10 steps). It also steps PyTorch's schedulers (SequentialLR of LinearLR then CosineAnnealingLR;
LambdaLR for a warm-up from 0; CosineAnnealingLR alone) and compares each step's learning rate
with ours: relative error at most 1e-7 (they compute it recursively, we in closed form;
observed below 1e-15).
Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy).
"""
import math
import os
import sys
import warnings

try:
    import numpy as np
    import torch

    from rv_torch import Tally, run_dump
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

STEPS = 10
SGD_REL_L2 = 1e-6
LR_REL = 1e-7
tally = Tally()


def rel_l2(a, r):
    a, r = np.asarray(a, np.float64), np.asarray(r, np.float64)
    return float(np.linalg.norm(a - r) / max(np.linalg.norm(r), 1e-30))


def check_sgd(work):
    def load(name):
        return np.load(os.path.join(work, f"sgd_{name}.npy"))

    names = sorted(f[len("sgd_"): -len("_0.npy")] for f in os.listdir(work)
                   if f.startswith("sgd_") and f.endswith("_0.npy") and "_grad_" not in f)
    tally.check("SGD parameters written", len(names) == 4, ", ".join(names))
    params = {n: torch.nn.Parameter(torch.from_numpy(load(f"{n}_0"))) for n in names}
    decays = {n: bool(load(f"{n}_decay")[0]) for n in names}
    tally.check("both kinds of parameter", len(set(decays.values())) == 2, str(decays))
    lrs = load("lr")
    groups = [{"params": [params[n] for n in names if decays[n]], "weight_decay": 5e-4},
              {"params": [params[n] for n in names if not decays[n]], "weight_decay": 0.0}]
    opt = torch.optim.SGD(groups, lr=float(lrs[0]), momentum=0.9, dampening=0, nesterov=True)
    for k in range(1, STEPS + 1):
        for g in opt.param_groups:
            g["lr"] = float(lrs[k - 1])
        for n in names:
            params[n].grad = torch.from_numpy(load(f"{n}_grad_{k}"))
        opt.step()
        worst = 0.0
        for n in names:
            for what, ours, theirs in (("parameter", load(f"{n}_{k}"), params[n].detach()),
                                       ("buffer", load(f"{n}_buf_{k}"),
                                        opt.state[params[n]]["momentum_buffer"])):
                e = rel_l2(ours, theirs.numpy())
                worst = max(worst, e)
                if not e <= SGD_REL_L2:
                    tally.check(f"SGD step {k} {n} {what}", False, f"rel L2 {e:.3g}")
        tally.check(f"SGD step {k} (lr {lrs[k - 1]:.6g})", worst <= SGD_REL_L2,
                    f"worst rel L2 of the parameters and buffers {worst:.3g} "
                    f"(allowed {SGD_REL_L2:g})")


def torch_schedule(lr0, lr_min, f, warmup, total):
    """PyTorch's learning rate at each step 0..total-1."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr0)
    sched = torch.optim.lr_scheduler
    cosine = lambda: sched.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=lr_min)
    if warmup == 0:
        s = cosine()
    elif f > 0:
        s = sched.SequentialLR(opt, [sched.LinearLR(opt, start_factor=f, end_factor=1.0,
                                                    total_iters=warmup), cosine()],
                               milestones=[warmup])
    else:  # LinearLR needs a start factor above 0: the same formula as a LambdaLR
        def factor(t):
            if t < warmup:
                return f + (1 - f) * t / warmup
            c = (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2
            return (lr_min + (lr0 - lr_min) * c) / lr0
        s = sched.LambdaLR(opt, factor)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def check_schedules(work):
    files = sorted(f for f in os.listdir(work) if f.startswith("schedule_") and f.endswith(".txt"))
    tally.check("schedules written", len(files) == 3, ", ".join(files))
    for f in files:
        with open(os.path.join(work, f)) as fh:
            head, *rest = fh.read().split("\n")
        lr0, lr_min, start = (float(v) for v in head.split()[:3])
        warmup, total = (int(v) for v in head.split()[3:])
        ours = [float(v) for v in rest if v.strip()]
        with warnings.catch_warnings():  # SequentialLR's deprecation notices, not ours
            warnings.simplefilter("ignore")
            theirs = torch_schedule(lr0, lr_min, start, warmup, total)
        ok = len(ours) == total
        worst, at = 0.0, 0
        for t, (a, r) in enumerate(zip(ours, theirs)):
            e = abs(a - r) / r if r else abs(a)
            if e > worst:
                worst, at = e, t
        ok = ok and worst <= LR_REL
        tally.check(f"schedule {f[len('schedule_'):-4]} (lr0 {lr0:g}, lr_min {lr_min:g}, "
                    f"start {start:g}, warm-up {warmup}, {total} steps)", ok,
                    f"{len(ours)} steps, worst relative error {worst:.3g} at step {at} "
                    f"(allowed {LR_REL:g})")


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1])
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    rc = run_dump(binary, work, "cpu", clear=(".npy", ".txt"))
    if rc is not None:
        return rc
    check_sgd(work)
    check_schedules(work)
    print(f"{'FAIL' if tally.failures else 'PASS'} check_optim: {tally.failures} failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

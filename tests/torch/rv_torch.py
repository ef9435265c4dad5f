"""rv_torch.py - what the PyTorch checks share: the project's tolerance model, a tally
of checks printed one a line, and a test program's --dump run into a work folder.

The tolerance model is src/base/rv_check.h's RV_TOL_FP32: a agrees with r when every
|a - r| <= ATOL s + RTOL |r|, s the largest |r| (at least 1), and the relative L2 error
||a - r|| / ||r|| <= MAX_REL_L2.
"""
import os
import subprocess

import numpy as np

ATOL, RTOL, MAX_REL_L2 = 1e-5, 1e-4, 1e-5


class Tally:
    """Checks, each printed as '<what>: <detail> -> ok|FAIL', failures counted."""

    def __init__(self):
        self.failures = 0

    def check(self, what, ok, detail=""):
        print(f"{what}: {detail}{' -> ' if detail else ''}{'ok' if ok else 'FAIL'}")
        self.failures += not ok

    def agree(self, what, a, r):
        """a and r (arrays, or tensors with .numpy()) under the tolerance model."""
        a = np.asarray(a.numpy() if hasattr(a, "numpy") else a, np.float64)
        r = np.asarray(r.numpy() if hasattr(r, "numpy") else r, np.float64)
        if a.shape != r.shape:
            self.check(what, False, f"shapes {a.shape} vs {r.shape}")
            return
        d = np.abs(a - r)
        scale = max(1.0, float(np.abs(r).max())) if r.size else 1.0
        bad = int(np.sum(~(d <= ATOL * scale + RTOL * np.abs(r))))
        rel = float(np.linalg.norm(a - r) / max(np.linalg.norm(r), 1e-30))
        self.check(what, bad == 0 and rel <= MAX_REL_L2,
                   f"{a.size} values, max |a-r| = {d.max():.3g}, rel L2 = {rel:.3g}, "
                   f"{bad} outside")


def run_dump(binary, work, device, clear=(".npy",)):
    """Empties WORK of the files an earlier run left (names ending in one of clear),
    then runs BINARY --device DEVICE --dump WORK. Returns None when the program wrote
    its files, else the exit code the check should end with: 77 (skipped) where CUDA
    was asked for and no device answered, 1 otherwise."""
    os.makedirs(work, exist_ok=True)
    for old in os.listdir(work):  # nothing of an earlier run can stand in for this one's
        if old.endswith(clear):
            os.remove(os.path.join(work, old))
    run = subprocess.run([binary, "--device", device, "--dump", work], capture_output=True,
                         text=True)
    if run.returncode == 0:
        return None
    text = run.stdout + run.stderr
    print(text.strip())
    if device == "cuda" and "no CUDA device answered" in text:
        return 77
    print(f"{binary} --dump failed with exit code {run.returncode}")
    return 1

"""rv_torch.py - what the PyTorch checks share: a tally of checks printed one a line,
compared under the project's tolerance model (tolerance.py), and a test program's --dump
run into a work folder.
"""
import os
import subprocess

import tolerance


class Tally:
    """Checks, each printed as '<what>: <detail> -> ok|FAIL', failures counted."""

    def __init__(self):
        self.failures = 0

    def check(self, what, ok, detail=""):
        print(f"{what}: {detail}{' -> ' if detail else ''}{'ok' if ok else 'FAIL'}")
        self.failures += not ok

    def agree(self, what, a, r):
        """a and r (arrays, or tensors with .numpy()) under the tolerance model."""
        a = a.numpy() if hasattr(a, "numpy") else a
        r = r.numpy() if hasattr(r, "numpy") else r
        self.failures += not tolerance.agree(what, a, r)


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

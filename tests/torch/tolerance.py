"""tolerance.py - the project's one tolerance model (src/base/rv_check.h), for the PyTorch checks.

a agrees with a reference r when every |a - r| <= ATOL * s + RTOL * |r|, with s the largest |r|
(at least 1), and the relative L2 error ||a - r|| / ||r|| <= MAX_REL_L2.
"""
import numpy as np

ATOL, RTOL, MAX_REL_L2 = 1e-5, 1e-4, 1e-5


def agree(what, a, r):
    """Prints one line comparing a with r (worst element, relative L2); True when they agree."""
    a, r = np.asarray(a, np.float64), np.asarray(r, np.float64)
    if a.shape != r.shape:
        print(f"{what}: shapes {a.shape} vs {r.shape} -> FAIL")
        return False
    d = np.abs(a - r)
    scale = max(1.0, float(np.abs(r).max())) if r.size else 1.0
    bad = int(np.sum(~(d <= ATOL * scale + RTOL * np.abs(r))))
    rel = float(np.linalg.norm(a - r) / max(np.linalg.norm(r), 1e-30))
    ok = bad == 0 and rel <= MAX_REL_L2
    worst = f", worst a = {a.flat[d.argmax()]:.9g}, r = {r.flat[d.argmax()]:.9g}" if d.size else ""
    print(f"{what}: max |a-r| = {d.max() if d.size else 0:.3g}{worst}, rel L2 = {rel:.3g}, "
          f"{bad} outside -> {'ok' if ok else 'FAIL'}")
    return ok

"""check_quant.py - simulated INT8 quantization against PyTorch's own (CTest label `torch`).

Usage: check_quant.py TEST_QUANT_BINARY WORK_DIR [cpu|cuda]

`test_quant --dump WORK_DIR --device D` writes, as .npy files, the tensors, the
scales and the results of our library (src/ops/rv_quant.h); this script gives
PyTorch the same tensors and demands the same bits:
  - the per-output-channel scales of a weight (6, 3, 3, 3) with channels of
    different sizes and an all-zero one: PerChannelMinMaxObserver(qint8,
    per_channel_symmetric); its per-tensor scale: MinMaxObserver(qint8,
    per_tensor_symmetric); the activation scale: the same MinMaxObserver fed
    the three calibration batches in turn (its running min and max);
  - the fake-quantized weight per channel and per tensor, and the activation
    (wider than its calibration, so many values clamp):
    torch.fake_quantize_per_channel_affine / ..._per_tensor_affine with zero
    point 0, quant_min -128, quant_max 127, our scales;
  - ties and edges on the grid of s = 1/4 (x / s exactly k + 0.5, values at and
    beyond both ends), and (k + 0.5) s in float32 with the 3 floats either
    side of it for s = 0.1, where x * (1/s) and x / s round to different
    integers for some x (PyTorch multiplies by the reciprocal; so do we): the
    same per-tensor function;
  - SQNR and relative L2 of the weight per channel and of the activation,
    recomputed in float64 by numpy from the same tensors (ours are stored as
    float32, so they agree to float32's precision, 1e-6 relative).
Everything else is compared bit for bit, +0 and -0 told apart. The inputs are
also checked to hold what they are meant to (ties, clamped values, a zero
channel), so that a change of data cannot make the test pass by not testing.
Exit: 0 pass, 1 fail, 77 skipped (no torch or numpy; no CUDA device for cuda).
"""
import os
import sys

try:
    import numpy as np
    import torch
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

    from rv_torch import Tally, run_dump
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

QMIN, QMAX = -128, 127
tally = Tally()
check = tally.check


def same_bits(what, ours, theirs):
    ours = np.ascontiguousarray(ours, np.float32)
    theirs = np.ascontiguousarray(np.asarray(theirs, np.float32))
    if ours.shape != theirs.shape:
        check(what, False, f"shapes {ours.shape} vs {theirs.shape}")
        return
    diff = np.flatnonzero(ours.view(np.uint32) != theirs.view(np.uint32))
    detail = f"{ours.size} values, {diff.size} differ in any bit"
    for i in diff[:4]:
        detail += f"; [{i}] ours {ours.flat[i]!r} vs torch {theirs.flat[i]!r}"
    check(what, diff.size == 0, detail)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n\n")[1])
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    device = sys.argv[3] if len(sys.argv) == 4 else "cpu"
    rc = run_dump(binary, work, device)
    if rc is not None:
        return rc
    f = {n: np.load(os.path.join(work, n + ".npy")) for n in
         ("w", "w_scales", "w_fq_channel", "w_fq_tensor", "a", "a_fq", "calib0", "calib1",
          "calib2", "ties", "ties_fq", "scales", "errors", "near_ties", "near_ties_fq")}
    t = {n: torch.from_numpy(v) for n, v in f.items()}
    w_scale, a_scale = float(f["scales"][0]), float(f["scales"][1])

    # the data holds what it is meant to
    zero_channels = int((np.abs(f["w"]).reshape(6, -1).max(axis=1) == 0).sum())
    ties = np.modf(np.abs(f["ties"].astype(np.float64) / 0.25))[0] == 0.5
    s01 = np.float32(0.1)
    near = f["near_ties"]
    apart = int(np.sum(np.rint(near * (np.float32(1) / s01)) != np.rint(near / s01)))
    check("test data: a zero channel, ties, clamped values",
          zero_channels == 1 and ties.sum() >= 64 and f["w_scales"][5] == 1 / 16 and
          apart > 0 and
          np.sum(np.abs(f["a"]) > 128 * a_scale) > f["a"].size // 8,
          f"{zero_channels} zero channel, {int(ties.sum())} ties (and a channel of ties with "
          f"s = {f['w_scales'][5]}), {apart} values where x * (1/s) and x / s round apart, "
          f"{int(np.sum(np.abs(f['a']) > 128 * a_scale))} of {f['a'].size} activations "
          f"beyond the calibrated range")

    # scales: PyTorch's observers on the same tensors
    obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8,
                                   qscheme=torch.per_channel_symmetric)
    obs(t["w"])
    scale, zp = obs.calculate_qparams()
    same_bits("per-channel scales vs PerChannelMinMaxObserver", f["w_scales"], scale.numpy())
    check("per-channel zero points are 0", bool((zp == 0).all()))
    obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    obs(t["w"])
    same_bits("per-tensor weight scale vs MinMaxObserver", f["scales"][:1],
              obs.calculate_qparams()[0].numpy())
    obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    for b in ("calib0", "calib1", "calib2"):
        obs(t[b])
    same_bits("activation scale vs MinMaxObserver over 3 calibration batches", f["scales"][1:],
              obs.calculate_qparams()[0].numpy())

    # fake quantization: PyTorch's functions with our scales
    zeros = torch.zeros(6, dtype=torch.int32)
    same_bits("weight per channel vs fake_quantize_per_channel_affine", f["w_fq_channel"],
              torch.fake_quantize_per_channel_affine(t["w"], t["w_scales"], zeros, 0, QMIN,
                                                     QMAX).numpy())
    same_bits("weight per tensor vs fake_quantize_per_tensor_affine", f["w_fq_tensor"],
              torch.fake_quantize_per_tensor_affine(t["w"], w_scale, 0, QMIN, QMAX).numpy())
    same_bits("activation vs fake_quantize_per_tensor_affine", f["a_fq"],
              torch.fake_quantize_per_tensor_affine(t["a"], a_scale, 0, QMIN, QMAX).numpy())
    same_bits("ties and edges (s = 1/4) vs fake_quantize_per_tensor_affine", f["ties_fq"],
              torch.fake_quantize_per_tensor_affine(t["ties"], 0.25, 0, QMIN, QMAX).numpy())
    same_bits("near ties (s = 0.1) vs fake_quantize_per_tensor_affine", f["near_ties_fq"],
              torch.fake_quantize_per_tensor_affine(t["near_ties"], float(s01), 0, QMIN,
                                                    QMAX).numpy())

    # the error, recomputed in float64
    for k, (q, r) in enumerate((("w_fq_channel", "w"), ("a_fq", "a"))):
        a, ref = f[q].astype(np.float64), f[r].astype(np.float64)
        e2, r2 = np.sum((a - ref) ** 2), np.sum(ref ** 2)
        sqnr, rel = 10 * np.log10(r2 / e2), np.sqrt(e2 / r2)
        ours_sqnr, ours_rel = float(f["errors"][2 * k]), float(f["errors"][2 * k + 1])
        check(f"{q} vs {r}: SQNR and relative L2 vs numpy",
              abs(ours_sqnr - sqnr) <= 1e-6 * abs(sqnr) and abs(ours_rel - rel) <= 1e-6 * rel,
              f"SQNR {ours_sqnr:.6f} dB vs {sqnr:.6f} dB, rel L2 {ours_rel:.6g} vs {rel:.6g}")
    print(f"check_quant ({device}, torch {torch.__version__}): {tally.failures} failed check(s)")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

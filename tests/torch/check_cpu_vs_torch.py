"""check_cpu_vs_torch.py - bench/cpu_vs_torch.py end to end, in two short rounds.

Usage: python3 check_cpu_vs_torch.py REPVGG WORKDIR

Runs the benchmark against PyTorch at batch 1 with one timed run per round (the
figures mean nothing at that size; the script's parts are what is checked)
and reads back the TSV it writes: a header naming the machine, its CPU and
vector instructions, date, commit and threads; one row per form and
variant, PyTorch's ratio 1, each median ratio between its quartiles, a
target and its verdict on ours, and the deploy form's activation buffers at
the analytic minimum.
Exit 0 pass, 1 fail, 77 when PyTorch is missing (the benchmark's own skip).
"""
import csv
import os
import sys

from bench_check import header, report, run_script

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "bench", "cpu_vs_torch.py")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    repvgg, work = sys.argv[1], sys.argv[2]
    rc = run_script(SCRIPT, ["--repvgg", repvgg, "--out", work, "--machine", "check", "--rounds",
                             "2", "--repeat", "1", "--warmup", "0", "--batches", "1"])
    if rc is not None:
        return rc
    with open(os.path.join(work, "check", "cpu_vs_torch.tsv")) as f:
        lines = f.read().splitlines()
    fails = []
    header(lines, ("machine", "cpu", "isa", "date", "commit", "threads"), fails)
    rows = list(csv.DictReader((l for l in lines if not l.startswith("#")), delimiter="\t"))
    for form in ("deploy", "train"):
        got = {r["variant"]: r for r in rows if r["form"] == form and r["batch"] == "1"}
        for v in ("torch", "ours", "im2col", "openblas"):
            if v not in got:
                fails.append(f"{form}: no row for {v}")
        for v, r in got.items():
            q1, ratio, q3 = (float(r[c]) for c in ("ratio_q1", "ratio_to_torch", "ratio_q3"))
            if not (0 < q1 <= ratio <= q3):
                fails.append(f"{form} {v}: ratio {ratio} outside its quartiles [{q1}, {q3}]")
            if v == "torch" and not q1 == ratio == q3 == 1.0:
                fails.append(f"{form} torch: ratio {ratio}, want 1")
        ours = got.get("ours")
        if ours:
            target = float(ours["target"])
            if ours["met"] != ("yes" if float(ours["ratio_to_torch"]) <= target else "no"):
                fails.append(f"{form} ours: verdict {ours['met']} for ratio "
                             f"{ours['ratio_to_torch']} against {target}")
            if form == "deploy" and ours["activation_bytes"] != ours["min_activation_bytes"]:
                fails.append(f"deploy: activation bytes {ours['activation_bytes']}, analytic "
                             f"minimum {ours['min_activation_bytes']}")
    return report("cpu_vs_torch.py", len(rows), fails)


if __name__ == "__main__":
    sys.exit(main())

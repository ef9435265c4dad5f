"""check_peers.py - bench/peers.py end to end, briefly, where its environment already exists.

Usage: python3 check_peers.py REPVGG WORKDIR VENV

Runs the comparison of ours with ncnn, ONNX Runtime and OpenVINO at batch 1,
two rounds of one timed forward each (the figures mean nothing at that size;
the script's parts are what is checked), with --offline: the test never
downloads the peers (about 500 MiB from PyPI). Without their environment at
VENV it is skipped, and says which command makes it. Reads back the TSV:
the header names the machine, CPU, date, commit, threads, rounds, load and every
pinned version; one row per runtime, each median within its quartiles and
those within min and max, each ratio to the fastest peer within its
quartiles and at least 1 for the peers themselves, every output within the
limit of PyTorch's (relative L2), every peak memory positive and each peer's
above the Python floor under it. Then bench/plot.sh draws the chart from it
(when gnuplot is installed).
Exit 0 pass, 1 fail, 77 skipped (no environment, or no PyTorch).
"""
import csv
import math
import os
import shutil
import subprocess
import sys

from bench_check import header, report, run_script

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "bench")
RUNTIMES = ["ours", "onnxruntime", "openvino", "ncnn"]
MAX_REL_L2 = 1e-4


def pinned(names):
    """{name: version} of names in bench/peers-requirements.txt."""
    with open(os.path.join(BENCH, "peers-requirements.txt")) as f:
        pins = dict(l.split("#")[0].strip().split("==") for l in f if "==" in l.split("#")[0])
    return {n: pins[n] for n in names}


def check(path, fails):
    """Appends to fails what is wrong with the TSV at path; returns its row count."""
    with open(path) as f:
        lines = f.read().splitlines()
    head = header(lines, ("machine", "cpu", "isa", "date", "commit", "threads", "rounds", "load",
                          "versions"), fails)
    if head.get("rounds") != "2":
        fails.append(f"header: rounds {head.get('rounds')}, the test ran 2")
    for name, version in pinned(["onnxruntime", "openvino", "ncnn", "pnnx", "numpy"]).items():
        if f"{name} {version}" not in head.get("versions", ""):
            fails.append(f"header: versions do not name {name} {version} (pinned)")
    rows = list(csv.DictReader((l for l in lines if not l.startswith("#")), delimiter="\t"))
    got = [r["runtime"] for r in rows if r["batch"] == "1"]
    if sorted(got) != sorted(RUNTIMES) or len(rows) != len(RUNTIMES):
        fails.append(f"rows: {got} at batch 1 ({len(rows)} rows), want one for each of {RUNTIMES}")
    for r in rows:
        name = r["runtime"]
        lo, q1, med, q3, hi = (float(r[c]) for c in ("min_ms", "q1_ms", "median_ms", "q3_ms",
                                                     "max_ms"))
        if not 0 < lo <= q1 <= med <= q3 <= hi:
            fails.append(f"{name}: times min {lo}, q1 {q1}, median {med}, q3 {q3}, max {hi} "
                         "out of order")
        r1, ratio, r3 = (float(r[c]) for c in ("ratio_q1", "ratio_to_fastest_peer", "ratio_q3"))
        if not 0 < r1 <= ratio <= r3:
            fails.append(f"{name}: ratio {ratio} outside its quartiles [{r1}, {r3}]")
        if name != "ours" and r1 < 1:
            fails.append(f"{name}: ratio to the fastest peer {r1} below 1, yet it is a peer")
        err = float(r["rel_l2_vs_torch"])
        if not (math.isfinite(err) and 0 <= err <= MAX_REL_L2):
            fails.append(f"{name}: relative L2 to PyTorch {err}, limit {MAX_REL_L2}")
        peak, floor = float(r["peak_rss_mib"]), r["python_floor_mib"]
        if not peak > 0:
            fails.append(f"{name}: peak memory {peak} MiB")
        if name != "ours" and not 0 < float(floor or 0) < peak:
            fails.append(f"{name}: Python floor '{floor}' MiB not between 0 and its peak {peak}")
        if name == "ours" and floor:
            fails.append(f"ours: a Python floor ({floor}) for a process without Python")
    return len(rows)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    repvgg, work, venv = sys.argv[1:]
    tsv = os.path.join(work, "check", "peers.tsv")
    if os.path.exists(tsv):
        os.remove(tsv)  # a stale file must not pass for this run's
    rc = run_script(os.path.join(BENCH, "peers.py"), [
        "--repvgg", repvgg, "--venv", venv, "--offline", "--out", work, "--machine", "check",
        "--rounds", "2", "--repeat", "1", "--warmup", "0", "--batches", "1"])
    if rc is not None:
        return rc
    fails = []
    n = check(tsv, fails)
    if shutil.which("gnuplot"):
        plots = os.path.join(work, "plots")
        q = subprocess.run(["bash", os.path.join(BENCH, "plot.sh"), work, plots],
                           capture_output=True, text=True)
        chart = os.path.join(plots, "check-peers.png")
        drawn = os.path.exists(chart) and os.path.getsize(chart) > 0
        if q.returncode != 0 or q.stderr.strip() or not drawn:  # gnuplot warns on stderr
            fails.append(f"chart: plot.sh exited {q.returncode}, {chart} "
                         f"{'drawn' if drawn else 'missing'}: {q.stderr.strip()[-300:]}")
    return report("peers.py", n, fails)


if __name__ == "__main__":
    sys.exit(main())

"""cpu_vs_torch.py - our CPU forward against PyTorch's, interleaved in one run.

Usage: /usr/bin/python3 bench/cpu_vs_torch.py --repvgg BUILD/bin/repvgg
           [--out bench/results] [--machine NAME] [--threads 2] [--rounds 20]
           [--repeat 10] [--warmup 3] [--batches 1,8] [--also NAME=REPVGG ...]

RepVGG-A0 from the notebook's classes (tests/torch/check_repvgg.py, stride fix
only) with BN statistics calibrated on random images; its weights saved as
safetensors, converted by `repvgg convert`, and the converted weights loaded
back into PyTorch's fast model (strict): both sides run the same weights on
the same input (saved as .npy for `repvgg bench --input`). PyTorch 1.13 from
Debian runs oneDNN for these convolutions, torch.set_num_threads(threads);
ours runs OMP_NUM_THREADS=threads.

Each round times every variant of a (form, batch) once, in an order that
rotates from round to round, so slow phases of a shared machine fall on all
of them: the ratio to PyTorch is the median over rounds of ours/PyTorch from
the same round, with its quartiles over the rounds beside it. On a shared
2-core machine one round's ratio spreads widely, and over 7 rounds the median
moved between runs by more than a target's margin (docs/performance.md): hence
20 rounds by default. Variants of ours, measured in this run (docs/performance.md says
what each bought):
  ours            Winograd + OpenMP, products with packed weights through our
                  kernel (AVX-512 or AVX2) and the rest through OpenBLAS,
                  OPENBLAS_CORETYPE set when OpenBLAS would pick kernels
                  older than the CPU
  im2col          the same with --no-winograd
  openblas        the same with --openblas: every product through OpenBLAS
  blas-default    the same as ours but with the kernels OpenBLAS picks itself
  NAME            --also NAME=REPVGG: another build of the tool (an earlier
                  commit, say), run like ours: what the steps since bought
Writes <out>/<machine>/cpu_vs_torch.tsv (atomically) and prints progress.
Exit: 0 done (targets met or not: see the summary), 1 error, 77 no torch.
"""
import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy as np
    import torch
    from pybench import (also_builds, build_a0, commit, cpu_isa, cpu_name, machine_name, ours_env,
                         ours_row, run)
except ImportError as e:
    print(f"skipped: {e} (in {sys.executable}); this script needs numpy and torch: run it with "
          "/usr/bin/python3, Debian's (apt-get install python3-numpy python3-torch)")
    sys.exit(77)

# the goals set for ours before the work of docs/performance.md: ours / PyTorch at most this
TARGETS = {("deploy", 1): 0.8, ("deploy", 8): 0.9, ("train", 1): 1.0}


def ours_ms(tool, weights, xpath, env, repeat, warmup, extra=()):
    return ours_row(run([tool, "bench", "--weights", weights, "--input", xpath, "--device", "cpu",
                         "--repeat", str(repeat), "--warmup", str(warmup), *extra], env).stdout)


def torch_ms(model, x, repeat, warmup):
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            model(x)
            samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repvgg", required=True, help="the repvgg binary")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="results root: the TSV goes to OUT/MACHINE/ (default bench/results)")
    ap.add_argument("--machine", default=None, help="results folder name (default: from the CPU model, as rv_bench names it)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every side (default 2)")
    ap.add_argument("--rounds", type=int, default=20,
                    help="rounds; each times every variant once (default 20)")
    ap.add_argument("--repeat", type=int, default=10,
                    help="timed runs per variant and round; their median counts (default 10)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed runs before the timed ones (default 3)")
    ap.add_argument("--batches", default="1,8", help="batch sizes, comma-separated (default 1,8)")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=REPVGG",
                    help="another build of repvgg, timed in the same rounds as variant NAME")
    args = ap.parse_args()
    also = also_builds(args.also, ("torch", "ours", "im2col", "blas-default"))
    for opt in ("threads", "rounds", "repeat"):
        if getattr(args, opt) < 1:
            sys.exit(f"cpu_vs_torch: --{opt} {getattr(args, opt)}: want at least 1")
    if args.warmup < 0:
        sys.exit(f"cpu_vs_torch: --warmup {args.warmup}: want 0 or more")
    if not os.access(args.repvgg, os.X_OK):
        sys.exit(f"cpu_vs_torch: --repvgg {args.repvgg}: not an executable")
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1:
        sys.exit(f"cpu_vs_torch: --batches {args.batches}: want batch sizes, e.g. 1,8")
    machine = args.machine or machine_name(args.repvgg)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="cpu_vs_torch.") as work:  # weights, inputs
        return measure(args, batches, also, machine, work)


def measure(args, batches, also, machine, work):
    """Build and convert A0 in work, time every round, write the TSV."""
    gen = torch.Generator().manual_seed(0)
    train, fast, train_w, fast_w = build_a0(args.repvgg, work, gen)
    base, tuned, hint, _ = ours_env(args.repvgg, fast_w, args.threads)
    variants = [("ours", tuned, (), args.repvgg), ("im2col", tuned, ("--no-winograd",), args.repvgg),
                ("openblas", tuned, ("--openblas",), args.repvgg)]
    if hint:
        variants.append(("blas-default", base, (), args.repvgg))
    variants += [(name, tuned, (), tool) for name, tool in also]

    configs = [(form, b) for b in batches for form in ("deploy", "train")]
    total = len(configs) * args.rounds * (len(variants) + 1)
    done, rows, mem = 0, [], {}
    for config, (form, batch) in enumerate(configs):
        x = torch.randn(batch, 3, 224, 224, generator=gen)
        xpath = os.path.join(work, f"x{batch}.npy")
        np.save(xpath, x.numpy())
        weights, model = (fast_w, fast) if form == "deploy" else (train_w, train)
        names = ["torch"] + [v[0] for v in variants]
        times = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                if name == "torch":
                    ms = torch_ms(model, x, args.repeat, args.warmup)
                else:
                    _, env, extra, tool = next(v for v in variants if v[0] == name)
                    row = ours_ms(tool, weights, xpath, env, args.repeat, args.warmup, extra)
                    ms = float(row["median_ms"])
                    if name == "ours":
                        mem[(form, batch)] = row
                times[name].append(ms)
                done += 1
                print(f"[{done}/{total}] {form} batch {batch} round {r + 1}: {name} {ms:.2f} ms",
                      file=sys.stderr, flush=True)
        for name in names:
            ratios = [o / t for o, t in zip(times[name], times["torch"])]
            ratio = statistics.median(ratios)
            q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive") \
                if len(ratios) > 1 else (ratio, ratio, ratio)
            target = TARGETS.get((form, batch), "") if name == "ours" else ""
            met = ("yes" if ratio <= target else "no") if target else ""
            m = mem[(form, batch)]
            rows.append([config, form, batch, name, f"{statistics.median(times[name]):.3f}",
                         f"{min(times[name]):.3f}", f"{max(times[name]):.3f}", f"{ratio:.3f}",
                         f"{q1:.3f}", f"{q3:.3f}", target, met] +
                        ([m["activation_bytes"], m["min_activation_bytes"], m["workspace_bytes"],
                          m["peak_bytes"]] if name == "ours" else ["", "", "", ""]))

    cpu = cpu_name()
    blas = f"OPENBLAS_CORETYPE={hint} (OpenBLAS would pick older kernels)" if hint else \
        "OpenBLAS's own choice"
    head = (f"# ours against PyTorch {torch.__version__} (oneDNN), RepVGG-A0 224x224, same weights "
            f"and input, interleaved\n# machine: {machine}\n# cpu: {cpu} ({os.cpu_count()} cores)\n"
            f"# isa: {cpu_isa()}\n"
            f"# date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n# commit: {commit()}\n"
            f"# threads: {args.threads} (torch.set_num_threads, OMP_NUM_THREADS)\n# ours: {blas}\n"
            f"# timing: per round each variant's median of {args.repeat} after {args.warmup} "
            f"warm-up runs; median_ms/min_ms/max_ms over {args.rounds} rounds; ratio = median "
            f"over rounds of variant/torch in the same round, ratio_q1/q3 its quartiles\n" +
            "".join(f"# also: {name} = {tool}\n" for name, tool in also))
    cols = ["config", "form", "batch", "variant", "median_ms", "min_ms", "max_ms", "ratio_to_torch",
            "ratio_q1", "ratio_q3", "target", "met", "activation_bytes", "min_activation_bytes",
            "workspace_bytes", "peak_bytes"]
    outdir = os.path.join(args.out, machine)
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "cpu_vs_torch.tsv")
    with open(path + ".tmp", "w") as f:
        f.write(head + "\t".join(cols) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    os.replace(path + ".tmp", path)
    print(head + "\t".join(cols[1:12]))
    for r in rows:
        print("\t".join(map(str, r[1:12])))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""peers.py - our CPU forward against other CPU inference runtimes: ncnn, ONNX Runtime, OpenVINO.

Usage: /usr/bin/python3 bench/peers.py --repvgg BUILD/bin/repvgg [--venv DIR] [--offline]
           [--setup-only] [--out bench/results] [--machine NAME] [--threads 2]
           [--rounds 20] [--repeat 20] [--warmup 3] [--batches 1,8] [--also NAME=REPVGG ...]

The peers come from PyPI, into a Python virtual environment of their own
(default: peers-venv beside the build's bin/, i.e. build/peers-venv), made on
the first run from bench/peers-requirements.txt (every version pinned; about
500 MiB) and checked against it on every run. Nothing else in the project
needs it. --offline never downloads: without a matching environment the run
is skipped (exit 77), as it is when PyPI cannot be reached. --setup-only makes
the environment and stops.

The model: RepVGG-A0 from the notebook's classes after switch_to_fast(), the
weights converted by `repvgg convert` and loaded back strictly
(bench/pybench.py), exported by Debian's PyTorch to ONNX (opset 13, batch
axis free); ONNX Runtime and OpenVINO read that file, and pnnx (the converter
ncnn ships) turns it into ncnn's format with FP16 off. Ours runs the converted
safetensors. Every runtime's output on the same input is compared with
PyTorch's first (relative L2 ||y - y_torch|| / ||y_torch||, printed and
recorded; above 1e-4 the run stops with an error: they must compute the same
function before their times mean anything).

Each runtime runs in its own process (bench/peers_worker.py in the
environment; ours: `repvgg bench`; --also NAME=REPVGG adds another build of
ours, an earlier commit's say, as runtime NAME: so two builds are compared in
the same rounds, each against the same peers): load, W warm-up forwards, R timed ones,
their median. Each round runs every runtime once, in an order rotated from
round to round, so that a slow phase of a shared machine falls on all of them.
Reported per runtime and batch: the median over rounds of those medians and
its quartiles, and the ratio to the fastest peer: the median over rounds of
time / (the fastest of ncnn, ONNX Runtime and OpenVINO in the same round),
with its quartiles. Memory: the peak resident set of the whole process
(ru_maxrss from wait4), its median over rounds; a peer's process holds a
Python interpreter and numpy too, measured alone as the `python` floor.
Threads: --threads for every runtime, set through each one's own option
(bench/peers_worker.py lists them), OMP_NUM_THREADS for ours, with
OPENBLAS_CORETYPE as bench/cpu_vs_torch.py sets it.

Ours built without AVX-512 (the avx2 preset: its `repvgg bench` reports
cpu_isa avx2) on a CPU with AVX-512: the run stands in for a CPU with only
AVX2. OpenVINO is then held to AVX2 too (ONEDNN_MAX_CPU_ISA=AVX2); ncnn and
ONNX Runtime have no such switch and run their AVX-512 code, which can only
flatter them. The machine folder gains "-avx2-stand-in" (on a CPU with only
AVX2 the folder's name ends in "-avx2" of itself).

Writes <out>/<machine>/peers.tsv (atomically), progress on stderr.
Exit: 0 done, 1 error (a runtime failed, outputs differ), 2 bad usage,
77 skipped (no environment and no PyPI, or no PyTorch).
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import numpy as np
    import torch
    from pybench import (also_builds, build_a0, commit, cpu_flags, cpu_isa, cpu_name,
                         machine_name, ours_env, ours_row, run)
except ImportError as e:
    print(f"skipped: {e} (in {sys.executable}); this script needs numpy and torch: run it with "
          "/usr/bin/python3, Debian's (apt-get install python3-numpy python3-torch)")
    sys.exit(77)

REQUIREMENTS = os.path.join(HERE, "peers-requirements.txt")
WORKER = os.path.join(HERE, "peers_worker.py")
PEAK_RSS = os.path.join(HERE, "peak_rss.py")
PEERS = ["onnxruntime", "openvino", "ncnn"]
RUNTIMES = ["ours"] + PEERS
MAX_REL_L2 = 1e-4  # FP32 runtimes agree to ~1e-6 here (Winograd, other summation orders)
EXIT_USAGE, EXIT_SKIP = 2, 77


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        print(f"peers: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def usage(message):
    print(f"peers: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def skip(message):
    print(f"peers: {message}: skipped")
    sys.exit(EXIT_SKIP)


def pins():
    """{name: version} from bench/peers-requirements.txt."""
    out = {}
    with open(REQUIREMENTS) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, version = line.partition("==")
                out[name.strip().lower()] = version.strip()
    return out


def installed(python, names):
    """{name: version or None} as the environment's python sees them."""
    code = ("import importlib.metadata as m, json, sys\n"
            "def v(n):\n"
            "    try:\n        return m.version(n)\n"
            "    except m.PackageNotFoundError:\n        return None\n"
            "print(json.dumps({n: v(n) for n in sys.argv[1:]}))")
    p = subprocess.run([python, "-c", code, *names], capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else {n: None for n in names}


def environment(venv, offline, repvgg):
    """The environment's python, made or brought up to the pins unless offline."""
    python, want = os.path.join(venv, "bin", "python"), pins()
    have = installed(python, want) if os.access(python, os.X_OK) else None
    wrong = [f"{n} {have[n] or 'missing'} (pinned {v})" for n, v in want.items()
             if have and have[n] != v]
    if have and not wrong:
        return python
    if offline:
        skip(f"no environment with the pinned peers at {venv}" +
             (f" ({', '.join(wrong[:3])})" if wrong else "") +
             f", and --offline; make it with {sys.executable} {os.path.abspath(__file__)} "
             f"--repvgg {repvgg} --venv {venv} --setup-only")
    if have is None:
        print(f"peers: making the virtual environment {venv} ...", file=sys.stderr)
        if subprocess.run([sys.executable, "-m", "venv", venv], stdout=sys.stderr).returncode:
            skip(f"cannot make a virtual environment at {venv} (apt-get install python3-venv)")
    print(f"peers: installing {', '.join(f'{n} {want[n]}' for n in PEERS + ['pnnx'])} and what "
          f"they import from PyPI into {venv} (bench/peers-requirements.txt, about 500 MiB) ...",
          file=sys.stderr, flush=True)
    pip = [python, "-m", "pip", "install", "--no-deps", "--only-binary=:all:", "--retries", "2",
           "--timeout", "60", "--disable-pip-version-check", "-r", REQUIREMENTS]
    if subprocess.run(pip, stdout=sys.stderr).returncode:
        skip("cannot install the peers from PyPI (no network?)")
    have = installed(python, want)
    wrong = [n for n, v in want.items() if have[n] != v]
    if wrong:
        sys.exit(f"peers: {venv}: after pip install, {', '.join(wrong)} still not as pinned")
    return python


def measured(cmd, env, what, work):
    """Runs cmd; returns (its stdout, the peak resident set of its process in MiB)."""
    rss = os.path.join(work, "peak_rss.txt")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # in a session of its own, so that an interrupt ends the launcher and cmd together
        p = subprocess.Popen([sys.executable, "-I", "-S", PEAK_RSS, rss, *cmd], stdout=out,
                             stderr=err, env=env, start_new_session=True)
        try:
            p.wait()
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.exit(f"peers: {what} failed ({p.returncode}): {err.read().strip()[-800:]}")
        with open(rss) as f:
            return out.read(), int(f.read()) / 1024.0


def quartiles(v):
    return statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else (v[0], v[0], v[0])


def rel_l2(a, r):
    a, r = np.asarray(a, np.float64), np.asarray(r, np.float64)
    if a.shape != r.shape:
        return float("inf")
    return float(np.linalg.norm(a - r) / max(np.linalg.norm(r), 1e-30))


def main():
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--repvgg", required=True, help="the repvgg binary")
    ap.add_argument("--venv", help="the peers' environment (default: BUILD/peers-venv)")
    ap.add_argument("--offline", action="store_true", help="never download: skip without it")
    ap.add_argument("--setup-only", action="store_true", help="make the environment and stop")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="results root: the TSV goes to OUT/MACHINE/ (default bench/results)")
    ap.add_argument("--machine", default=None,
                    help="results folder name (default: from the CPU model, as rv_bench names it)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every side (default 2)")
    ap.add_argument("--rounds", type=int, default=20,
                    help="rounds; each times every runtime once (default 20)")
    ap.add_argument("--repeat", type=int, default=20,
                    help="timed runs per process; their median counts (default 20)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed runs before the timed ones (default 3)")
    ap.add_argument("--batches", default="1,8", help="batch sizes, comma-separated (default 1,8)")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=REPVGG",
                    help="another build of repvgg (an earlier commit's, say), timed in the same "
                         "rounds as runtime NAME")
    args = ap.parse_args()
    args.also = also_builds(args.also, RUNTIMES + ["python"])
    for opt in ("threads", "rounds", "repeat"):
        if getattr(args, opt) < 1:
            usage(f"--{opt} {getattr(args, opt)}: want at least 1")
    if args.warmup < 0:
        usage(f"--warmup {args.warmup}: want 0 or more")
    if not os.access(args.repvgg, os.X_OK) or os.path.isdir(args.repvgg):
        usage(f"--repvgg {args.repvgg}: not an executable")
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) < 1 or len(set(batches)) != len(batches):
        usage(f"--batches {args.batches}: want distinct batch sizes, e.g. 1,8")
    if args.machine is not None and (not args.machine or "/" in args.machine):
        usage(f"--machine '{args.machine}': want a folder name")
    venv = os.path.abspath(args.venv or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(args.repvgg))), "peers-venv"))
    python = environment(venv, args.offline, args.repvgg)
    if args.setup_only:
        print(f"peers: environment ready: {venv}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a test's timeout too
    with tempfile.TemporaryDirectory(prefix="peers.") as work:  # models, inputs, outputs
        return measure(args, batches, python, work)


def export(args, python, work, gen):
    """Ours' weights; the ONNX and ncnn models of the same fast model; PyTorch's model."""
    _, fast, _, fast_w = build_a0(args.repvgg, work, gen)
    onnx = os.path.join(work, "a0.onnx")
    print("exporting to ONNX (opset 13), converting for ncnn with pnnx (fp16=0) ...",
          file=sys.stderr, flush=True)
    with torch.no_grad():
        torch.onnx.export(fast, torch.zeros(1, 3, 224, 224), onnx, opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    # pnnx's converter is a program inside its package, run without importing the package
    # (which imports torch)
    where = run([python, "-c", "import importlib.util as u; "
                 "print(u.find_spec('pnnx').submodule_search_locations[0])"]).stdout.strip()
    stem = os.path.join(work, "a0")
    run([os.path.join(where, "pnnx"), onnx, "inputshape=[1,3,224,224]", "fp16=0",
         f"pnnxparam={stem}.pnnx.param", f"pnnxbin={stem}.pnnx.bin", f"pnnxpy={stem}_pnnx.py",
         f"pnnxonnx={stem}.pnnx.onnx", f"ncnnparam={stem}.ncnn.param",
         f"ncnnbin={stem}.ncnn.bin", f"ncnnpy={stem}_ncnn.py"])
    return fast, fast_w, {"onnxruntime": onnx, "openvino": onnx, "ncnn": stem + ".ncnn.param"}


def measure(args, batches, python, work):
    gen = torch.Generator().manual_seed(0)
    fast, fast_w, models = export(args, python, work, gen)
    _, tuned, hint, probe = ours_env(args.repvgg, fast_w, args.threads)
    peer_env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    held = probe.get("cpu_isa") == "avx2" and "avx512f" in cpu_flags()  # stands in for AVX2 only
    if held:
        peer_env["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    machine = args.machine or machine_name(args.repvgg) + ("-avx2-stand-in" if held else "")

    tools = dict([("ours", args.repvgg)] + args.also)  # our builds: the tool, and --also's
    runtimes = RUNTIMES + [name for name, _ in args.also]

    def command(name, xpath, repeat, warmup, output=None):
        if name in tools:
            if output:
                return [tools[name], "run", "--weights", fast_w, "--input", xpath, "--output",
                        output, "--device", "cpu"], tuned
            return [tools[name], "bench", "--weights", fast_w, "--input", xpath, "--device",
                    "cpu", "--repeat", str(repeat), "--warmup", str(warmup)], tuned
        return [python, WORKER, name, models.get(name, "-"), xpath, "--threads",
                str(args.threads), "--repeat", str(repeat), "--warmup", str(warmup)] + \
            (["--output", output] if output else []), peer_env

    inputs, errors, info = {}, {}, {}
    print("checking every runtime's output against PyTorch's ...", file=sys.stderr, flush=True)
    for b in batches:
        x = torch.randn(b, 3, 224, 224, generator=gen)
        inputs[b] = os.path.join(work, f"x{b}.npy")
        np.save(inputs[b], x.numpy())
        with torch.no_grad():
            want = fast(x).numpy()
        for name in runtimes:
            y = os.path.join(work, f"y_{name}_{b}.npy")
            out, _ = measured(*command(name, inputs[b], 0 if name not in tools else 1, 0, y),
                              f"{name} (batch {b})", work)
            if name not in tools:
                info[name] = json.loads(out)
            errors[(name, b)] = rel_l2(np.load(y), want)
            print(f"  batch {b}: {name:<12} relative L2 to PyTorch {errors[(name, b)]:.3g}",
                  file=sys.stderr)
    bad = [f"{n} at batch {b}: {e:.3g}" for (n, b), e in errors.items() if not e <= MAX_REL_L2]
    if bad:
        sys.exit(f"peers: outputs differ from PyTorch's by more than {MAX_REL_L2:g} relative L2: "
                 f"{'; '.join(bad)}")
    _, floor = measured(*command("python", inputs[batches[0]], 1, 0), "python alone", work)

    total = len(batches) * args.rounds * len(runtimes)
    done, rows, load = 0, [], [os.getloadavg()[0]]
    for config, b in enumerate(batches):
        times = {n: [] for n in runtimes}
        rss = {n: [] for n in runtimes}
        for r in range(args.rounds):
            k = r % len(runtimes)
            for name in runtimes[k:] + runtimes[:k]:
                out, mib = measured(*command(name, inputs[b], args.repeat, args.warmup),
                                    f"{name} (batch {b})", work)
                ms = float(ours_row(out)["median_ms"]) if name in tools else \
                    statistics.median(json.loads(out)["times_ms"])
                times[name].append(ms)
                rss[name].append(mib)
                done += 1
                print(f"[{done}/{total}] batch {b} round {r + 1}/{args.rounds}: {name} "
                      f"{ms:.2f} ms, peak {mib:.0f} MiB", file=sys.stderr, flush=True)
        fastest = [min(times[p][r] for p in PEERS) for r in range(args.rounds)]
        for name in runtimes:
            t = times[name]
            q1, med, q3 = quartiles(t)
            ratios = [a / f for a, f in zip(t, fastest)]
            r1, ratio, r3 = quartiles(ratios)
            rows.append([config, b, name, f"{med:.3f}", f"{q1:.3f}", f"{q3:.3f}", f"{min(t):.3f}",
                         f"{max(t):.3f}", f"{ratio:.3f}", f"{r1:.3f}", f"{r3:.3f}",
                         f"{statistics.median(rss[name]):.1f}",
                         f"{floor:.1f}" if name not in tools else "", f"{errors[(name, b)]:.3g}"])
    load.append(os.getloadavg()[0])
    write(args, machine, hint, probe.get("cpu_isa", "unknown"), held, python, info, floor, load,
          rows)
    return 0


def write(args, machine, hint, isa, held, python, info, floor, load, rows):
    versions = installed(python, ["onnxruntime", "openvino", "ncnn", "pnnx", "numpy"])
    with open(args.repvgg, "rb") as f:  # a CUDA build names the CUDA runtime among its libraries
        build = ("with the CUDA backend (the CUDA runtime loads at start, cuBLAS only when "
                 "CUDA runs)"
                 if b"libcudart" in f.read() else "CPU-only (REPVGG_CUDA=OFF)")
    blas = f"OPENBLAS_CORETYPE={hint}, as the tool advises" if hint else "OpenBLAS's own choice"
    head = (f"# ours against ncnn, ONNX Runtime and OpenVINO on the CPU: RepVGG-A0 224x224 after "
            f"switch_to_fast, same weights and input, FP32, interleaved rounds\n"
            f"# machine: {machine}\n# cpu: {cpu_name()} ({os.cpu_count()} cores)\n"
            f"# isa: {cpu_isa()}\n"
            f"# date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n# commit: {commit()}\n"
            f"# threads: {args.threads}\n# rounds: {args.rounds}\n"
            f"# load: 1-minute load average {load[0]:.1f} before the rounds, {load[1]:.1f} after "
            f"(the rounds' own {args.threads} threads count in the second"
            f"{'; other processes were busy before the rounds' if load[0] >= 1 else ''})\n"
            f"# versions: " + ", ".join(f"{n} {v}" for n, v in versions.items()) +
            f" (PyPI, bench/peers-requirements.txt); Python {platform.python_version()} "
            f"(environment); PyTorch {torch.__version__} (Debian, export and reference)\n"
            f"# models: ONNX opset 13 from torch.onnx.export (onnxruntime, openvino); "
            f"ncnn from that ONNX by pnnx, fp16=0; ours: repvgg convert's safetensors\n" +
            "".join(f"# {n}: {info[n]['settings']}\n" for n in PEERS) +
            "".join(f"# also: {n} = {t}\n" for n, t in args.also) +
            f"# ours: repvgg bench, OMP_NUM_THREADS={args.threads}, {blas}; build {build}; "
            f"widest vector code {isa}\n" +
            ("# held to AVX2: ours (built with REPVGG_CPU_ISA=avx2) and OpenVINO "
             "(ONEDNN_MAX_CPU_ISA=AVX2) on this AVX-512 CPU, standing in for a CPU with only AVX2; "
             "ncnn and ONNX Runtime have no such switch and ran their AVX-512 code\n"
             if held else "") +
            f"# timing: per round each runtime's median of {args.repeat} forwards after "
            f"{args.warmup} warm-up ones, in a fresh process; median_ms, q1_ms, q3_ms, min_ms, "
            f"max_ms over the rounds; ratio = median over rounds of time / the fastest peer's "
            f"time in the same round, ratio_q1/q3 its quartiles\n"
            f"# memory: peak_rss_mib = peak resident set of the whole process (ru_maxrss), "
            f"median over rounds; python_floor_mib = the peers' worker with only Python, numpy "
            f"and the input loaded ({floor:.1f} MiB)\n"
            f"# rel_l2: ||y - y_torch|| / ||y_torch|| on the batch's input, limit {MAX_REL_L2:g}\n")
    cols = ["config", "batch", "runtime", "median_ms", "q1_ms", "q3_ms", "min_ms", "max_ms",
            "ratio_to_fastest_peer", "ratio_q1", "ratio_q3", "peak_rss_mib", "python_floor_mib",
            "rel_l2_vs_torch"]
    outdir = os.path.join(args.out, machine)
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "peers.tsv")
    with open(path + ".tmp", "w") as f:
        f.write(head + "\t".join(cols) + "\n")
        f.writelines("\t".join(map(str, r)) + "\n" for r in rows)
    os.replace(path + ".tmp", path)
    print(head + "\t".join(cols[1:]))
    for r in rows:
        print("\t".join(map(str, r[1:])))
    by = {(r[1], r[2]): r for r in rows}  # (batch, runtime) -> row
    for b in sorted({r[1] for r in rows}):
        o = by[(b, "ours")]
        lean = min(PEERS, key=lambda p: float(by[(b, p)][11]))
        print(f"batch {b}: ours / the fastest peer {o[8]} (quartiles {o[9]}-{o[10]}); peak "
              f"memory ours {o[11]} MiB, leanest peer {lean} {by[(b, lean)][11]} MiB")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())

"""pybench.py - what the Python benchmarks against other runtimes share.

Imported by bench/cpu_vs_torch.py (ours against PyTorch) and bench/peers.py
(ours against ncnn, ONNX Runtime and OpenVINO); both run under Debian's
/usr/bin/python3, which has python3-torch.

- the model: RepVGG-A0 from the notebook's classes (tests/torch/check_repvgg.py,
  stride fix only), BN statistics calibrated on random images, saved as
  safetensors, converted by `repvgg convert`, and the converted weights loaded
  back into the notebook's fast model with strict=True, so that every runtime
  runs the weights our tool runs;
- our side: the tool's environment (OMP_NUM_THREADS, and OPENBLAS_CORETYPE when
  OpenBLAS would pick kernels older than the CPU: the tool says so on stderr)
  and the row `repvgg bench` prints;
- the metadata every TSV header carries: the source's commit and the CPU.
Exits 77 (skipped) on import when torch or numpy is missing.
"""
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "torch"))
import torch  # noqa: E402 (check_repvgg has already exited 77 without it)
from check_repvgg import RepVGG, calibrate, load_safetensors, save_safetensors  # noqa: E402

A0 = ([48, 48, 96, 192, 1280], [2, 4, 14, 1])  # RepVGG(widths, depths), the notebook's A0
PROG = os.path.splitext(os.path.basename(sys.argv[0]))[0]


def run(cmd, env=None):
    """Runs cmd; on failure exits with one line naming the command and its error."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{PROG}: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def also_builds(specs, taken):
    """--also NAME=REPVGG, each: [(NAME, REPVGG)]; exits on a NAME already taken (by a
    variant of the script's own) or a REPVGG that is not an executable."""
    also = []
    for a in specs:
        name, _, tool = a.partition("=")
        if not name or name in taken or name in dict(also) or not os.access(tool, os.X_OK):
            sys.exit(f"{PROG}: --also {a}: want NAME=REPVGG, NAME new, REPVGG an executable")
        also.append((name, tool))
    return also


def build_a0(tool, work, gen):
    """The train-time A0 and its fast form, with their safetensors files in work."""
    print("building RepVGG-A0 (notebook classes), calibrating BN ...", file=sys.stderr)
    torch.manual_seed(0)
    train = RepVGG(*A0).eval()
    calibrate(train, gen)
    train_w = os.path.join(work, "a0.safetensors")
    fast_w = os.path.join(work, "a0_fast.safetensors")
    save_safetensors(train_w, train.state_dict())
    run([tool, "convert", train_w, fast_w])
    with torch.no_grad():  # the notebook's fusion writes into parameters in place
        fast = RepVGG(*A0).eval().switch_to_fast().eval()
    fast.load_state_dict(load_safetensors(fast_w), strict=True)
    return train, fast, train_w, fast_w


def ours_env(tool, weights, threads):
    """Our tool's environment: (base, tuned, hint, row). base sets the threads; tuned
    also sets OPENBLAS_CORETYPE to the hint the tool prints, when it prints one;
    row is the probe's `repvgg bench` row (its cpu_isa, say)."""
    base = dict(os.environ, OMP_NUM_THREADS=str(threads))
    base.pop("OPENBLAS_CORETYPE", None)
    probe = run([tool, "bench", "--weights", weights, "--shape", "1,3,32,32", "--device", "cpu",
                 "--repeat", "1", "--warmup", "0"], base)
    hint = None
    for word in probe.stderr.split():
        if word.startswith("OPENBLAS_CORETYPE="):
            hint = word.split("=", 1)[1]
    return (base, dict(base, **({"OPENBLAS_CORETYPE": hint} if hint else {})), hint,
            ours_row(probe.stdout))


def ours_row(text):
    """The row `repvgg bench` printed (its last two lines: names, values), as a dict."""
    head, row = text.strip().split("\n")[-2:]
    return dict(zip(head.split("\t"), row.split("\t")))


def commit():
    """The source's git commit, or "unknown" outside a git checkout; said to
    have changes when the library or the tool differ from it (a run before
    the commit that will hold them)."""
    p = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", os.path.dirname(HERE), "diff", "--quiet", "HEAD", "--",
                            "src", "kernels", "tools", "CMakeLists.txt"]).returncode != 0
    return p.stdout.strip() + (" with uncommitted changes to the library or tool" if dirty else "")


def cpu_name():
    """The CPU's model name from /proc/cpuinfo."""
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                    platform.processor())


def cpu_flags():
    """The CPU's flags from /proc/cpuinfo (avx2, avx512f, ...)."""
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])


# the vector instructions worth naming in a result, in /proc/cpuinfo's words
ISA = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
       "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16")


def cpu_isa():
    """The CPU's vector instructions among ISA, e.g. "sse4_2 avx avx2 fma f16c"."""
    flags = cpu_flags()
    return " ".join(f for f in ISA if f in flags)


def machine_name(tool):
    """The results folder rv_bench files this CPU's results under, as the rv_bench
    built beside TOOL (our repvgg binary) says: `rv_bench --machine-name --device
    cpu` (the rule, written once: src/base/rv_machine.h), so every script's
    results land together, e.g. amd-epyc-2c-avx2."""
    bench = os.path.join(os.path.dirname(os.path.abspath(tool)), "rv_bench")
    if not os.access(bench, os.X_OK):
        sys.exit(f"{PROG}: {bench}: no rv_bench beside --repvgg to name the results folder "
                 "(build it, or give --machine NAME)")
    return run([bench, "--machine-name", "--device", "cpu"]).stdout.strip()

"""torch_bench.py - PyTorch's time for the same networks, the yardstick.

Usage: torch_bench.py OUT.tsv --device cpu|cuda [--batches 1,32,128] [--repeat 50] [--size 224]

Builds RepVGG A0, A1, B0 with the notebook's classes (tests/torch/check_repvgg.py,
stride fix only), train-time (eval mode) and after switch_to_fast(), and times
model(x) with warm-up and synchronisation: CUDA events on the GPU (TF32 off,
cuDNN's algorithm search on: torch.backends.cudnn.benchmark), the host clock on
the CPU. Writes a TSV with a `#` metadata header. Exit 77 without torch.
"""
import argparse
import copy
import datetime
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "torch"))
try:
    import torch
    from check_repvgg import RepVGG
except ImportError as e:
    print(f"skipped: {e} (in {sys.executable}); this script needs numpy and torch: run it with "
          "/usr/bin/python3, Debian's (apt-get install python3-numpy python3-torch)")
    sys.exit(77)

PRESETS = {"A0": (0.75, 2.5, [2, 4, 14, 1]), "A1": (1.0, 2.5, [2, 4, 14, 1]),
           "B0": (1.0, 2.5, [4, 6, 16, 1])}


def widths(a, b):
    return [int(min(64, 64 * a)), int(64 * a), int(128 * a), int(256 * a), int(512 * b)]


def time_ms(model, x, device, repeat):
    with torch.no_grad():
        for _ in range(5):
            model(x)
        samples = []
        for _ in range(repeat):
            if device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(x)
                end.record()
                torch.cuda.synchronize()
                samples.append(start.elapsed_time(end))
            else:
                t0 = time.perf_counter()
                model(x)
                samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples), min(samples), max(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batches", default="1,32,128")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("skipped: no CUDA device for torch")
        return 77
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "none"
    rows = []
    for arch, (a, b, depths) in PRESETS.items():
        torch.manual_seed(0)
        train = RepVGG(widths(a, b), depths).eval().to(args.device)
        with torch.no_grad():  # the notebook's fusion writes into parameters in place
            fast = copy.deepcopy(train).switch_to_fast().eval()
        for batch in map(int, args.batches.split(",")):
            x = torch.randn(batch, 3, args.size, args.size, device=args.device)
            for form, model in (("train", train), ("deploy", fast)):
                med, lo, hi = time_ms(model, x, args.device, args.repeat)
                rows.append(f"{arch}\t{args.device}\t{batch}\t{args.size}\t{form}\t{med:.4f}\t"
                            f"{lo:.4f}\t{hi:.4f}\t{batch * 1e3 / med:.2f}")
                print(rows[-1], flush=True)
    with open(args.out + ".tmp", "w") as f:
        f.write(f"# PyTorch {torch.__version__} eager, the notebook's classes, TF32 off, "
                f"cudnn.benchmark on\n# device: {args.device} ({gpu}); threads: "
                f"{torch.get_num_threads()}\n# date: "
                f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n# repeat: {args.repeat} "
                f"after 5 warm-up runs\narch\tdevice\tbatch\tsize\tform\tmedian_ms\tmin_ms\t"
                f"max_ms\timages_per_s\n" + "\n".join(rows) + "\n")
    os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

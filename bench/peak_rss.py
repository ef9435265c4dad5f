"""peak_rss.py - runs a command and writes the peak resident set of its process.

Usage: python3 -I -S bench/peak_rss.py OUT.txt COMMAND [ARGS...]

Writes ru_maxrss of COMMAND's process (KiB, from wait4) to OUT.txt and exits
with COMMAND's exit code (127 when it cannot be started). Why a process of
its own: on Linux a child's ru_maxrss starts from the resident size of the
process it was forked from (exec keeps the larger of the two), so a benchmark
that holds PyTorch and a model would see its own size in every child. This
launcher, started with -I -S, is about 6 MiB: peaks below that cannot be
seen, and none of the runtimes measured comes near it.
"""
import os
import sys

pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))

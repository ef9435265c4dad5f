"""bench_check.py - what the checks of the Python benchmarks share.

check_cpu_vs_torch.py and check_peers.py each run a script of bench/ briefly
and read back the TSV it writes; these run the script, read the TSV's header
and report the result with the exit codes CTest understands (0 pass, 1 fail,
77 skipped).
"""
import subprocess
import sys


def run_script(script, args):
    """Runs bench/SCRIPT with this python; None when it finished, else the
    test's exit code (77 when it skipped itself, 1 when it failed), said."""
    p = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if p.returncode == 77:
        print(p.stdout.strip())
        return 77
    if p.returncode != 0:
        print(f"FAIL: {script} exited {p.returncode}: {p.stderr.strip()[-800:]}")
        return 1
    return None


def header(lines, keys, fails):
    """The TSV's `# key: value` lines as a dict; appends to fails each of keys
    that is missing or empty."""
    head = {l[2:].split(":", 1)[0]: l.split(":", 1)[1].strip() for l in lines if l.startswith("# ")
            and ":" in l}
    fails += [f"header: no '# {key}:' line" for key in keys if not head.get(key)]
    return head


def report(what, rows, fails):
    """Prints each failure and a summary line; the test's exit code."""
    for f in fails:
        print("FAIL:", f)
    print(f"{what}: {rows} rows checked, {len(fails)} failures")
    return 1 if fails else 0

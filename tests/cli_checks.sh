# cli_checks.sh - the checks the command-line tests share (sourced, not run):
# each prints "ok:" or "FAIL:" and counts failures in $failures, which the
# sourcing script sets to 0 and turns into its exit code.

# expect CODE TEXT -- COMMAND...: exit status CODE and TEXT somewhere in the output;
# expect_out the same with TEXT on standard output (a result), not only on stderr
expect() { check_output "2>&1" "$@"; }
expect_out() { check_output "2>/dev/null" "$@"; }
check_output() {
    local where=$1 want=$2 text=$3
    shift 4
    local out got
    if [ "$where" = "2>&1" ]; then out=$("$@" 2>&1); else out=$("$@" 2>/dev/null); fi
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -qF -- "$text" <<<"$out"; then
        echo "FAIL: $* -> exit $got (want $want with '$text', $where): $out"
        failures=$((failures + 1))
    else
        echo "ok:   $* -> $got: $(grep -F -- "$text" <<<"$out" | head -1)"
    fi
}

# absent FILE...: none of the files exists
absent() {
    for f in "$@"; do
        if [ -e "$f" ]; then
            echo "FAIL: $f was left behind"
            failures=$((failures + 1))
        fi
    done
}

# npy FILE N C H W: a float32 .npy of that shape, values from a fixed pattern
npy() {
    python3 - "$@" <<'PY'
import struct, sys
path, dims = sys.argv[1], [int(v) for v in sys.argv[2:]]
n = 1
for d in dims: n *= d
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, dims))
header += " " * (-(len(header) + 11) % 64) + "\n"
data = struct.pack("<%df" % n, *[((i * 37) % 19 - 9) / 9.0 for i in range(n)])
open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
PY
}

# fail TEXT...: one failed check, said
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

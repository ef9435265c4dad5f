#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS - fuzzes each target for SECONDS with libFuzzer
# (built by the `fuzz` preset), starting from the seed corpus under
# tests/fuzz/corpus/<target>/ copied to a scratch directory (the source tree
# is never written). A crash fails the run; the input that crashed is printed
# and kept as BUILD_DIR/fuzz-<target>-crash-*: add it to
# tests/fuzz/regressions/<target>/ with the fix, so every build replays it.
set -u
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
failures=0
for t in safetensors npy weights idx; do
    scratch=$(mktemp -d)
    cp -r "$here/corpus/$t/." "$scratch/"
    out=$("$build/bin/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-$t-" "$scratch" 2>&1)
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' <<<"$out" | grep -o '[0-9]*$')
    [ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' <<<"$out" | tail -1 | tr -d '#')
    if [ $rc -ne 0 ]; then
        echo "FAIL fuzz_$t (exit $rc):"
        tail -30 <<<"$out"
        failures=$((failures + 1))
    else
        echo "ok   fuzz_$t: ${execs:-?} executions in ${seconds} s, no crash"
    fi
    rm -rf "$scratch"
done
[ $failures -eq 0 ]

#!/usr/bin/env bash
# quick_test.sh RV_BENCH PLOT_SH WORK [DEVICE [CHART...]] - the whole `make bench`
# pipeline in quick mode into WORK: harness, TSV files, gnuplot, PNG and SVG
# files present and non-empty. DEVICE (default cpu) is rv_bench's --device;
# CHARTs are expected beyond the five every run draws (cudnn on a GPU build
# with cuDNN). Exit 77 (skipped) without gnuplot.
set -u
bench=$1
plot=$2
work=$3
device=${4:-cpu}
extra=("${@:5}")
command -v gnuplot >/dev/null 2>&1 || { echo "skipped: gnuplot is not installed"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || exit 1
"$bench" --quick --device "$device" --machine quick-test --out "$work/results" || exit 1
bash "$plot" "$work/results" "$work/plots" || exit 1
failures=0
for t in pairs block networks naive speedup "${extra[@]}"; do
    f="$work/results/quick-test/$t.tsv"
    rows=$(grep -vc '^#' "$f" 2>/dev/null || echo 0)
    [ "$rows" -ge 2 ] || { echo "FAIL: $f has no data rows"; failures=$((failures + 1)); }
    for fmt in png svg; do
        [ -s "$work/plots/quick-test-$t.$fmt" ] || { echo "FAIL: no chart quick-test-$t.$fmt"; failures=$((failures + 1)); }
    done
done
leftovers=$(find "$work" -name '*.tmp*')
[ -z "$leftovers" ] || { echo "FAIL: temporaries left: $leftovers"; failures=$((failures + 1)); }
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) bench_quick: $failures failed check(s)"
[ $failures -eq 0 ]

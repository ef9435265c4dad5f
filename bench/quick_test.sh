#!/usr/bin/env bash
# quick_test.sh RV_BENCH PLOT_SH WORK [DEVICE [CHART...]] - the whole `make bench`
# pipeline in quick mode into WORK: harness, TSV files, gnuplot, PNG and SVG
# files present and non-empty, the gallery listing every chart, and what the
# charts need from the TSVs: the kernels of the three pictures, every
# lesson's pair of forms the pairs chart draws and their speed-ups, the memory
# of the networks in its parts (which add up to no more than the peak), the
# notebook's quoted ratio, the run time, lesson 10's INT8 errors (finite, every
# network, form and weight grain) and weight histograms (every kind of tap of
# both networks); the progress line numbering the experiments 1..N in the
# order they run; a closed or full standard output as an error. DEVICE
# (default cpu) is rv_bench's --device; CHARTs are expected beyond the eight
# every run draws (cudnn on a GPU build with cuDNN).
# Exit 77 (skipped) without gnuplot.
set -u
bench=$1
plot=$2
work=$3
device=${4:-cpu}
extra=("${@:5}")
command -v gnuplot >/dev/null 2>&1 || { echo "skipped: gnuplot is not installed"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || exit 1
"$bench" --quick --device "$device" --machine quick-test --out "$work/results" 2>"$work/bench.err"
rc=$?
cat "$work/bench.err" >&2
[ $rc -eq 0 ] || exit 1
bash "$plot" "$work/results" "$work/plots" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
res="$work/results/quick-test"
gallery="$work/plots/README.md"
for t in kernels pairs block networks naive speedup int8 int8_weights "${extra[@]}"; do
    f="$res/$t.tsv"
    rows=$(grep -vc '^#' "$f" 2>/dev/null || echo 0)
    [ "$rows" -ge 2 ] || fail "$f has no data rows"
    for fmt in png svg; do
        [ -s "$work/plots/quick-test-$t.$fmt" ] || fail "no chart quick-test-$t.$fmt"
    done
    grep -q "(quick-test-$t.png)" "$gallery" 2>/dev/null || fail "the gallery does not show $t"
done
# the value of column `name` in each data row of a TSV
col() {
    awk -F'\t' -v name="$2" '/^#/ { next } !h { for (i = 1; i <= NF; i++) if ($i == name) c = i
                                                h = 1; next } { print (c ? $c : "missing") }' "$1"
}
for p in pad identity block; do
    col "$res/kernels.tsv" picture | grep -qx "$p" || fail "kernels.tsv has no picture $p"
done
for p in two_branch conv_bn block acnet dbb; do
    col "$res/pairs.tsv" pair | grep -qx "$p" || fail "pairs.tsv has no pair $p"
done
paste <(col "$res/networks.tsv" buffer_bytes) <(col "$res/networks.tsv" workspace_bytes) \
      <(col "$res/networks.tsv" planned_weight_bytes) <(col "$res/networks.tsv" peak_bytes) |
    awk -F'\t' '!($1 > 0 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $1 + $2 + $3 <= $4) {
                    print "FAIL: networks.tsv row " NR ": buffers " $1 ", workspace " $2 \
                          ", Winograd weights " $3 ", peak " $4; bad = 1 }
                END { exit bad }' || failures=$((failures + 1))
col "$res/naive.tsv" method | grep -qx notebook_printed || fail "naive.tsv lacks the notebook's row"
for p in two_branch conv_bn block mobileone; do
    col "$res/pairs.tsv" pair | grep -qx "$p" || fail "pairs.tsv has no pair $p"
done
col "$res/speedup.tsv" step | grep -q '^MobileOne block' ||
    fail "speedup.tsv has no MobileOne block"
grep -q '^# run time: [0-9]* s' "$res/speedup.tsv" ||
    fail "speedup.tsv does not record the run time"
for c in weight_sqnr_db alone_sqnr_db chain_sqnr_db chain_rel_l2; do
    col "$res/int8.tsv" $c | grep -qvE '^-?[0-9]+(\.[0-9]+)?$' &&
        fail "int8.tsv: a value of $c is not a finite number"
done
combos=$(paste <(col "$res/int8.tsv" net) <(col "$res/int8.tsv" form) \
               <(col "$res/int8.tsv" weights) | sort -u | wc -l)
[ "$combos" -eq 8 ] || fail "int8.tsv has $combos of the 8 networks x forms x weight grains"
kinds=$(paste <(col "$res/int8_weights.tsv" net) <(col "$res/int8_weights.tsv" kind) |
        sort -u | wc -l)
[ "$kinds" -eq 8 ] || fail "int8_weights.tsv has $kinds of the 2 networks x 4 kinds"
# the progress lines "[i/N] ...": i runs 1, 2, .. N in order, and each
# experiment's first line names the files it writes: every one expected, once
printf '%s.tsv\n' kernels pairs block networks naive speedup int8 int8_weights "${extra[@]}" \
    >"$work/expected"
tr '\r' '\n' <"$work/bench.err" | sed -n 's/^\[\([0-9]*\)\/\([0-9]*\)\] /\1 \2 /p' |
    awk -v expected="$work/expected" '
        BEGIN { while ((getline t <expected) > 0) want[t] = 1 }
        NR == 1 { n = $2 }
        $2 != n || ($1 != last && $1 != last + 1) { bad = 1 }
        $1 != last { files = $0; sub(/^[0-9]+ [0-9]+ /, "", files); sub(/: .*/, "", files)
                     k = split(files, part, ", ")
                     for (j = 1; j <= k; j++) seen[part[j]]++ }
        { last = $1 }
        END { for (t in want) if (seen[t] != 1) bad = 1
              for (t in seen) if (!(t in want)) bad = 1
              exit !(NR > 0 && !bad && last == n) }' ||
    fail "the progress lines do not number the experiments 1 to N in order, each naming its files"
# standard output carries results (--machine-name, --help, the fresh processes'
# first-call times): closed, rv_bench refuses to start, measuring and writing
# nothing; a write that fails is exit 1
msg=$("$bench" --quick --device "$device" --machine closed --out "$work/closed" 2>&1 >&-)
rc=$?
[ $rc -eq 1 ] && grep -q "standard output is closed" <<<"$msg" && [ ! -e "$work/closed" ] ||
    fail "rv_bench with standard output closed: exit $rc, \"$msg\""
msg=$("$bench" --machine-name --device "$device" 2>&1 >/dev/full)
rc=$?
[ $rc -eq 1 ] && grep -q "cannot write the results to standard output" <<<"$msg" ||
    fail "rv_bench --machine-name >/dev/full: exit $rc, \"$msg\""
leftovers=$(find "$work" -name '*.tmp*')
[ -z "$leftovers" ] || fail "temporaries left: $leftovers"
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) bench_quick: $failures failed check(s)"
[ $failures -eq 0 ]

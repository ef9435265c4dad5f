#!/usr/bin/env bash
# busy_warning.sh LESSON REPVGG WORK - the busy-machine warning, as a student sees it.
#
# Beside one busy loop per core (each stops by itself after 60 s, and all are
# killed on exit), lesson LESSON (one that prints a timing table) must print
# "warning: the machine was not quiet" right after its ratio, and
# `repvgg bench` must print it on stderr and write quiet = no in its TSV row.
# WORK is a scratch folder for the weights `repvgg init` writes.
set -u
lesson=$1
tool=$2
work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
busy=()
cleanup() { [ ${#busy[@]} -eq 0 ] || kill "${busy[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
"$tool" init --arch A0 "$work/a0.safetensors" >/dev/null 2>&1 || { echo "FAIL: repvgg init"; exit 1; }
for _ in $(seq "$(nproc)"); do
    timeout 60 bash -c 'while :; do :; done' &
    busy+=($!)
done
sleep 0.2
out=$("$lesson" --device cpu 2>&1)
echo "$out" | grep -A1 "median against median"
# the warning follows the ratio (and the memory line after it)
if ! echo "$out" | grep -A2 "median against median" | grep -q "warning: the machine was not quiet"; then
    fail "$(basename "$lesson") printed no busy-machine warning beside its ratio"
fi
"$tool" bench --weights "$work/a0.safetensors" --shape 1,3,32,32 --device cpu --repeat 20 \
    >"$work/bench.tsv" 2>"$work/bench.err"
cat "$work/bench.err"
grep -q "warning: the machine was not quiet" "$work/bench.err" ||
    fail "repvgg bench printed no busy-machine warning"
quiet=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["quiet"] }' \
    "$work/bench.tsv")
[ "$quiet" = no ] || fail "repvgg bench's TSV says quiet = '$quiet' beside busy loops"
[ $failures -eq 0 ] && echo "PASS busy_warning" || echo "FAIL busy_warning: $failures failed check(s)"
[ $failures -eq 0 ]

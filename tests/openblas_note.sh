#!/usr/bin/env bash
# openblas_note.sh PROGRAM - the note about OpenBLAS's kernels, as a user meets
# it. OpenBLAS picks its kernels from the CPU's model, and a model newer than
# the library gets its oldest ones; OPENBLAS_CORETYPE=Prescott (the oldest
# x86-64 kernels) stands in for that here. The program (a lesson) must then
# print exactly one note naming the kernels and the OPENBLAS_CORETYPE to set
# (SkylakeX or Haswell), and run without a note once that value is set.
# Exit 77 (skipped) on a CPU without AVX2 and FMA, where no faster kernels
# exist to advise.
set -u
program=$1
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
if [[ " $flags " != *" avx2 "* || " $flags " != *" fma "* ]]; then
    echo "skipped: this CPU has no AVX2 and FMA, so there are no faster kernels to advise"
    exit 77
fi
run() { # OPENBLAS_CORETYPE -> the program's notes about OpenBLAS, one a line
    OPENBLAS_CORETYPE=$1 "$program" --device cpu --batch 1 --channels 4 --size 8 --repeat 1 \
        2>&1 >/dev/null | grep '^note: OpenBLAS' || true
}
notes=$(run Prescott)
count=$(grep -c . <<<"$notes")
value=$(grep -o 'OPENBLAS_CORETYPE=[A-Za-z]*' <<<"$notes" | head -n 1 | cut -d= -f2)
failures=0
if [ "$count" -ne 1 ] || ! grep -q 'runs its Prescott kernels' <<<"$notes"; then
    echo "FAIL: with OpenBLAS on its Prescott kernels, want one note naming them, got $count:"
    echo "$notes"
    failures=1
elif [ "$value" != SkylakeX ] && [ "$value" != Haswell ]; then
    echo "FAIL: the note advises OPENBLAS_CORETYPE='$value', want SkylakeX or Haswell: $notes"
    failures=1
else
    echo "ok:   one note: $notes"
    after=$(run "$value")
    if [ -n "$after" ]; then
        echo "FAIL: with OPENBLAS_CORETYPE=$value set as advised, still a note: $after"
        failures=1
    else
        echo "ok:   with OPENBLAS_CORETYPE=$value, no note"
    fi
fi
exit $failures

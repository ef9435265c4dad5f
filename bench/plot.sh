#!/usr/bin/env bash
# plot.sh RESULTS PLOTS - draws every chart from RESULTS/<machine>/*.tsv into
# PLOTS/<machine>-<chart>.png and .svg, one gnuplot script per chart (bench/*.gp,
# sharing bench/common.gpi), then writes the gallery PLOTS/README.md from the
# charts present (bench/gallery.sh). Each file is drawn to a temporary name
# and renamed, so an interrupted run leaves nothing half-drawn. A chart that
# fails (a TSV from an older rv_bench, say) is named and skipped; the exit
# status is then 1.
set -euo pipefail
results=$1
plots=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot.sh: gnuplot is not installed: the data are in $results, but no chart was drawn" \
         "(apt-get install gnuplot-nox)"
    exit 0
fi
mkdir -p "$plots"
trap 'rm -f "$plots"/*.tmp' EXIT
trap 'exit 130' INT TERM
failed=0
for dir in "$results"/*/; do
    machine=$(basename "$dir")
    # a chart's own TSV names its date and machine; pairs.tsv (rv_bench's, absent
    # where only the Python benchmarks ran) fills in what it lacks and the devices
    # (awk reads the files itself: a reader that quits early in a pipe would
    # kill its writer with SIGPIPE, which pipefail turns into a failure)
    pairs=()
    [ ! -f "$dir/pairs.tsv" ] || pairs=("$dir/pairs.tsv")
    meta() {
        awk -v k="# $1: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' \
            "$2" "${pairs[@]}" | tr -d "'"
    }
    devs=""
    [ ${#pairs[@]} -eq 0 ] ||
        devs=$(grep -v '^#' "${pairs[0]}" | tail -n +2 | cut -f2 | sort -u | tr '\n' ' ')
    drawn=0
    for gp in "$here"/*.gp; do
        chart=$(basename "$gp" .gp)
        tsv="$dir/$chart.tsv"
        [ -f "$tsv" ] || continue # cudnn.tsv exists only from a GPU run
        gpu=$(meta gpu "$tsv")
        where="$machine: $(meta cpu "$tsv")${gpu:+, GPU $gpu}, $(meta date "$tsv")"
        mode=$(grep -m1 "^# mode: " "$tsv" | cut -d' ' -f3 || true)
        [ -z "$mode" ] || where="$where, $mode run"
        load=$(meta load "$tsv") # the machine's load average, where the TSV records it
        [ -z "$load" ] || where="$where, ${load%% (*}"
        # peers.py standing in for an AVX2-only CPU: who ran which code (a
        # line of its own under the title, in the charts that show it)
        held=$(meta 'held to AVX2' "$tsv" | sed 's/ ([^)]*)//g')
        others=${held#*; }
        [ -z "$held" ] || held="${held%% on this*} held to AVX2, ${others%% have no*} on AVX-512"
        for fmt in png svg; do
            out="$plots/$machine-$chart.$fmt"
            # gnuplot warns of every filtered-out series ("no valid points"):
            # those lines are dropped, any other message is shown
            if gnuplot -e "dir='$dir'; where='$where'; held='$held'; devs='$devs'; fmt='$fmt'" \
                -e "out='$out.tmp'" \
                -e "load '$here/common.gpi'" "$gp" 2>"$plots/gnuplot.log.tmp"; then
                mv "$out.tmp" "$out"
            else
                echo "plot.sh: cannot draw $machine-$chart.$fmt from $tsv (written by an older" \
                     "rv_bench? run make bench again)" >&2
                failed=1
            fi
            grep -v -i "no valid \(data \)\?points" "$plots/gnuplot.log.tmp" >&2 || true
        done
        drawn=1
    done
    [ $drawn -eq 0 ] || echo "plot.sh: charts for $machine in $plots"
done
bash "$here/gallery.sh" "$results" "$plots"
echo "plot.sh: gallery in $plots/README.md"
exit $failed

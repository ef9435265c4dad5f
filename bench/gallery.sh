#!/usr/bin/env bash
# gallery.sh RESULTS PLOTS - writes PLOTS/README.md, the chart gallery, from
# the charts present in PLOTS (<machine>-<chart>.png, one chart per script
# bench/<chart>.gp): per machine its CPU, GPU and run time, per chart its
# heading and description (the `#:` lines of its script), where and when its
# data were measured (the `#` header of RESULTS/<machine>/<chart>.tsv), and
# for some charts a table of the measured figures. Nothing in it is typed by
# hand: run again after new measurements. Written atomically.
set -euo pipefail
results=$1
plots=$2
here=$(cd "$(dirname "$0")" && pwd)
out="$plots/README.md"
tmp="$out.tmp"
trap 'rm -f "$tmp"' EXIT

# The charts in the order a reader meets them, then any others.
order="kernels pairs block networks naive speedup int8 int8_weights cpu_vs_torch peers cudnn"
charts=$order
for gp in "$here"/*.gp; do
    c=$(basename "$gp" .gp)
    case " $order " in *" $c "*) ;; *) charts="$charts $c" ;; esac
done

# `# key: value` of a TSV header; empty when absent.
meta() {
    [ -f "$2" ] || return 0
    awk -v k="# $1: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$2"
}

# The first TSV of a results folder; empty when it has none.
first_tsv() { ls "$1"/*.tsv 2>/dev/null | head -n 1 || true; }

# A markdown table from a TSV, after a line of text: the named columns, with
# headings; columns in bytes (named *_bytes) printed in MiB. Rows filtered by
# an awk condition on the columns by name (c["batch"] == 1, say). Nothing
# when the TSV lacks a column (written by an older rv_bench).
table() {
    local tsv=$1 intro=$2 cols=$3 heads=$4 cond=${5:-1}
    awk -F'\t' -v intro="$intro" -v cols="$cols" -v heads="$heads" '
        /^#/ { next }
        !h { for (i = 1; i <= NF; i++) col[$i] = i; h = 1
             n = split(cols, want, " "); split(heads, head, "|")
             for (i = 1; i <= n; i++) if (!(want[i] in col)) exit
             printf "\n%s\n\n", intro
             line = "|"; rule = "|"
             for (i = 1; i <= n; i++) { line = line " " head[i] " |"; rule = rule " --- |" }
             print line; print rule; next }
        { for (k in col) c[k] = $col[k] }
        '"$cond"' {
             line = "|"
             for (i = 1; i <= n; i++) {
                 v = $col[want[i]]
                 if (want[i] ~ /_bytes$/) v = sprintf("%.1f", v / 1048576)
                 line = line " " v " |"
             }
             print line }' "$tsv"
}

{
    cat <<'EOF'
# Charts

Every chart here is drawn by `bench/plot.sh` from the TSV files in
`bench/results/<machine>/`, written by `build/bin/rv_bench` (and, for the
comparisons with PyTorch and with other runtimes, `bench/cpu_vs_torch.py` and
`bench/peers.py`). Each TSV starts with `#` lines naming the machine, CPU, GPU,
date, commit, build and threads; this page is written from those lines and
from the charts present, by `bench/gallery.sh`. A machine's name ends in
`-avx2` when its CPU has AVX2 but no AVX-512. `make bench` in `build/` (or
`cmake --build build --target bench`) measures and draws everything again but
those two comparisons, which their scripts run. Timing is honest throughout:
warm-up runs, a device sync before the clock is read, the two forms of a pair
run by turns (so a slow phase of a shared machine falls on both), and the
median with the fastest and slowest of many runs. Compare forms side by side,
not runs taken hours apart.
Files are named `<machine>-<chart>.png` (and `.svg`). Each machine's "kernels"
are OpenBLAS's own names for the code it ran: OpenBLAS picks them from the
CPU's model when it loads, and where its pick is older than the CPU (as on
`intel-xeon-2c`, where it picks `Prescott`) the programs ask for a newer one
and the benchmarks set it (`docs/performance.md` has the rule).
EOF
    machines=$(for c in $charts; do
        for png in "$plots"/*-"$c".png; do
            if [ -f "$png" ]; then basename "$png" "-$c.png"; fi
        done
    done | sort -u)
    gpus=0
    for m in $machines; do
        dir="$results/$m"
        any=$(first_tsv "$dir")
        gpu=$(if [ -n "$any" ]; then meta gpu "$any"; fi)
        if [ -n "$gpu" ] && [ "$gpu" != none ]; then gpus=1; fi
    done
    if [ $gpus -eq 0 ]; then
        printf '\nNo GPU chart exists yet: a GPU chart appears only from a run on a GPU\n'
        printf '(`bench/gpu_check.sh`).\n'
    fi
    [ -n "$machines" ] || printf '\nNo chart has been drawn yet: run `make bench` in `build/`.\n'
    for m in $machines; do
        dir="$results/$m"
        speed="$dir/speedup.tsv"
        printf '\n## %s\n\n' "$m"
        # the CPU's vector instructions, where a TSV lists them (peers.py's does)
        isa=$(for t in "$dir"/*.tsv; do meta isa "$t"; done | head -n 1)
        isa=${isa:+, vector instructions $isa}
        if [ -f "$speed" ]; then
            printf 'CPU: %s%s; GPU: %s.  \n' "$(meta cpu "$speed")" "$isa" "$(meta gpu "$speed")"
            printf 'Threads and kernels: %s.  \n' "$(meta 'cpu threads' "$speed")"
            printf "Run time of rv_bench, as it measured itself: %s; %s, %s run, commit %s.\n" \
                "$(meta 'run time' "$speed")" "$(meta date "$speed")" \
                "$(meta mode "$speed" | cut -d' ' -f1)" "$(meta commit "$speed")"
        elif any=$(first_tsv "$dir") && [ -n "$any" ]; then
            # a folder of one script's runs (peers.py's, say), no rv_bench run
            printf 'CPU: %s%s; only %s measured here.  \n' "$(meta cpu "$any")" "$isa" \
                "$(cd "$dir" && ls -- *.tsv | sed 's/^/`/; s/$/`/' | paste -sd, |
                    sed 's/,\([^,]*\)$/ and \1/; s/,/, /g')"
            held=$(meta 'held to AVX2' "$any")
            [ -z "$held" ] || printf 'Held to AVX2: %s.\n' "$held"
        else
            printf 'Its measurements are not in `bench/results/%s/`.\n' "$m"
        fi
        for c in $charts; do
            [ -f "$plots/$m-$c.png" ] || continue
            gp="$here/$c.gp"
            tsv="$dir/$c.tsv"
            heading=$(grep -m1 '^#: ' "$gp" | cut -c4- || true)
            printf '\n### %s — `%s-%s.png`\n\n' "${heading:-$c}" "$m" "$c"
            printf '![%s](%s-%s.png)\n\n' "$c" "$m" "$c"
            grep '^#: ' "$gp" | tail -n +2 | cut -c4- || true
            if [ -f "$tsv" ]; then
                mode=$(meta mode "$tsv" | cut -d' ' -f1)
                printf '\nData: `bench/results/%s/%s.tsv`, written %s at commit %s%s.\n' \
                    "$m" "$c" "$(meta date "$tsv")" "$(meta commit "$tsv")" \
                    "${mode:+ ($mode run)}"
                case $c in
                speedup)
                    table "$tsv" "The speed-ups in figures:" \
                        "step device train_ms deploy_ms speedup" \
                        "step|device|train-time (ms)|deploy-time (ms)|speed-up (x)" ;;
                networks)
                    least=$(awk -F'\t' '/^#/ { next }
                                        !h { for (i = 1; i <= NF; i++) if ($i == "batch") b = i
                                             h = 1; next }
                                        !m || $b < m { m = $b } END { print m }' "$tsv")
                    table "$tsv" "The memory of one forward at batch $least, in MiB:" \
                        "arch device batch form buffer_bytes workspace_bytes planned_weight_bytes \
                         peak_bytes" \
                        "network|device|batch|form|activation buffers|workspace|\
weights planned for the CPU|peak" \
                        "c[\"batch\"] == $least" ;;
                int8)
                    # the lesson's seed (the least) at the last block: end to end
                    read -r seed last < <(awk -F'\t' '/^#/ { next }
                        !h { for (i = 1; i <= NF; i++) { if ($i == "seed") s = i
                                                         if ($i == "block") b = i }
                             h = 1; next }
                        !m || $s < m { m = $s } $b > l { l = $b } END { print m, l }' "$tsv")
                    table "$tsv" "End to end (the output after block $last), seed $seed:" \
                        "net form weights chain_sqnr_db chain_rel_l2" \
                        "network|form|weight scales|SQNR (dB)|relative L2" \
                        "c[\"seed\"] == $seed && c[\"block\"] == $last" ;;
                peers)
                    table "$tsv" "In figures (ratio: the median over the rounds of the time over \
the fastest of the three peers in the same round):" \
                        "batch runtime median_ms ratio_to_fastest_peer ratio_q1 ratio_q3 \
                         peak_rss_mib" \
                        "batch|runtime|median (ms)|ratio to the fastest peer|q1|q3|\
peak memory (MiB)" ;;
                esac
            else
                printf '\nIts data are not in `bench/results/%s/`.\n' "$m"
            fi
        done
    done
} >"$tmp"
mv "$tmp" "$out"

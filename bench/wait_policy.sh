#!/usr/bin/env bash
# wait_policy.sh REPVGG [ROUNDS] - what OMP_WAIT_POLICY does to our CPU forward.
#
# GNU OpenMP's threads spin for a while when they wait for each other (at the
# end of every parallel loop) before they sleep; OMP_WAIT_POLICY=passive makes
# them sleep at once. Spinning is quickest on a quiet machine, but when other
# programs keep every core busy a spinning thread can hold the core its partner
# needs. This script times `repvgg bench` (RepVGG-A0, deploy-time, batch 1,
# 224x224, random weights from `repvgg init`, median of 20 forwards per run)
# on one thread per core, with the default policy and with passive, run by
# turns, ROUNDS times (default 8) on the machine as it is, then again beside
# one busy process per core (`yes`), and prints each setting's median, fastest
# and slowest run in ms.
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
    sed -n '2,13p' "$0" | cut -c3-
    [ $# -ge 1 ] && exit 0 || exit 2
fi
tool=$1
rounds=${2:-8}
[ -x "$tool" ] || { echo "wait_policy.sh: $tool: not an executable" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "wait_policy.sh: rounds '$rounds': want a count" >&2; exit 2; }
work=$(mktemp -d)
busy=()
cleanup() { [ ${#busy[@]} -eq 0 ] || kill "${busy[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cores=$(nproc)
"$tool" init --arch A0 "$work/t.safetensors" >/dev/null 2>&1
"$tool" convert "$work/t.safetensors" "$work/d.safetensors" >/dev/null 2>&1
one() { # env settings... -> the median ms of one run, on one thread per core (the
    # programs would otherwise take fewer beside busy processes: docs/busy_machine.md)
    env OMP_NUM_THREADS="$cores" "$@" "$tool" bench --weights "$work/d.safetensors" \
        --shape 1,3,224,224 --device cpu --repeat 20 --warmup 3 2>/dev/null |
        awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["median_ms"] }'
}
summary() { # label, then the runs' medians
    local label=$1
    shift
    printf '%s\n' "$@" | sort -g |
        awk -v l="$label" '{ v[NR] = $1 } END { printf "  %-58s %8.2f %8.2f %8.2f\n", l,
            (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}
echo "RepVGG-A0 deploy-time, batch 1, 224x224, $rounds runs of 20 forwards per setting, by turns"
echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $cores cores," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'))"
printf '  %-58s %8s %8s %8s\n' "machine, policy" "median" "fastest" "slowest"
for phase in quiet busy; do
    if [ $phase = busy ]; then
        for _ in $(seq "$cores"); do
            yes >/dev/null &
            busy+=($!)
        done
    fi
    spin=() passive=()
    for r in $(seq "$rounds"); do
        spin+=("$(one -u OMP_WAIT_POLICY)")
        passive+=("$(one OMP_WAIT_POLICY=passive)")
        echo "wait_policy.sh: $phase, round $r of $rounds" >&2
    done
    where=$([ $phase = quiet ] && echo "as it is" || echo "beside $cores busy processes")
    summary "$where, default (spin, then sleep), ms" "${spin[@]}"
    summary "$where, OMP_WAIT_POLICY=passive, ms" "${passive[@]}"
done

#!/usr/bin/env bash
# busy_ratios.sh BIN [ROUNDS [LESSONS [SETTING...]]] - do the lessons' ratios hold on a busy machine?
#
# Runs the lessons (all, or LESSONS: their numbers, e.g. 01,05,06) of BIN
# (e.g. build/bin; every lesson times two forms: the speed ratio each
# "(median against median)" line prints, as "second form runs r x as fast",
# r < 1 when it takes longer) ROUNDS times (default 3) on the machine as it is,
# then again beside one busy loop per core, under each SETTING: "default" (the
# programs as they are) or environment variables joined by commas, e.g.
# OMP_WAIT_POLICY=passive,OMP_NUM_THREADS=1. Prints, per lesson, ratio and
# setting, the median ratio quiet and busy, how far the busy one lies from the
# quiet one, and in how many runs of each phase the program warned that the
# machine was not quiet. Also writes every run's ratio to busy_ratios.tsv in the current folder.
# Needs nothing but bash and awk; a run takes minutes (lesson 10 dominates).
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
    sed -n '2,14p' "$0" | cut -c3-
    [ $# -ge 1 ] && exit 0 || exit 2
fi
bin=$1
rounds=${2:-3}
pick=${3:-all}
shift $(($# >= 3 ? 3 : $#))
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=(default)
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "busy_ratios.sh: rounds '$rounds': want a count" >&2; exit 2; }
lessons=(00_multi_branch_memory 01_two_branch_sum 02_conv_bn_fusion 03_pad_1x1_to_3x3
         04_identity_as_conv 05_repvgg_block 06_network_switch 07_honest_timing 08_acnet_and_dbb
         09_mobileone_block 10_int8_quantization)
if [ "$pick" != all ]; then
    chosen=()
    for n in ${pick//,/ }; do
        for l in "${lessons[@]}"; do [ "${l%%_*}" = "$n" ] && chosen+=("$l"); done
    done
    [ ${#chosen[@]} -gt 0 ] || { echo "busy_ratios.sh: no lesson numbered '$pick'" >&2; exit 2; }
    lessons=("${chosen[@]}")
fi
for l in "${lessons[@]}"; do
    [ -x "$bin/$l" ] || { echo "busy_ratios.sh: $bin/$l: not an executable" >&2; exit 2; }
done
busy=()
cleanup() { [ ${#busy[@]} -eq 0 ] || kill "${busy[@]}" 2>/dev/null || true; }
trap cleanup EXIT
tsv=busy_ratios.tsv
printf 'phase\tsetting\tlesson\tindex\tratio\twarned\tloadavg\n' >"$tsv"
one() { # phase setting lesson -> rows of $tsv
    local envs=() out
    [ "$2" = default ] || IFS=, read -ra envs <<<"$2"
    out=$(env "${envs[@]}" "$bin/$3" --device cpu 2>&1 || true)
    awk -v p="$1" -v s="$2" -v l="$3" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
        -v warned="$(grep -c '^ *warning: the machine was not quiet' <<<"$out" || true)" '
        /median against median/ {
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+x$/) r = substr($i, 1, length($i) - 1)
            if ($0 ~ / takes /) r = 1 / r
            printf "%s\t%s\t%s\t%d\t%.4f\t%d\t%s\n", p, s, l, n++, r, (warned > 0), load
        }' <<<"$out" >>"$tsv"
}
cores=$(nproc)
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $cores cores," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'), $rounds rounds" >&2
for phase in quiet busy; do
    if [ $phase = busy ]; then
        for _ in $(seq "$cores"); do
            (while :; do :; done) &
            busy+=($!)
        done
    fi
    for r in $(seq "$rounds"); do
        for s in "${settings[@]}"; do
            for l in "${lessons[@]}"; do one $phase "$s" "$l"; done
        done
        echo "busy_ratios.sh: $phase, round $r of $rounds, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    done
    cleanup
    busy=()
done
# medians per lesson, ratio and setting; busy against quiet
printf '%-24s %5s %-40s %8s %8s %8s %7s %7s\n' lesson ratio setting quiet busy "off by" \
    "warned" "warned"
printf '%-24s %5s %-40s %8s %8s %8s %7s %7s\n' "" "" "" "" "" "" quiet busy
awk -F'\t' 'NR > 1 { k = $3 "\t" $4 "\t" $2; v[k, $1, ++n[k, $1]] = $5; keys[k] = 1
                     w[k, $1] += $6 }
    function med(k, p,   m, i, j, t, a) {
        m = n[k, p]; for (i = 1; i <= m; i++) a[i] = v[k, p, i]
        for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
    END { for (k in keys) { split(k, f, "\t"); q = med(k, "quiet"); b = med(k, "busy")
              printf "%-24s %5d %-40s %7.2fx %7.2fx %7.0f%% %5d/%d %5d/%d\n", f[1], f[2], f[3], q, b,
                     100 * (b / q - 1), w[k, "quiet"], n[k, "quiet"], w[k, "busy"], n[k, "busy"] } }' \
    "$tsv" | sort -k1,1 -k2,2n -k3,3

#!/usr/bin/env bash
# attack.sh JUDGE RUNNER SOURCE - the judge must fail an attack (attacks/*.c).
# SOURCE says what the verdict must contain, in lines `expect: REGEX` (each
# must match the judge's output, grep -E), `once: REGEX` (must match
# exactly one line) and `never: REGEX` (must match none). The judge runs
# with its output on descriptor 9 as well, left open for the runner to
# find if the judge let it inherit one. Also: the judge exits 1, within 60 s, with under 16 KiB
# of output whatever the attack printed, and no process of the runner is
# left running after it.
set -u
judge=$1 runner=$2 source=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s%N)
"$judge" --sanitized "$runner" 1 >"$out" 2>&1 9>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$out" | head -c 16384
fail=0
no() { echo "ATTACK NOT STOPPED: $*"; fail=1; }
[ "$rc" = 1 ] || no "the judge exited $rc, not 1 (FAIL)"
while IFS= read -r re; do
  grep -Eq -- "$re" "$out" || no "the output does not say: $re"
done < <(sed -n 's/^ \* expect: //p' "$source")
while IFS= read -r re; do
  n=$(grep -Ec -- "$re" "$out")
  [ "$n" = 1 ] || no "$re is printed $n times, not once"
done < <(sed -n 's/^ \* once: //p' "$source")
while IFS= read -r re; do
  grep -Eq -- "$re" "$out" && no "the output says: $re"
done < <(sed -n 's/^ \* never: //p' "$source")
size=$(wc -c <"$out")
[ "$size" -lt 16384 ] || no "the judge printed $size bytes (16 KiB at most)"
[ "$ms" -lt 60000 ] || no "grading took $ms ms (60 s at most)"
sleep 0.2
left=
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$runner")" ] && left="$left ${p#/proc/}"
done
[ -z "$left" ] || no "processes of the runner left running: $left"
[ "$fail" = 0 ] && echo "attack stopped: $(basename "$source") in $ms ms, $size bytes of verdict"
exit "$fail"

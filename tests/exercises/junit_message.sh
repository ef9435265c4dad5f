#!/usr/bin/env bash
# junit_message.sh CTEST DIR MESSAGE - runs the one test of the CTest
# directory DIR (the judge failing an attack) with --output-junit, and
# checks that the JUnit file is well-formed XML whose <failure message> holds
# MESSAGE, the judge's verdict line: what a course's grading tool shows.
set -u
ctest=$1 dir=$2 want=$3
rm -f "$dir/junit.xml"
"$ctest" --test-dir "$dir" --output-junit junit.xml >/dev/null 2>&1
[ -f "$dir/junit.xml" ] || { echo "FAIL: ctest wrote no $dir/junit.xml"; exit 1; }
/usr/bin/python3 - "$dir/junit.xml" "$want" <<'PY'
import sys, xml.dom.minidom
path, want = sys.argv[1], sys.argv[2]
try:
    doc = xml.dom.minidom.parse(path)
except Exception as e:
    sys.exit(f"FAIL: {path} is not well-formed XML: {e}")
failures = doc.getElementsByTagName("failure")
if len(failures) != 1:
    sys.exit(f"FAIL: {len(failures)} <failure> elements in {path}, want 1")
message = failures[0].getAttribute("message")
if f"[{want}]" not in message:
    sys.exit(f'FAIL: the failure message is "{message}", it does not hold "{want}"')
print(f'PASS: JUnit\'s failure message is "{message}"')
PY

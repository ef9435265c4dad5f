#!/usr/bin/env bash
# no_solution_linked.sh PROGRAM... - fails when a program of the exercise
# build holds one of the course's solutions to the steps: each solution file
# (src/reparam/steps/*.c) defines a symbol rv_reference_step_NN, the
# exercise files do not. Proves the lessons and the tool run the student's code.
set -u
found=0
for p in "$@"; do
  hits=$(nm "$p" 2>/dev/null | grep -o 'rv_reference_step_[0-9]*' | sort -u | tr '\n' ' ')
  if [ -n "$hits" ]; then
    echo "FAIL: $(basename "$p") is linked with the course's solution of: $hits"
    found=1
  fi
done
if [ "$found" = 0 ]; then
  echo "PASS: $# programs run your steps only (no solution linked)"
fi
exit "$found"

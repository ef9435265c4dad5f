#!/usr/bin/env bash
# install_check.sh CMAKE BUILD_DIR WORKDIR LESSON... - `cmake --install` as a
# user runs it: into a fresh prefix (WORKDIR/prefix), it must put repvgg and
# every lesson, renamed repvgg-course-NN-name, into prefix/bin and nothing
# else there; the installed copies must name no path of the build tree and
# run from another directory with only prefix/bin (and the system's) on the
# PATH: `repvgg --help`, each lesson's --help (which names the lesson as
# installed), and lesson 01 in full on the CPU; none may need the shared
# CUDA runtime (libcudart.so), which a machine without the toolkit lacks.
set -u
cmake=$1
build=$2
work=$3
shift 3
prefix=$work/prefix
rm -rf "$work" && mkdir -p "$work/elsewhere" || exit 1
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# DESTDIR would install under another root than the prefix
if ! env -u DESTDIR "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
    cat "$work/install.log"
    echo "FAIL install_check: cmake --install failed"
    exit 1
fi

want=(repvgg)
for lesson in "$@"; do want+=("repvgg-course-${lesson//_/-}"); done
got=$(cd "$prefix/bin" 2>/dev/null && ls | sort)
if [ "$got" != "$(printf '%s\n' "${want[@]}" | sort)" ]; then
    fail "prefix/bin holds [$(echo $got)], want [$(printf '%s\n' "${want[@]}" | sort | xargs)]"
fi
for prog in "${want[@]}"; do
    [ -x "$prefix/bin/$prog" ] || { fail "$prog is not an executable in prefix/bin"; continue; }
    if grep -aqF "$(cd "$build" && pwd -P)/" "$prefix/bin/$prog"; then
        fail "$prog names a path in the build tree $build"
    fi
done

# a CPU user's machine has no CUDA toolkit: the CUDA runtime is linked in
# statically (cuBLAS is opened only when a GPU is used)
if command -v ldd >/dev/null && ldd "$prefix/bin/repvgg" | grep -q "libcudart"; then
    fail "installed repvgg needs the shared CUDA runtime: $(ldd "$prefix/bin/repvgg" | grep libcudart)"
fi

cd "$work/elsewhere" || exit 1
run() { # run COMMAND...: by name, through a PATH of the prefix and the system only
    env PATH="$prefix/bin:/usr/bin:/bin" "$@" >run.log 2>&1
}
if run repvgg --help && grep -q "^commands:" run.log; then
    echo "ok:   installed repvgg --help"
else
    fail "installed repvgg --help: $(cat run.log)"
fi
for prog in "${want[@]:1}"; do # a lesson's help names it as installed
    run "$prog" --help || fail "installed $prog --help: $(cat run.log)"
    head -1 run.log | grep -q "^$prog: " || fail "installed $prog --help begins: $(head -1 run.log)"
done
lesson01=$(printf "%s\n" "${want[@]}" | grep -m1 -- "^repvgg-course-01-")
if run "$lesson01" --device cpu && tail -1 run.log | grep -q "^PASS"; then
    echo "ok:   installed $lesson01 --device cpu: $(tail -1 run.log)"
else
    fail "installed $lesson01 --device cpu: $(tail -5 run.log)"
fi
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) install_check: $failures failed check(s)"
[ $failures -eq 0 ]

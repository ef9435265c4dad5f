#!/usr/bin/env bash
# repvgg_memcheck.sh REPVGG WORKDIR - the repvgg tool under valgrind memcheck on
# a small model: init, info, convert, run (both forms) and refused inputs (a
# cut file, each format given for the other, a stray argument);
# any memory error or definite leak fails.
set -u
tool=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
failures=0
check() { # check WANT_EXIT COMMAND...
    local want=$1
    shift
    "${vg[@]}" "$@" >/dev/null 2>vg.log
    local got=$?
    if [ $got -ne "$want" ]; then
        echo "FAIL ($got, want $want): $*"
        cat vg.log
        failures=$((failures + 1))
    else
        echo "ok: $*"
    fi
}
check 0 "$tool" init --widths 8,8,16,16,32 --depths 1,2,2,1,1 --layout official --classes 5 s.safetensors
check 0 "$tool" info s.safetensors
check 0 "$tool" convert s.safetensors d.safetensors
python3 -c "
import struct
h=\"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 19, 17), }\"
h+=' '*(-(len(h)+11)%64)+'\n'
open('x.npy','wb').write(b'\x93NUMPY\x01\x00'+struct.pack('<H',len(h))+h.encode()+struct.pack('<1938f',*[((i*7)%13-6)/6 for i in range(1938)]))"
check 0 "$tool" run --weights s.safetensors --input x.npy --output y.npy --device cpu
check 0 "$tool" run --weights d.safetensors --input x.npy --output yd.npy --device cpu
head -c 100 s.safetensors >cut.safetensors
check 1 "$tool" run --weights cut.safetensors --input x.npy --output z.npy --device cpu
check 1 "$tool" run --weights x.npy --input x.npy --output z.npy --device cpu
check 1 "$tool" run --weights s.safetensors --input s.safetensors --output z.npy --device cpu
check 2 "$tool" init A0 o.safetensors
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) repvgg_memcheck: $failures failed check(s)"
[ $failures -eq 0 ]

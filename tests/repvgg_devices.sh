#!/usr/bin/env bash
# repvgg_devices.sh REPVGG WORKDIR - device nodes as outputs: an existing
# character device is written in place, never replaced by a regular file
# (as root, `repvgg convert in.safetensors /dev/full` once turned /dev/full
# into one); a block device is refused. The nodes are made here, in WORKDIR
# (mknod, which needs root: skipped, exit 77, otherwise), never in /dev.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/cli_checks.sh"
tool=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0
if [ "$(id -u)" -ne 0 ] || ! mknod full c 1 7 2>/dev/null; then
    echo "SKIP repvgg_devices: making device nodes needs root"
    exit 77
fi
mknod null c 1 3 && mknod loop b 7 0 || exit 1
nodes() { stat -c '%n %F %t,%T' full null loop; }
before=$(nodes)

"$tool" init --widths 8,8,16,16,32 --depths 1,2,2,1,1 s.safetensors >/dev/null 2>&1 || fail "init"
expect 1 "full: write failed: No space left on device" -- "$tool" convert s.safetensors full
expect_out 0 "wrote null" -- "$tool" convert s.safetensors null
python3 - <<'PY'
import struct
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }"
h += " " * (-(len(h) + 11) % 64) + "\n"
open("x.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + bytes(4 * 3 * 32 * 32))
PY
expect 1 "full: write failed: No space left on device" -- "$tool" run --weights s.safetensors --input x.npy --output full --device cpu
expect_out 0 "wrote null" -- "$tool" run --weights s.safetensors --input x.npy --output null --device cpu
expect 1 "loop: cannot write: it is a block device, not a regular file" -- "$tool" convert s.safetensors loop
expect 1 "full: cannot read: it is a character device, not a regular file" -- "$tool" info full

after=$(nodes)
if [ "$before" = "$after" ]; then
    echo "ok:   the device nodes are still what they were: $(echo $after)"
else
    fail "device nodes changed: before '$before', after '$after'"
fi
[ "$(ls | sort | tr '\n' ' ')" = "full loop null s.safetensors x.npy " ] ||
    fail "the directory holds more than it should: $(ls)"
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) repvgg_devices: $failures failed check(s)"
[ $failures -eq 0 ]

#!/usr/bin/env bash
# repvgg_files.sh REPVGG WORKDIR LESSON01 LESSON06 LESSON07 LESSON10 - what the
# tool and the lessons do with files and streams that are not what they seem:
#   - a FIFO, a directory or a planted symbolic link where an output goes: the
#     FIFO is written in place (refused at once when nothing reads it), the
#     directory refused, the link never followed; nothing else in the
#     directory is created, changed or removed;
#   - outputs get the permissions fopen would give (0666 less the umask), or
#     keep the replaced file's; a 250-character output name works;
#   - a write that fails (past `ulimit -f`) or is killed by a signal leaves no
#     temporary and no output;
#   - a FIFO given as weights or input is refused at once, not waited on;
#   - a 2 GiB sparse file is refused from its first bytes, not read into
#     memory first (checked under a 1 GiB address-space limit);
#   - results that cannot reach standard output (> /dev/full, or standard
#     output closed) are exit 1 with a message on stderr, for the tool and the
#     lessons;
#   - lessons 06 and 10 refuse a --channels whose inputs cannot fit, at once.
# Device nodes as outputs: repvgg_devices.sh (it needs root).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/cli_checks.sh"
tool=$1
work=$2
lesson01=$3
lesson06=$4
lesson07=$5
lesson10=$6
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0

# listing: every entry of this directory with its type, size, mode, link
# target and modification time, to compare before and after a command
listing() { find . -mindepth 1 -printf '%p %y %s %m %l %T@\n' | sort; }
# unchanged_but OUT -- COMMAND...: COMMAND creates, changes or removes
# nothing in this directory but OUT (and OUT may be left as it was)
unchanged_but() {
    local keep=$1
    shift 2
    local before after
    before=$(listing | grep -v "^\./$keep ")
    "$@" >/dev/null 2>&1
    after=$(listing | grep -v "^\./$keep ")
    if [ "$before" = "$after" ]; then
        echo "ok:   $* changed nothing but $keep"
    else
        fail "$* changed more than $keep: $(diff <(echo "$before") <(echo "$after") | head -5)"
    fi
}

"$tool" init --widths 8,8,16,16,32 --depths 1,2,2,1,1 s.safetensors >/dev/null 2>&1 ||
    fail "init s.safetensors"
"$tool" convert s.safetensors d.safetensors >/dev/null 2>&1 || fail "convert to d.safetensors"
npy x.npy 1 3 32 32

# --- outputs that are not regular files -----------------------------------
mkfifo out.fifo
expect 1 "out.fifo: cannot write: it is a FIFO that no program reads" -- timeout 10 "$tool" convert s.safetensors out.fifo
timeout 20 cat out.fifo >from_fifo.safetensors & # (timeout: no hang if nothing writes)
reader=$!
expect_out 0 "wrote out.fifo" -- timeout 10 "$tool" convert s.safetensors out.fifo
wait $reader
if [ -p out.fifo ] && cmp -s from_fifo.safetensors d.safetensors; then
    echo "ok:   a FIFO output is written in place: it stays a FIFO, its reader got the file"
else
    fail "the FIFO output: $(ls -l out.fifo from_fifo.safetensors)"
fi
mkdir out.dir
expect 1 "out.dir: cannot write: it is a directory, not a regular file" -- "$tool" convert s.safetensors out.dir
expect 1 "out.dir: cannot write: it is a directory, not a regular file" -- "$tool" run --weights s.safetensors --input x.npy --output out.dir --device cpu
unchanged_but none -- "$tool" convert s.safetensors out.dir
[ -d out.dir ] && [ -z "$(ls out.dir)" ] || fail "out.dir was changed"

# --- the temporary: never a planted link, never a name too long ------------
# The old temporary was OUT.tmp.PID; `exec` keeps the shell's PID ($$), so
# the link is planted at the very name the tool would have used.
echo "not to be touched" >victim
bash -c 'ln -s victim out.safetensors.tmp.$$ && exec "$0" convert s.safetensors out.safetensors' \
    "$tool" >/dev/null 2>&1
if [ "$(cat victim)" = "not to be touched" ] && [ -L out.safetensors.tmp.* ] &&
    [ -f out.safetensors ] && [ ! -L out.safetensors ] && cmp -s out.safetensors d.safetensors; then
    echo "ok:   a link planted at the old temporary name is neither followed nor replaced"
else
    fail "a planted link: victim '$(cat victim)', $(ls -l out.safetensors*)"
fi
rm -f out.safetensors.tmp.*
long=$(printf 'w%.0s' $(seq 238)).safetensors # 250 characters, NAME_MAX is 255
expect_out 0 "wrote $long" -- "$tool" convert s.safetensors "$long"
cmp -s "$long" d.safetensors || fail "the 250-character output differs from d.safetensors"

# --- permissions -------------------------------------------------------------
(umask 027 && "$tool" convert s.safetensors mode_new.safetensors >/dev/null 2>&1)
cp d.safetensors mode_kept.safetensors && chmod 604 mode_kept.safetensors
(umask 077 && "$tool" convert s.safetensors mode_kept.safetensors >/dev/null 2>&1)
(umask 022 && "$tool" run --weights s.safetensors --input x.npy --output mode_new.npy --device cpu >/dev/null 2>&1)
modes="$(stat -c %a mode_new.safetensors) $(stat -c %a mode_kept.safetensors) $(stat -c %a mode_new.npy)"
if [ "$modes" = "640 604 644" ]; then
    echo "ok:   permissions: new outputs 0666 less the umask (640, 644), a replaced one keeps 604"
else
    fail "permissions: got $modes, want 640 604 644"
fi

# --- failures mid-write leave nothing ----------------------------------------
# ulimit -f 20: no file over 20 KiB. With SIGXFSZ ignored the write fails
# (EFBIG) and the tool aborts; without, the signal stops it mid-write.
expect 1 "big.safetensors: write failed: File too large" -- bash -c 'trap "" XFSZ; ulimit -f 20; exec "$0" convert s.safetensors big.safetensors' "$tool"
bash -c 'ulimit -f 20; exec "$0" convert s.safetensors big.safetensors' "$tool" >/dev/null 2>&1
got=$?
[ $got -eq $((128 + $(kill -l XFSZ))) ] || fail "past ulimit -f without a handler of its own: exit $got, want SIGXFSZ"
absent big.safetensors
unchanged_but none -- bash -c 'ulimit -f 20; exec "$0" convert s.safetensors big.safetensors' "$tool"

# --- a FIFO as an input ---------------------------------------------------------
mkfifo in.fifo
for cmd in "info in.fifo" "convert in.fifo never.safetensors" \
    "run --weights in.fifo --input x.npy --output never.npy --device cpu" \
    "run --weights s.safetensors --input in.fifo --output never.npy --device cpu" \
    "bench --weights s.safetensors --input in.fifo --device cpu"; do
    # shellcheck disable=SC2086
    expect 1 "in.fifo: cannot read: it is a FIFO (a named pipe), not a regular file" -- timeout 10 "$tool" $cmd
done
absent never.safetensors never.npy

# --- 2 GiB sparse files: refused from their first bytes -------------------------
truncate -s 2G zeros.safetensors zeros.npy
# a valid header, then 2 GiB that no tensor claims
python3 - <<'PY'
import json, struct
h = json.dumps({"stages.0.0.conv.weight": {"dtype": "F32", "shape": [1],
                                           "data_offsets": [0, 4]}}).encode()
h += b" " * (-len(h) % 8)
with open("tail.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    f.truncate(2 << 30)
h = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }"
h += b" " * (-(len(h) + 11) % 64) + b"\n"
with open("tail.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)
    f.truncate(2 << 30)
PY
# at most 1 GiB of memory: an address-space limit, or under AddressSanitizer
# (whose shadow memory reserves terabytes of addresses) its own RSS limit
if grep -q __asan_init "$tool"; then
    limited() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1024" "$@"; }
else
    limited() { bash -c 'ulimit -v 1048576; exec "$@"' limited "$@"; }
fi
expect 1 "zeros.safetensors: the header is not a JSON object" -- limited "$tool" info zeros.safetensors
expect 1 "tail.safetensors: the last 2147483" -- limited "$tool" info tail.safetensors
expect 1 "zeros.npy: not a .npy file (no \x93NUMPY magic)" -- limited "$tool" run --weights s.safetensors --input zeros.npy --output never.npy --device cpu
expect 1 "tail.npy: the shape needs 48 bytes of data, the file holds 2147483" -- limited "$tool" run --weights s.safetensors --input tail.npy --output never.npy --device cpu
rm -f zeros.* tail.*

# --- results that cannot be written ----------------------------------------------
expect 1 "repvgg: cannot write the results to standard output: No space left on device" -- bash -c 'exec "$0" info s.safetensors >/dev/full' "$tool"
expect 1 "repvgg: cannot write the results to standard output: No space left on device" -- bash -c 'exec "$0" bench --weights d.safetensors --shape 1,3,32,32 --repeat 1 --device cpu >/dev/full' "$tool"
expect 1 "repvgg: standard output is closed" -- bash -c 'exec "$0" info s.safetensors >&-' "$tool"
expect 1 "repvgg: standard output is closed" -- bash -c 'exec "$0" bench --weights d.safetensors --shape 1,3,32,32 --repeat 1 --device cpu >&-' "$tool"
unchanged_but none -- bash -c 'exec "$0" convert s.safetensors closed.safetensors >&-' "$tool"
for lesson in "$lesson01" "$lesson07"; do
    expect 1 "cannot write the results to standard output: No space left on device" -- bash -c 'exec "$0" --device cpu --repeat 1 >/dev/full' "$lesson"
    expect 1 "standard output is closed" -- bash -c 'exec "$0" --device cpu --repeat 1 >&-' "$lesson"
    expect 1 "cannot write the results to standard output" -- bash -c 'exec "$0" --help >/dev/full' "$lesson"
done

# --- lesson inputs too large for any machine: refused before they are made -------------
expect 2 "--channels: 100000 channels need 30.9 GiB for 1 input image(s) of 224x224 and 2 calibration images of 128x128" -- timeout 10 "$lesson06" --device cpu --channels 100000
expect 2 "at most" -- timeout 10 "$lesson10" --device cpu --channels 100000

leftovers=$(find . -name 'rv-writing-*')
[ -z "$leftovers" ] || fail "temporaries left: $leftovers"
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) repvgg_files: $failures failed check(s)"
[ $failures -eq 0 ]

#!/usr/bin/env bash
# repvgg_cli.sh REPVGG WORKDIR [LESSON06] - the repvgg tool as a user meets it:
# exit codes (0 ok, 1 bad data, 2 bad usage), one-line messages naming the
# file or the argument, results on stdout and the rest on stderr, and no
# output file (or temporary) left behind by a failed command. With LESSON06
# (build/bin/06_network_switch), also that the lesson prints multiply-adds in
# the tool's format.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/cli_checks.sh"
tool=$1
work=$2
lesson06=${3:-}
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0

expect 2 "commands:" -- "$tool"
expect 0 "commands:" -- "$tool" --help
# the overview names every option of bench, not only the first few
for opt in "--input X.npy" "--warmup K" "--no-winograd" "--graph" "--tf32" "--classes K"; do
    expect 0 "$opt" -- "$tool" --help
done
expect 2 "unknown command 'frobnicate'" -- "$tool" frobnicate
expect 0 "--shape" -- "$tool" info --help
expect 2 "give --arch, or both --widths and --depths" -- "$tool" init out.safetensors
expect 2 "expected five positive integers" -- "$tool" init --widths 8,8,16 --depths 1,1,1,1,1 out.safetensors
expect 0 "RepVGG-custom" -- "$tool" init --widths 8,8,16,16,32 --depths 1,2,2,1,1 small.safetensors
expect 2 "unknown architecture 'Z9'" -- "$tool" init --arch Z9 out.safetensors
expect 2 "--layout" -- "$tool" init --arch A0 --layout keras out.safetensors
expect 2 "--seed: expected a non-negative integer" -- "$tool" init --arch A0 --seed x out.safetensors
# the notebook's RepVGG has no head: --classes is refused there, not ignored
expect 2 "--classes: the notebook layout has no classifier head" -- "$tool" init --arch A0 --layout notebook --classes 10 out.safetensors
expect 2 "--classes: the notebook layout has no classifier head" -- "$tool" init --arch A0 --classes 10 out.safetensors
# a stray architecture is named, not the output file after it
expect 2 "unexpected argument 'A0' (did you mean --arch A0?)" -- "$tool" init A0 out.safetensors
expect 2 "unexpected argument 'B1g2' (did you mean --arch B1g2?)" -- "$tool" init --layout official B1g2
expect 2 "unexpected argument 'extra.safetensors' (see --help)" -- "$tool" init --arch A0 out.safetensors extra.safetensors
if "$tool" init --help | grep -q "default 0"; then
    echo "FAIL: init --help shows a default of 0 classes"
    failures=$((failures + 1))
fi
absent out.safetensors extra.safetensors A0

expect_out 0 "wrote a0.safetensors: RepVGG-A0, official layout, train-time, a linear head of 10 classes" -- "$tool" init --arch A0 --layout official --classes 10 a0.safetensors
expect_out 0 "head:     global average pool + linear 1280 -> 10" -- "$tool" info a0.safetensors
# progress is not a result: init's stdout is its one "wrote" line
lines=$("$tool" init --widths 8,8,16,16,32 --depths 1,2,2,1,1 tiny.safetensors 2>/dev/null | wc -l)
[ "$lines" -eq 1 ] || { echo "FAIL: init printed $lines lines on stdout, want 1"; failures=$((failures + 1)); }
# one format for multiply-adds: train-time A0 at 224x224 counts its 1x1 branches too
expect_out 0 "compute:  1.511 G multiply-adds (G = 10^9) per forward of a 1x3x224x224 input" -- "$tool" info a0.safetensors
if [ -n "$lesson06" ]; then
    # every "<number> G" the lesson prints is "<x.xxx> G multiply-adds", as in info
    counts=$("$lesson06" --device cpu --size 32 --repeat 1 2>/dev/null | grep -oE "[0-9.]+ G( [a-z-]+)?\b")
    if [ "$(grep -c . <<<"$counts")" -ge 2 ] &&
        ! grep -vqE "^[0-9]+\.[0-9]{3} G multiply-adds$" <<<"$counts"; then
        echo "ok:   lesson 06 prints multiply-adds as the tool does: $(echo $counts)"
    else
        echo "FAIL: lesson 06's multiply-adds are not in the tool's format: '$(echo $counts)'"
        failures=$((failures + 1))
    fi
fi
expect 1 "missing.safetensors: cannot open" -- "$tool" info missing.safetensors
expect_out 0 "wrote a0d.safetensors: 22 blocks, deploy-time" -- "$tool" convert a0.safetensors a0d.safetensors
# the identity column: read from a train-time file; for a deploy-time file,
# which records no branches, the paper's rule in parentheses and a legend
"$tool" info a0.safetensors >info_train.txt 2>&1
"$tool" info a0d.safetensors >info_deploy.txt 2>&1
if awk '$1 == 1 && $2 == 1 { b1 = $NF } $1 == 2 && $2 == 1 { b2 = $NF }
        END { exit !(b1 == "no" && b2 == "yes") }' info_train.txt &&
   awk '$1 == 1 && $2 == 1 { b1 = $NF } $1 == 2 && $2 == 1 { b2 = $NF } $1 ~ /^[0-9]+$/ && $NF == "fused" { fused = 1 }
        END { exit !(b1 == "(no)" && b2 == "(yes)" && !fused) }' info_deploy.txt &&
   grep -qF "a deploy-time file does not record the branches" info_deploy.txt &&
   ! grep -qF "does not record" info_train.txt; then
    echo "ok:   info's identity column: yes/no from a train-time file, (yes)/(no) by the paper's rule for a deploy-time one"
else
    echo "FAIL: info's identity column:"
    cat info_train.txt info_deploy.txt
    failures=$((failures + 1))
fi
# deploy-time A0 at 224x224: the 3x3 convs and the head alone
expect_out 0 "compute:  1.360 G multiply-adds (G = 10^9) per forward of a 1x3x224x224 input" -- "$tool" info a0d.safetensors
expect 1 "already deploy-time" -- "$tool" convert a0d.safetensors again.safetensors
expect 1 "/nonexistent-dir/out.safetensors: cannot write" -- "$tool" convert a0.safetensors /nonexistent-dir/out.safetensors
expect 2 "expected an input and an output" -- "$tool" convert a0.safetensors
absent again.safetensors

head -c 4096 a0.safetensors >cut.safetensors
expect 1 "cut.safetensors" -- "$tool" info cut.safetensors
: >empty.safetensors
expect 1 "empty.safetensors: the file is empty" -- "$tool" convert empty.safetensors x.safetensors
absent x.safetensors

npy x.npy 2 3 35 33
npy x5.npy 1 5 32 32
npy x3.npy 3 32 32
expect_out 0 "wrote y.npy: float32 (2, 10) = (N, classes) logits, train-time form, on cpu" -- "$tool" run --weights a0.safetensors --input x.npy --output y.npy --device cpu
expect_out 0 "wrote yd.npy: float32 (2, 10) = (N, classes) logits, deploy-time form, on cpu" -- "$tool" run --weights a0d.safetensors --input x.npy --output yd.npy --device cpu
expect_out 0 "wrote ys.npy: float32 (2, 32, 2, 2) = (N, C, H, W) features" -- "$tool" run --weights tiny.safetensors --input x.npy --output ys.npy --device cpu
[ -s y.npy ] && [ -s yd.npy ] || { echo "FAIL: run wrote no output"; failures=$((failures + 1)); }
# a file of the other kind is named as such
expect 1 "x.npy: not a safetensors file: it is a NumPy .npy array" -- "$tool" info x.npy
expect 1 "x.npy: not a safetensors file: it is a NumPy .npy array" -- "$tool" run --weights x.npy --input x.npy --output bad.npy --device cpu
expect 1 "a0.safetensors: not a .npy file: it is a safetensors file" -- "$tool" run --weights a0.safetensors --input a0.safetensors --output bad.npy --device cpu
printf 'PK\003\004\000\000\010\000\000\000archive/data.pkl' >model.pt
expect 1 "model.pt: not a safetensors file: it is a zip archive (PyTorch's torch.save" -- "$tool" convert model.pt bad.safetensors
expect 2 "unexpected argument 'a0.safetensors' (did you mean --weights a0.safetensors?)" -- "$tool" run a0.safetensors --input x.npy --output bad.npy --device cpu
expect 2 "repvgg run: --output is required" -- "$tool" run --weights a0.safetensors --input x.npy --device cpu
expect 2 "repvgg run: --input is required" -- "$tool" run --weights a0.safetensors --output bad.npy --device cpu
expect 2 "unexpected argument 'a0d.safetensors' (did you mean --weights a0d.safetensors?)" -- "$tool" bench a0d.safetensors --shape 1,3,32,32 --device cpu
absent bad.safetensors
expect 1 "x5.npy: input: block 0 expects 3 channels, got 5" -- "$tool" run --weights a0.safetensors --input x5.npy --output bad.npy --device cpu
expect 1 "x3.npy: rank 3, expected 4" -- "$tool" run --weights a0.safetensors --input x3.npy --output bad.npy --device cpu
expect 1 "missing.npy: cannot open" -- "$tool" run --weights a0.safetensors --input missing.npy --output bad.npy --device cpu
expect 1 "/nonexistent-dir/y.npy: cannot write" -- "$tool" run --weights a0.safetensors --input x.npy --output /nonexistent-dir/y.npy --device cpu
expect 2 "--input and --output are required" -- "$tool" run --weights a0.safetensors --device cpu
expect 2 "--weights is required" -- "$tool" run --input x.npy --output bad.npy
expect 2 "--device: expected auto, cpu or cuda, got 'gpu'" -- "$tool" run --weights a0.safetensors --input x.npy --output bad.npy --device gpu
absent bad.npy
# --device auto where no GPU can be used: one plain note saying why, and that
# the CPU is used (checked where no NVIDIA driver is loaded: elsewhere a GPU
# may answer)
if [ ! -e /proc/driver/nvidia/version ]; then
    note=$("$tool" run --weights a0.safetensors --input x.npy --output ya.npy --device auto 2>&1 >/dev/null)
    if grep -qxE 'note: (no GPU found \(.*\)|this build has no CUDA backend \(.*\)); using the CPU' <<<"$note"; then
        echo "ok:   --device auto without a GPU: $note"
    else
        echo "FAIL: --device auto without a GPU: '$note'"
        failures=$((failures + 1))
    fi
fi

expect 0 "median_ms" -- "$tool" bench --weights a0d.safetensors --shape 1,3,32,32 --repeat 2 --device cpu
# the TSV: a header and one row with the same columns, batch under "batch"
"$tool" bench --weights a0d.safetensors --shape 5,3,32,32 --repeat 2 --device cpu >bench.tsv 2>/dev/null
if awk -F'\t' 'NR == 1 { n = NF; for (i = 1; i <= NF; i++) col[$i] = i }
                NR == 2 { exit !(NF == n && $col["batch"] == 5 && $col["graph"] == "no" &&
                                 $col["math"] == "fp32" && $col["cpu_isa"] ~ /^(avx512|avx2|baseline)$/ &&
                                 $col["quiet"] ~ /^(yes|no)$/ && $col["threads"] >= 1 &&
                                 $col["q1_ms"] <= $col["median_ms"] && $col["median_ms"] <= $col["q3_ms"]) }' bench.tsv; then
    echo "ok:   bench TSV: header and row agree"
else
    echo "FAIL: bench TSV: header and row disagree: $(cat bench.tsv)"
    failures=$((failures + 1))
fi
expect 2 "--shape: expected N,C,H,W" -- "$tool" bench --weights a0d.safetensors --shape 1,3,32
expect 2 "give one of --shape and --input" -- "$tool" bench --weights a0d.safetensors
expect 2 "give one of --shape and --input" -- "$tool" bench --weights a0d.safetensors --shape 2,3,35,33 --input x.npy
expect 1 "x3.npy: rank 3, expected 4" -- "$tool" bench --weights a0d.safetensors --input x3.npy --device cpu
# --input: the batch and size come from the file; --no-winograd names its conv path
"$tool" bench --weights a0d.safetensors --input x.npy --repeat 1 --device cpu --no-winograd >bench_in.tsv 2>/dev/null
if awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
                NR == 2 { exit !($col["batch"] == 2 && $col["height"] == 35 && $col["width"] == 33 &&
                                 $col["conv"] ~ /^im2col\+(packed|openblas)$/ &&
                                 $col["winograd_f2x2"] == 0 && $col["winograd_f4x4"] == 0) }' bench_in.tsv; then
    echo "ok:   bench --input x.npy --no-winograd: shape from the file, conv im2col"
else
    echo "FAIL: bench --input x.npy --no-winograd: $(cat bench_in.tsv)"
    failures=$((failures + 1))
fi
# with Winograd the forward also holds the Winograd-domain weights: more peak bytes
"$tool" bench --weights a0d.safetensors --input x.npy --repeat 1 --device cpu >bench_w.tsv 2>/dev/null
if awk -F'\t' 'FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
                FNR == 2 { peak[FILENAME] = $col["peak_bytes"]; conv[FILENAME] = $col["conv"] }
                END { exit !(conv["bench_w.tsv"] ~ /^winograd\+(packed|openblas)$/ &&
                             peak["bench_w.tsv"] > peak["bench_in.tsv"]) }' bench_in.tsv bench_w.tsv; then
    echo "ok:   bench: the Winograd forward holds more than the --no-winograd one"
else
    echo "FAIL: bench Winograd vs --no-winograd peak: $(cat bench_w.tsv bench_in.tsv)"
    failures=$((failures + 1))
fi
# A0 at 112x112 through OpenBLAS: F(4x4) for its one 28x28 layer (enough
# tiles of 4x4), F(2x2) for the 14x14 and 7x7 ones; with the packed-weights
# kernel, where this CPU has it, F(4x4) for all 17 (rv_winograd_tile)
"$tool" bench --weights a0d.safetensors --shape 1,3,112,112 --repeat 1 --device cpu --openblas \
    >bench_t.tsv 2>/dev/null
"$tool" bench --weights a0d.safetensors --shape 1,3,112,112 --repeat 1 --device cpu \
    >bench_p.tsv 2>/dev/null
if awk -F'\t' 'FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
                FNR == 2 { f2[FILENAME] = $col["winograd_f2x2"]; f4[FILENAME] = $col["winograd_f4x4"]
                           conv[FILENAME] = $col["conv"] }
                END { packed = conv["bench_p.tsv"] == "winograd+packed"
                      exit !(f2["bench_t.tsv"] == 16 && f4["bench_t.tsv"] == 1 &&
                             conv["bench_t.tsv"] == "winograd+openblas" &&
                             f2["bench_p.tsv"] == (packed ? 0 : 16) &&
                             f4["bench_p.tsv"] == (packed ? 17 : 1)) }' bench_t.tsv bench_p.tsv; then
    echo "ok:   bench A0 112x112: Winograd F(4x4) for 1 layer, F(2x2) for 16 through OpenBLAS;" \
         "$(awk -F'\t' 'NR == 2 { print $21 }' bench_p.tsv) by default"
else
    echo "FAIL: bench A0 112x112 Winograd layers: $(cat bench_t.tsv bench_p.tsv)"
    failures=$((failures + 1))
fi
expect 1 "out of memory: cannot allocate input" -- "$tool" bench --weights a0d.safetensors --shape 1000000,3,224,224 --device cpu
expect 2 "four integers from 1 to 2147483647" -- "$tool" bench --weights a0d.safetensors --shape 1,3,2147483648,8
expect 2 "more than any input can be" -- "$tool" info a0d.safetensors --shape 100000,3,100000,1000
expect 2 "takes 3 channels" -- "$tool" info a0d.safetensors --shape 1,5,224,224
expect 0 "median_ms" -- "$tool" bench --weights a0d.safetensors --shape 1,3,16,16 --warmup 0 --repeat 1 --device cpu
expect 2 "--tf32 needs --device cuda" -- "$tool" bench --weights a0d.safetensors --shape 1,3,32,32 --device cpu --tf32
expect 2 "--graph needs --device cuda" -- "$tool" bench --weights a0d.safetensors --shape 1,3,32,32 --device cpu --graph

leftovers=$(find . -name 'rv-writing-*')
[ -z "$leftovers" ] || { echo "FAIL: temporaries left: $leftovers"; failures=$((failures + 1)); }
echo "$([ $failures -eq 0 ] && echo PASS || echo FAIL) repvgg_cli: $failures failed check(s)"
[ $failures -eq 0 ]

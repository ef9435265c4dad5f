#!/usr/bin/env bash
# gpu_check.sh OUTDIR [--no-gpu] - the one prepared run on a lent GPU machine.
#
# Builds Release for sm_90 (H100/H200) in build-gpu/, runs the whole CTest
# suite (on a GPU no CUDA test may skip), compute-sanitizer memcheck over the
# lessons on CUDA, the benchmark harness (CUDA only; TSV into
# OUTDIR/results), `repvgg bench` for A0, A1, B0 at batch 1, 32, 128 in both
# forms (and A0 deploy at batch 32 with --tf32, its error against FP32), and
# PyTorch on the same networks (TF32 off) when python3 has torch.
# Ends with a short summary table (OUTDIR/summary.txt). Meant to finish well
# within 8 minutes; each step has its own time limit.
# --no-gpu: the same plumbing on a machine without a GPU (build, CPU tests,
# quick bench), to check the script itself.
set -u
out=${1:?usage: bench/gpu_check.sh OUTDIR [--no-gpu]}
nogpu=0
[ "${2:-}" = "--no-gpu" ] && nogpu=1
cd "$(dirname "$0")/.." || exit 1
mkdir -p "$out"
log="$out/gpu_check.log"
: >"$log"
t0=$(date +%s)
status=0
step() { echo "== $* (at $(($(date +%s) - t0)) s)" | tee -a "$log"; }
run() { # run LIMIT_S CMD...: logs, never stops the script
    local limit=$1
    shift
    timeout "$limit" "$@" >>"$log" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || { echo "   exit $rc: $*" | tee -a "$log"; status=1; }
    return $rc
}

step "machine"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true; nvcc --version | tail -2; } | tee -a "$log"

step "build (Release, sm_90)"
run 300 cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DREPVGG_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90
run 300 cmake --build build-gpu -j "$(nproc)"

step "ctest"
timeout 300 ctest --test-dir build-gpu --output-on-failure -j 4 >"$out/ctest.txt" 2>&1 || status=1
tail -5 "$out/ctest.txt" | tee -a "$log"
if [ $nogpu -eq 0 ] && grep -q "cuda.*Skipped" "$out/ctest.txt"; then
    echo "   a CUDA test skipped on a GPU machine" | tee -a "$log"
    status=1
fi

if [ $nogpu -eq 0 ]; then
    step "compute-sanitizer memcheck over the lessons (--device cuda)"
    for l in 00_multi_branch_memory 01_two_branch_sum 02_conv_bn_fusion 03_pad_1x1_to_3x3 \
             04_identity_as_conv 05_repvgg_block 06_network_switch 07_honest_timing \
             08_acnet_and_dbb; do
        run 120 compute-sanitizer --tool memcheck --error-exitcode 1 \
            "build-gpu/bin/$l" --device cuda --repeat 2 && echo "   $l: clean" | tee -a "$log"
    done
fi

step "benchmark harness"
if [ $nogpu -eq 0 ]; then
    run 400 build-gpu/bin/rv_bench --device cuda --out "$out/results" # the CPU runs are on file
else
    run 120 build-gpu/bin/rv_bench --quick --device cpu --out "$out/results"
fi

step "repvgg bench: A0, A1, B0 x batch 1, 32, 128, both forms"
dev=cuda
batches="1 32 128"
[ $nogpu -eq 1 ] && dev=cpu && batches="1"
printf 'arch\t' >"$out/repvgg_bench.tsv"
first=1
for arch in A0 A1 B0; do
    run 120 build-gpu/bin/repvgg init --arch "$arch" "$out/$arch.safetensors" || continue
    run 120 build-gpu/bin/repvgg convert "$out/$arch.safetensors" "$out/${arch}_deploy.safetensors"
    for b in $batches; do
        for w in "$out/$arch.safetensors" "$out/${arch}_deploy.safetensors"; do
            for graph in no yes; do
                [ $graph = yes ] && [ $dev = cpu ] && continue
                extra=()
                [ $graph = yes ] && extra=(--graph)
                r=$(timeout 120 build-gpu/bin/repvgg bench --weights "$w" --shape "$b,3,224,224" \
                    --device $dev --repeat 50 "${extra[@]}" 2>>"$log") || { status=1; continue; }
                [ $first -eq 1 ] && head -1 <<<"$r" >>"$out/repvgg_bench.tsv" && first=0
                printf '%s\t%s\n' "$arch" "$(tail -1 <<<"$r")" >>"$out/repvgg_bench.tsv"
            done
        done
    done
    if [ $arch = A0 ] && [ $dev = cuda ]; then # TF32 as the explicit option, its error shown
        r=$(timeout 120 build-gpu/bin/repvgg bench --weights "$out/${arch}_deploy.safetensors" \
            --shape 32,3,224,224 --device cuda --repeat 50 --tf32 2>"$out/tf32.txt") || status=1
        printf '%s\t%s\n' "$arch" "$(tail -1 <<<"$r")" >>"$out/repvgg_bench.tsv"
    fi
    rm -f "$out/$arch.safetensors" "$out/${arch}_deploy.safetensors"
done

step "PyTorch, same networks"
py=python3 # Debian's python3 (python3-torch) when there is one
/usr/bin/python3 -c "import torch" 2>/dev/null && py=/usr/bin/python3
if [ $nogpu -eq 0 ]; then
    run 300 $py bench/torch_bench.py "$out/torch_bench.tsv" --device cuda --batches 1,32,128
else
    run 300 $py bench/torch_bench.py "$out/torch_bench.tsv" --device cpu --batches 1 --repeat 3
fi

step "summary"
{
    echo "repvgg bench (ours):"
    awk -F'\t' -v OFS='\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
        { print $c["arch"], $c["form"], $c["device"], $c["math"], $c["graph"], $c["batch"],
                $c["median_ms"], $c["images_per_s"] }' "$out/repvgg_bench.tsv" 2>/dev/null |
        column -t
    cat "$out/tf32.txt" 2>/dev/null
    echo "one 3x3 conv layer, ours vs cuDNN (GFLOP/s):"
    grep -v '^#' "$out"/results/*/cudnn.tsv 2>/dev/null | cut -f1-6,10 | column -t
    echo "PyTorch:"
    grep -v '^#' "$out/torch_bench.tsv" 2>/dev/null | cut -f1,3,5,6,9 | column -t
    echo "status: $([ $status -eq 0 ] && echo all steps passed || echo SOME STEPS FAILED, see gpu_check.log)"
    echo "took $(($(date +%s) - t0)) s"
} | tee "$out/summary.txt"
exit $status

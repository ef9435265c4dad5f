# cpu_vs_torch.gp - our CPU forward over PyTorch's (oneDNN), measured
# interleaved by bench/cpu_vs_torch.py; below 1 is faster than PyTorch. The
# black dots are the goals set for ours before these steps were taken.
#: Our CPU forward against PyTorch's
#: RepVGG-A0 at 224x224 on the CPU: our median over PyTorch's (oneDNN) from
#: the same round, same weights, same input, same threads, measured by
#: `bench/cpu_vs_torch.py`; beside ours, ours without Winograd, ours with
#: every product through OpenBLAS, ours with the kernels OpenBLAS picks itself (where they differ from the ones set)
#: and earlier builds timed in the same rounds (`--also`, named in the
#: TSV's header). Each bar is the median over the rounds
#: of the per-round ratio, the error bar its quartiles; the black dots are
#: the goals set for ours. What each choice bought: `docs/performance.md`.
f = dir."/cpu_vs_torch.tsv"
set title "RepVGG-A0 224x224 on the CPU: our median / PyTorch's, same round (".where.")"
set style fill solid 0.6
set ylabel "time relative to PyTorch (lower is faster)"
set yrange [0:*]
set offsets 0.3, 0.3, 0, 0
# the variants the run measured, in the TSV's order, PyTorch's row not drawn
variants = system("awk -F'\t' '/^#/ { next } !c { for (i = 1; i <= NF; i++) " . \
                  "if ($i == \"variant\") c = i; next } $c != \"torch\" && !seen[$c]++ " . \
                  "{ printf \"%s \", $c }' '" . f . "'")
nv = words(variants)
label(v) = v eq "ours" ? "ours (this build)" : v eq "im2col" ? "ours with --no-winograd" : \
           v eq "openblas" ? "ours with --openblas: every product through OpenBLAS" : \
           v eq "blas-default" ? "ours with the kernels OpenBLAS picks" : \
           v.": another build, timed in the same rounds (the TSV's header names it)"
# one group of bars per (form, batch) (column config), each variant at its own x
set boxwidth 0.8 / nv
# each variant's bars filled its own way too, so they differ in grey print:
# ours solid, the others hatched /, \, crossed, then sparser
pat(i) = i == 1 ? 3 : i == 2 ? 4 : i == 3 ? 5 : i == 4 ? 1 : i == 5 ? 6 : 7
slot(i) = (i - (nv + 1) / 2.0) * 0.8 / nv
index_of(v) = sum [i = 1:nv] (word(variants, i) eq v ? i : 0)
pick(i, col) = strcol("variant") eq word(variants, i) ? column(col) : NaN
set key outside bottom center horizontal maxcols 2 Left reverse
plot for [i=1:nv] f using (column("config") + slot(i)):(pick(i, "ratio_to_torch")) \
         with boxes lc i fs pattern pat(i) border title label(word(variants, i)), \
     f using "config":(NaN):xtic(strcol("form")." batch ".strcol("batch")) notitle, \
     for [i=1:nv] f using (column("config") + slot(i)):(pick(i, "ratio_to_torch")) \
         :(column("ratio_q1")):(column("ratio_q3")) with yerrorbars pt 0 lc rgb "black" \
         title (i == 1 ? "quartiles of the per-round ratio" : ""), \
     f using (column("config") + slot(index_of("ours"))) \
         :(strcol("target") ne "" ? column("target") : NaN) with points pt 7 ps 2 \
         lc rgb "black" title "goal for ours: at most this ratio", \
     1 with lines dashtype 2 lc rgb "gray" title "PyTorch"

# cpu_vs_torch.gp - our CPU forward over PyTorch's (oneDNN), measured
# interleaved by bench/cpu_vs_torch.py; below 1 is faster than PyTorch. The
# black dots are the goals set for ours before these steps were taken.
#: Our CPU forward against PyTorch's
#: RepVGG-A0 at 224x224 on the CPU: our median over PyTorch's (oneDNN) from
#: the same round, same weights, same input, same threads, measured by
#: `bench/cpu_vs_torch.py`; beside ours, ours without Winograd and ours with
#: the kernels OpenBLAS picks itself. Each bar is the median over the rounds
#: of the per-round ratio, the error bar its quartiles; the black dots are
#: the goals set for ours. What each step bought: `bench/cpu_steps.md`.
f = dir."/cpu_vs_torch.tsv"
set title "RepVGG-A0 224x224 on the CPU: our median / PyTorch's, same round (".where.")"
set style fill solid 0.6
set boxwidth 0.22
set ylabel "time relative to PyTorch (lower is faster)"
set yrange [0:*]
variants = "ours im2col blas-default"
label(v) = v eq "ours" ? "ours (Winograd + OpenMP + OpenBLAS, kernels set)" : \
           v eq "im2col" ? "ours with --no-winograd" : "ours with the kernels OpenBLAS picks"
# one group of bars per (form, batch) (column config), torch's row not
# drawn, nor the rows of --also builds; each bar at its own x
slot(v) = v eq "ours" ? -0.24 : v eq "im2col" ? 0 : v eq "blas-default" ? 0.24 : -0.48
name(v) = strcol("variant") eq v ? strcol("form")." batch ".strcol("batch") : ""
x = 'column("config") + slot(strcol("variant"))'
pick(i, col) = strcol("variant") eq word(variants, i) ? column(col) : NaN
plot for [i=1:words(variants)] f using (@x):(pick(i, "ratio_to_torch")):xtic(name("im2col")) with boxes title label(word(variants, i)), \
     for [i=1:words(variants)] f using (@x):(pick(i, "ratio_to_torch")):(column("ratio_q1")):(column("ratio_q3")) with yerrorbars pt 0 lc rgb "black" title (i == 1 ? "quartiles of the per-round ratio" : ""), \
     f using (column("config") - 0.24):(strcol("target") ne "" ? column("target") : NaN) with points pt 7 ps 2 lc rgb "black" title "goal for ours: at most this ratio", \
     1 with lines dashtype 2 lc rgb "gray" title "PyTorch"

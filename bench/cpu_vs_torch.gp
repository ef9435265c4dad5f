# cpu_vs_torch.gp - issue 6: our CPU forward over PyTorch's (oneDNN), measured
# interleaved by bench/cpu_vs_torch.py; below 1 is faster than PyTorch.
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
     f using (column("config") - 0.24):(strcol("target") ne "" ? column("target") : NaN) with points pt 7 ps 2 lc rgb "black" title "issue 6 target (ours)", \
     1 with lines dashtype 2 lc rgb "gray" title "PyTorch"

# speedup.gp - the notebook's title, answered honestly.
#: The notebook's title, answered
#: Deploy-time over train-time speed-up, median over median of interleaved
#: runs: each step at the reference size of `pairs` and each network at batch
#: 1 (the TSV's header names the sizes).
f = dir."/speedup.tsv"
# the sizes, from the TSV's first line ("...; steps at ..., networks at ...")
sizes = system("awk 'NR == 1 { sub(/^[^;]*; /, \"\"); print; exit }' '".f."'")
set title "Deploy-time / train-time speed-up (median over median), per step and network (".where.")\n".sizes
set style fill solid 0.6
set boxwidth 0.4
set ylabel "speed-up (x)"
set yrange [0:*]
set xtics rotate by -20
plot for [i=1:words(devs)] f using ($0 + (i - 1) * 0.4):(strcol("device") eq word(devs, i) ? column("speedup") : NaN):xtic(strcol("step")) with boxes title (words(devs) > 1 ? word(devs, i) : ""), \
     for [i=1:words(devs)] f using ($0 + (i - 1) * 0.4):(strcol("device") eq word(devs, i) ? column("speedup") : NaN):(sprintf("%.1fx", column("speedup"))) with labels offset 0, 0.8 notitle, \
     1 with lines dashtype 2 title "no speed-up"

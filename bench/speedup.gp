# speedup.gp - experiment 5: the notebook's title, answered honestly.
#: The notebook's title, answered
#: Deploy-time over train-time speed-up, median over median of interleaved
#: runs: each step at the reference size of `pairs` and each network at batch
#: 1 (the TSV's header names the sizes).
f = dir."/speedup.tsv"
set title "Deploy-time / train-time speed-up (median over median), per step and network (".where.")"
set style fill solid 0.6
set boxwidth 0.4
set ylabel "speed-up (x)"
set yrange [0:*]
set xtics rotate by -20
plot for [i=1:words(devs)] f using ($0 + (i - 1) * 0.4):(strcol("device") eq word(devs, i) ? column("speedup") : NaN):xtic(strcol("step")) with boxes title (words(devs) > 1 ? word(devs, i) : ""), \
     1 with lines dashtype 2 title "no speed-up"

# speedup.gp - experiment 5: the notebook's title, answered honestly.
f = dir."/speedup.tsv"
set title "Deploy-time / train-time speed-up (median over median), per step and network (".where.")"
set style fill solid 0.6
set boxwidth 0.4
set ylabel "speed-up (x)"
set yrange [0:*]
set xtics rotate by -20
plot for [i=1:words(devs)] f using ($0 + (i - 1) * 0.4):(strcol("device") eq word(devs, i) ? column("speedup") : NaN):xtic(strcol("step")) with boxes title word(devs, i), \
     1 with lines dashtype 2 title "no speed-up"

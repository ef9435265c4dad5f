# naive.gp - experiment 4: the notebook's first-call timing against honest timing.
f = dir."/naive.tsv"
set title "Time of two branches / time of the fused conv (lesson 01's forms, 4x8x7x7)\nthe notebook's first call, in both orders and fresh processes, against the honest median (".where.")"
set style fill solid 0.6
set boxwidth 0.7
set logscale y
set ylabel "ratio (two branches / fused), log scale"
set xlabel "measurement"
set xtics rotate by -30
set yrange [0.1:*]
plot for [d in devs] f using 0:(strcol("device") eq d ? column("ratio") : NaN):xtic(strcol("method")."#".strcol("trial")) with boxes title d, \
     1 with lines dashtype 2 title "ratio 1"

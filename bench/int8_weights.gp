# int8_weights.gp - experiment 7 (lesson 10): where the folded kernels'
# weights fall on their INT8 grid, by where the tap sits, RepVGG-A0 against
# its QARepVGG twin; and how much of the grid each output channel uses.
#: INT8: where the folded kernels' weights fall on the grid
#: Lesson 10's why, from the weights. Every weight of the deploy-time kernels
#: of the stride-1 blocks (those with an identity branch), in steps of its
#: kernel's per-tensor INT8 grid (s = max |W| / 127.5). The identity's tap and
#: the 1x1's land on the centre (in RepVGG scaled by their BNs' gamma /
#: sqrt(var + eps)) and set the grid's range; look at how far below them the
#: outer taps, the 3x3 branch's alone, sit, and how many fall below half a
#: step, where they round to 0. Right: each output channel's largest weight
#: in the same steps; a channel far below 127.5 uses little of a shared
#: grid, which one scale per channel gives back. Random seeded weights with
#: calibrated BN statistics, not trained ones.
f = dir."/int8_weights.tsv"
set terminal @term size 1800,650 noenhanced font ",11"
set output out
set multiplot layout 1,3 title "The folded 3x3 kernels of RepVGG-A0 and its QARepVGG twin ". \
    "(stride-1 blocks) on their INT8 grid (".where.")"
x(lo, hi) = lo > 0 ? sqrt(lo * hi) : hi / sqrt(2)
sel(n, k) = (strcol("net") eq n && strcol("kind") eq k) ? 100 * column("fraction") : NaN
set logscale x 2
set xrange [2**-7:2**7.5]
set format x "%g"
set xtics ("1/64" 2**-6, "1/16" 2**-4, "1/4" 0.25, "1/2" 0.5, "1" 1, "4" 4, "16" 16, "64" 64, \
           "127.5" 127.5)
set xlabel "|w| / s: a weight in steps of its kernel's grid (s = max |W| / 127.5)"
set ylabel "share of the taps of that kind, per half-octave bin (%)"
# room above the highest bin for the key
stats [*:*][*:*] f using (100 * column("fraction")) nooutput
set yrange [0:1.5 * STATS_max]
set key top left Left reverse font ",10"
set arrow 1 from 0.5, graph 0 to 0.5, graph 1 nohead dt 2 lc rgb "gray40"
set label 1 "below half a step,\na weight rounds to 0" at 0.45, graph 0.62 right
array K[3] = ["identity_tap", "centre_tap", "outer_tap"]
array KL[3] = ["the identity's tap (centre, input channel = output channel)", \
               "the other centre taps (the 1x1 branch lands there)", \
               "the 8 outer taps (the 3x3 branch alone)"]
array KC[3] = ["#d95f02", "#7570b3", "#1b9e77"]
# in grey print too: a dash type and a point shape per kind of tap
array KD[3] = [1, 2, 4]
array KP[3] = [7, 5, 9]
do for [n in "RepVGG QARepVGG"] {
    set title n."-A0: every weight of the folded kernels"
    plot for [i = 1:3] f using (x(column("bin_lo"), column("bin_hi"))):(sel(n, K[i])) \
         with linespoints lc rgb KC[i] dt KD[i] pt KP[i] ps 0.8 title KL[i]
}
unset arrow 1
unset label 1
set title "each output channel's largest |w|, in steps of its kernel's grid"
set xlabel "max |W_o| / s (127.5: the channel that holds the kernel's largest weight)"
set ylabel "share of the output channels, per half-octave bin (%)"
set xrange [1:2**7.5]
plot for [n in "RepVGG QARepVGG"] f using (x(column("bin_lo"), column("bin_hi"))) \
         :(sel(n, "channel_max")) with linespoints dt 1 + (n eq "RepVGG" ? 0 : 1) \
         pt (n eq "RepVGG" ? 7 : 6) ps 0.8 title n."-A0"
unset multiplot

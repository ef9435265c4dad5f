# int8.gp - experiment 7 (lesson 10): RepVGG-A0 and its QARepVGG twin
# simulated in INT8, against float32: each block's error, the folded
# kernels' error, and the network's end to end for every seed measured.
#: INT8: RepVGG against QARepVGG, per block and end to end
#: Lesson 10's measurement (224x224 in a full run), drawn. Random seeded weights with
#: calibrated BN statistics (not trained ones); every weight and every block
#: input on an 8-bit grid. Train-time form: each conv branch quantized alone;
#: deploy-time form: the folded kernel. Top: each block's output alone, on
#: the float32 network's input, for the lesson's seed. Bottom left: the
#: kernel each form computes with, against float32's: compare the forms at
#: the stride-1 blocks, where the fold puts the identity on the centre tap.
#: Bottom right: the output end to end, one point per
#: seed: errors compound through 22 blocks, and one seed's ranking of close
#: rows need not hold for another. SQNR says how far INT8 is from float32,
#: not how accurate a classifier is.
f = dir."/int8.tsv"
stats [*:*][*:*] f using "seed" nooutput
S0 = int(STATS_min)
stats [*:*][*:*] f using "block" nooutput
LAST = int(STATS_max)
stats [*:*][*:*] f using "size" nooutput
SIZE = int(STATS_max)
set terminal @term size 1500,1000 noenhanced font ",11"
set output out
set multiplot layout 2,2 title sprintf("RepVGG-A0 and its QARepVGG twin in simulated INT8 ". \
    "against float32, %d x %d input (%s)", SIZE, SIZE, where)
# column c of the lesson's seed where net, form and weights match, else NaN
sel(c, n, fm, w) = (column("seed") == S0 && strcol("net") eq n && strcol("form") eq fm && \
                    strcol("weights") eq w) ? column(c) : NaN
array FORM[4] = ["train", "train", "deploy", "deploy"]
array W[4] = ["per_tensor", "per_channel", "per_tensor", "per_channel"]
array LAB[4] = ["train-time (branches apart), one scale per tensor", \
                "train-time (branches apart), one scale per channel", \
                "deploy-time (folded), one scale per tensor", \
                "deploy-time (folded), one scale per channel"]
# one colour and one point shape per form and weight grain, in every panel, so
# that each series can be told apart in grey print too (circle, square,
# triangle, diamond: filled for RepVGG, open for QARepVGG in the kernel panel)
array COL[4] = ["#1b9e77", "#7570b3", "#d95f02", "#e7298a"]
array PT[4] = [7, 5, 9, 13]
array DT[4] = [1, 2, 1, 2]
array SHORT[4] = ["train-time, per tensor", "train-time, per channel", "deploy-time, per tensor", \
                  "deploy-time, per channel"]
set xlabel "block (0: the stem; blocks 1, 3, 7 and 21 open a stage at stride 2)"
set ylabel "SQNR of the block's output (dB, higher: closer to float32)"
set xrange [-0.5:LAST + 0.5]
# the two top panels compare RepVGG with QARepVGG: one y range for both, in
# whole steps of 5 dB above the highest block
stats [*:*][*:*] f using (column("seed") == S0 ? column("alone_sqnr_db") : NaN) nooutput
set yrange [0:5 * ceil(STATS_max / 5.0)]
set key bottom left
do for [n in "RepVGG QARepVGG"] {
    set title n."-A0: each block's output alone (seed ".S0.")"
    plot for [i = 1:4] f using "block":(sel("alone_sqnr_db", n, FORM[i], W[i])) \
         with linespoints lc rgb COL[i] dt DT[i] pt PT[i] ps 0.8 title LAB[i]
}
set title "the kernel each form computes with, against float32's (seed ".S0.")"
set ylabel "SQNR of the weights (dB)"
set yrange [0:85]
set key top left Left reverse maxrows 4 font ",9"
# RepVGG solid with filled points, QARepVGG dashed with open ones (gnuplot's
# open shape is the filled one's number less one)
isqa(n) = n eq "QARepVGG"
plot for [n in "RepVGG QARepVGG"] for [i = 1:4] \
         f using "block":(sel("weight_sqnr_db", n, FORM[i], W[i])) \
         with linespoints lc rgb COL[i] dt 1 + 2 * isqa(n) pt PT[i] - isqa(n) ps 0.8 \
         title n.", ".SHORT[i]
# end to end: one column per network, form and weight grain, one point per seed
pos(n, fm, w) = (n eq "QARepVGG" ? 4 : 0) + (fm eq "deploy" ? 2 : 0) + (w eq "per_channel" ? 1 : 0)
set title "the network's output end to end, every seed measured"
set xlabel ""
set ylabel "SQNR of the network's output (dB)"
set xrange [-0.5:7.5]
set autoscale y
set offsets 0, 0, graph 0.15, 0
set xtics font ",9" ("RepVGG\ntrain\nper tensor" 0, "RepVGG\ntrain\nper channel" 1, \
           "RepVGG\ndeploy\nper tensor" 2, "RepVGG\ndeploy\nper channel" 3, \
           "QARepVGG\ntrain\nper tensor" 4, "QARepVGG\ntrain\nper channel" 5, \
           "QARepVGG\ndeploy\nper tensor" 6, "QARepVGG\ndeploy\nper channel" 7)
set bmargin 5
set key default
set key top right noenhanced
plot f using (column("block") == LAST ? pos(strcol("net"), strcol("form"), strcol("weights")) : NaN) \
         :"chain_sqnr_db" with points pt 7 ps 1.2 lc rgb "#7570b3" title "one seed", \
     0 with lines dt 2 lc rgb "gray40" title "0 dB: the error as large as the output"
unset multiplot

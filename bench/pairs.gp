# pairs.gp - experiment 1: each lesson's pair of forms, latency against size.
#: Each step's two forms
#: Lessons 01, 02, 05, 08 and 09: each step's train-time form against its fused
#: deploy-time form, batch 1, from 16 channels at 56x56 to 256 at 14x14:
#: median latency, with bars from the fastest to the slowest run. Lesson 09's
#: MobileOne block has k = 4 conv branches per part (the TSV's header says).
f = dir."/pairs.tsv"
# two rows of panels: a larger picture than the usual
set terminal @term size 1800,1200 noenhanced font ",11"
set output out
set multiplot layout 2,3 title "Each step's two forms at batch 1: median latency, ". \
                               "bars from the fastest to the slowest run (".where.")"
NP = 6
array PAIR[NP] = ["two_branch", "conv_bn", "block", "acnet", "dbb", "mobileone"]
array TTL[NP] = ["lesson 01: two convs summed, against one conv", \
                 "lesson 02: conv then batch norm, against one conv", \
                 "lesson 05: a RepVGG block, against one 3x3 conv", \
                 "lesson 08: ACNet's block, against one 3x3 conv", \
                 "lesson 08: DBB's block, against one 3x3 conv", \
                 "lesson 09: MobileOne (dw: depthwise; each conv with its BN)"]
array TRAIN[NP] = ["conv(x, W1) + conv(x, W2)", "BN(conv(x, W))", \
                   "ReLU(BN(3x3)+BN(1x1)+BN(x))", "ReLU(BN(3x3)+BN(1x3)+BN(3x1))", \
                   "ReLU(3x3, 1x1, 1x1-avg, 1x1-3x3)", \
                   "ReLU(4 dw3x3+dw1x1+BN), ReLU(4 1x1+BN)"]
array DEPLOY[NP] = ["conv(x, W1 + W2)", "conv(x, W * s) + t", "ReLU(conv(x, W) + b)", \
                    "ReLU(conv(x, W) + b)", "ReLU(conv(x, W) + b)", "ReLU(1x1(ReLU(dw3x3(x))))"]
set logscale y
# one y range for all six panels, whole decades around every bar, so that a
# panel's lines compare with its neighbours' at a glance; one decade more
# above for the key
stats [*:*][*:*] f using "min_ms" nooutput
y_lo = 10 ** floor(log10(STATS_min))
stats [*:*][*:*] f using "max_ms" nooutput
y_hi = 10 ** (ceil(log10(STATS_max)) + 1)
set yrange [y_lo:y_hi]
axis_labels = 'set ylabel "latency per forward (ms, log scale)"; ' . \
              'set xlabel "input: C channels of S x S pixels" offset 0, -0.6'
eval axis_labels
set logscale x 2
set autoscale xfix
# the bars at either end stay inside the frame (the key sits in the decade
# above the data)
set offsets graph 0.07, graph 0.07, 0, 0
set bmargin 6
set key top left Left reverse samplen 2
# the two forms a little apart, so their bars do not hide each other; in
# grey print they differ by dashes and points too (train-time solid with
# circles, deploy-time dashed with squares)
shift(form) = form eq "train" ? 0.96 : 1.04
fdt(form) = form eq "train" ? 1 : 2
fpt(form) = form eq "train" ? 7 : 5
do for [p = 1:NP] {
    set title TTL[p]
    # results from before a pair was added to rv_bench have none of its rows
    stats [*:*][*:*] f using (strcol("pair") eq PAIR[p] ? 1 : 0) nooutput
    if (STATS_sum == 0) {
        set label 1 "not in these results: a run from before this pair was measured" \
            at graph 0.5, graph 0.5 center
        unset tics
        unset xlabel
        unset ylabel
        plot [1:2] [1:2] 3 notitle
        unset label 1
        set tics
        eval axis_labels
        continue
    }
    plot for [d in devs] for [form in "train deploy"] f \
        using (column("channels") * shift(form)) \
              :(strcol("pair") eq PAIR[p] ? pick("median_ms", d, "form", form) : NaN) \
              :(pick("min_ms", d, "form", form)):(pick("max_ms", d, "form", form)) \
        with yerrorlines lw 2 dt fdt(form) pt fpt(form) ps 0.8 \
        title (form eq "train" ? "train-time: ".TRAIN[p] : "deploy-time: ".DEPLOY[p]).tag(d), \
        f using "channels":(NaN) \
              :xtic(sprintf("C = %d\nS = %d", column("channels"), column("size"))) \
        notitle
}
unset multiplot

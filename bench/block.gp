# block.gp - experiment 2: one RepVGG block, train-time vs deploy-time.
f = dir."/block.tsv"
set multiplot layout 2,2 title "One RepVGG block C -> C, stride 1, batch 1 (".where.")"
sel(c, d, form, sweep) = (strcol("sweep") eq sweep) ? pick(c, d, "form", form) : NaN
set logscale x 2
set xlabel "channels C (56 x 56)"
set logscale y
set ylabel "latency (ms)"
set title "latency against channels"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("median_ms", d, form, "channels")):(sel("min_ms", d, form, "channels")):(sel("max_ms", d, form, "channels")) with yerrorlines title d.", ".form
unset logscale y
set ylabel "GFLOP/s (2 x multiply-adds the form computes / time)"
set title "achieved GFLOP/s"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("gflops", d, form, "channels")) with linespoints title d.", ".form
set logscale y
set xlabel "resolution S (64 channels)"
set ylabel "latency (ms)"
set title "latency against resolution"
plot for [d in devs] for [form in "train deploy"] f using "size":(sel("median_ms", d, form, "resolution")):(sel("min_ms", d, form, "resolution")):(sel("max_ms", d, form, "resolution")) with yerrorlines title d.", ".form
set xlabel "channels C (56 x 56)"
set ylabel "activation memory (MiB)"
set title "activations held (x, y, branch buffer, workspace)"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("activation_bytes", d, form, "channels")/1048576.0) with linespoints title d.", ".form
unset multiplot

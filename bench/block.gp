# block.gp - one RepVGG block, train-time vs deploy-time.
#: One RepVGG block
#: A C -> C stride-1 block, train-time (3x3 conv-BN + 1x1 conv-BN + identity
#: BN) against its fused 3x3 conv: latency and GFLOP/s (2 x the multiply-adds
#: of each form counted as direct convs, over its median; Winograd does fewer
#: multiplications, so these are effective rates) against channels at 56x56
#: and against resolution at 64 channels, and the memory each form holds.
f = dir."/block.tsv"
set multiplot layout 2,2 title "One RepVGG block C -> C, stride 1, batch 1 (".where.")"
sel(c, d, form, sweep) = (strcol("sweep") eq sweep) ? pick(c, d, "form", form) : NaN
set logscale x 2
set xlabel "channels C (56 x 56)"
set logscale y
set ylabel "latency (ms)"
set title "latency against channels"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("median_ms", d, form, "channels")):(sel("min_ms", d, form, "channels")):(sel("max_ms", d, form, "channels")) with yerrorlines title (form eq "train" ? "train-time (3 branches)" : "deploy-time (one 3x3 conv)").tag(d)
unset logscale y
set ylabel "GFLOP/s (2 x multiply-adds the form computes / time)"
set title "achieved GFLOP/s"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("gflops", d, form, "channels")) with linespoints title (form eq "train" ? "train-time (3 branches)" : "deploy-time (one 3x3 conv)").tag(d)
set logscale y
set xlabel "resolution S (64 channels)"
set ylabel "latency (ms)"
set title "latency against resolution"
plot for [d in devs] for [form in "train deploy"] f using "size":(sel("median_ms", d, form, "resolution")):(sel("min_ms", d, form, "resolution")):(sel("max_ms", d, form, "resolution")) with yerrorlines title (form eq "train" ? "train-time (3 branches)" : "deploy-time (one 3x3 conv)").tag(d)
set xlabel "channels C (56 x 56)"
set ylabel "x + y + branch buffer + workspace (MiB)"
set title "memory one forward holds: input x, output y, branch buffer (train-time), workspace"
plot for [d in devs] for [form in "train deploy"] f using "channels":(sel("activation_bytes", d, form, "channels")/1048576.0) with linespoints title (form eq "train" ? "train-time (3 branches)" : "deploy-time (one 3x3 conv)").tag(d)
unset multiplot

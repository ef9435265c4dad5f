# networks.gp - experiment 3: whole networks against batch size.
f = dir."/networks.tsv"
set multiplot layout 1,2 title "RepVGG A0, A1, B0: train-time vs deploy-time (".where.")"
sel(c, d, form, a) = (strcol("arch") eq a) ? pick(c, d, "form", form) : NaN
set logscale x 2
set xlabel "batch size (images)"
set ylabel "throughput (images/s)"
set logscale y
set title "throughput"
plot for [d in devs] for [a in "A0 A1 B0"] for [form in "train deploy"] f using "batch":(sel("images_per_s", d, form, a)) with linespoints title sprintf("%s %s, %s", a, form, d)
set ylabel "peak activation memory (MiB)"
set title "planned activation buffers + workspace"
plot for [d in devs] for [a in "A0 A1 B0"] for [form in "train deploy"] f using "batch":(sel("peak_bytes", d, form, a)/1048576.0) with linespoints title sprintf("%s %s, %s", a, form, d)
unset multiplot

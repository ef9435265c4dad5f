# pairs.gp - experiment 1: each lesson's pair of forms, latency against size.
f = dir."/pairs.tsv"
set multiplot layout 1,3 title "Each step's two forms, median latency with min-max bars (".where.")"
set logscale y
set ylabel "latency per forward (ms)"
set xlabel "channels C (input C x S x S, S shrinking as C grows)"
set logscale x 2
do for [p in "two_branch conv_bn block"] {
    set title p
    plot for [d in devs] for [form in "train deploy"] f \
        using (strcol("pair") eq p ? column("channels") : NaN):(pick("median_ms", d, "form", form)):(pick("min_ms", d, "form", form)):(pick("max_ms", d, "form", form)) \
        with yerrorlines title sprintf("%s, %s", d, form eq "train" ? "multi-branch" : "fused")
}
unset multiplot

# networks.gp - experiment 3: whole networks against batch size: throughput,
# and the memory one forward holds, part by part (lesson 00: the train-time
# form's extra activation buffer; beside it, what both forms hold alike).
# One colour and one point shape per network; train-time dashed with open
# points, deploy-time solid with filled ones; the networks a little apart on
# the batch axis, so that lines of equal values (A1 and B0 have the same
# widths, hence the same activations and workspace) show side by side.
#: Whole networks
#: RepVGG A0, A1 and B0 at 224x224 against batch size: throughput, and the
#: memory one forward allocates, part by part, on one scale. The activation
#: buffers are lesson 00's point: the train-time form needs a branch buffer
#: beside its two ping-pong buffers. The workspace (im2col columns, Winograd
#: tiles) and, on the CPU, the 3x3 weights transformed into the Winograd
#: domain come on top of them in both forms; the peak is the sum of the three.
f = dir."/networks.tsv"
stats [*:*][*:*] f using "size" nooutput
S = int(STATS_max)
set multiplot layout 2,3 title sprintf("RepVGG A0, A1, B0 on %d x %d images: train-time ". \
                                       "(dashed) against deploy-time (solid) (%s)", S, S, where)
sel(c, d, form, a) = (strcol("arch") eq a) ? pick(c, d, "form", form) : NaN
# one scale for the four memory panels, so their sizes compare at a glance
# (a TSV from an older rv_bench has the peak alone: the other panels stay empty)
stats [*:*][*:*] f using "peak_bytes" nooutput
lo = STATS_min
hi = STATS_max
undefine STATS_*
stats [*:*][*:*] f using (column("buffer_bytes") > 0 ? 1 : 0) nooutput
has_parts = exists("STATS_sum") && STATS_sum > 0
if (has_parts) {
    stats [*:*][*:*] f using (column("buffer_bytes") > 0 ? column("buffer_bytes") : NaN) nooutput
    lo = STATS_min
    stats [*:*][*:*] f \
        using (column("workspace_bytes") > 0 ? column("workspace_bytes") : NaN) nooutput
    lo = STATS_min < lo ? STATS_min : lo
    stats [*:*][*:*] f using "planned_weight_bytes" nooutput
    no_winograd = STATS_max == 0 # a GPU run: its convs are im2col + cuBLAS
}
mem_lo = 10 ** floor(log10(lo / 1048576.0))
mem_hi = 10 ** ceil(log10(hi / 1048576.0))
array NETS[3] = ["A0", "A1", "B0"]
array COL[3] = ["#1b9e77", "#d95f02", "#7570b3"]
# a line per network, form and device: colour and points by network, dashes
# and filling by form (circle, triangle, square; open for train-time)
array PT[3] = [6, 8, 4]
ls(form) = form eq "train" ? 2 : 1
npt(a, form) = PT[a] + (form eq "train" ? 0 : 1)
nshift(a) = a == 1 ? 0.94 : a == 2 ? 1.0 : 1.06
stats [*:*][*:*] f using "batch" nooutput
set logscale x 2
set xrange [STATS_min / 1.25 : STATS_max * 1.25] # the end points off the frame
set xtics (1, 4, 8, 16, 32, 64, 128, 256)
set xlabel "batch size (images)"
set logscale y
set key off
do for [panel = 1:5] {
    c = panel == 1 ? "images_per_s" : panel == 2 ? "buffer_bytes" : panel == 3 ? "peak_bytes" : \
        panel == 4 ? "workspace_bytes" : "planned_weight_bytes"
    scale = panel == 1 ? 1 : 1.0 / 1048576
    if (panel == 1) { set yrange [*:*] } else { set yrange [mem_lo:mem_hi] }
    set title (panel == 1 ? "throughput" : \
               panel == 2 ? "activation buffers (lesson 00): ping-pong, + branch (train-time)" : \
               panel == 3 ? "peak: all that one forward allocates" : \
               panel == 4 ? "workspace: im2col columns and Winograd tiles" : \
               "weights as planned for the CPU: Winograd domain or packed")
    set ylabel (panel == 1 ? "throughput (images/s)" : \
                panel == 2 ? "activation buffers (MiB)" : \
                panel == 3 ? "peak memory of one forward (MiB)" : \
                panel == 4 ? "workspace (MiB)" : "weights planned for the CPU (MiB)")
    unset label
    if (has_parts && panel == 5 && no_winograd) {
        set label "none: on the GPU every conv runs\nas im2col + cuBLAS SGEMM" \
            at graph 0.5, 0.7 center
    }
    if (!has_parts && (panel == 2 || panel >= 4)) {
        set label "not in this TSV:\nan older rv_bench wrote it" at graph 0.5, 0.7 center
        plot NaN notitle
    } else {
        plot for [d in devs] for [a = 1:3] for [form in "train deploy"] f \
            using (column("batch") * nshift(a)):(sel(c, d, form, NETS[a]) * scale) \
            with linespoints lc rgb COL[a] dashtype ls(form) lw 2 pt npt(a, form) ps 1.2
    }
}
unset label
# the sixth place holds the key: what each line is, and how the peak adds up
unset border
unset tics
unset xlabel
unset ylabel
unset logscale
set title ""
set xrange [0:1]
set yrange [0:1]
set key at graph 0.5, 1.0 center top Left reverse box width 2 spacing 1.4
set label "peak = activation buffers + workspace\n+ weights planned for the CPU\n(Winograd-domain or packed)\n\n". \
          "a dashed line hidden under a solid one:\nboth forms hold the same\n\n". \
          "A1 and B0 have the same widths, so the same\nactivation buffers and workspace: ". \
          "the networks\nare drawn a little apart on the batch axis" at 0.5, 0.4 center
plot for [d in devs] for [a = 1:3] for [form in "train deploy"] NaN with linespoints \
     lc rgb COL[a] dashtype ls(form) lw 2 pt npt(a, form) ps 1.2 \
     title sprintf("RepVGG-%s, %s%s", NETS[a], \
                   form eq "train" ? "train-time (3 branches)" : "deploy-time (one 3x3 conv)", \
                   tag(d))
unset multiplot

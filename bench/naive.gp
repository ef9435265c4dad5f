# naive.gp - the notebook's first-call timing against honest
# timing, as a ratio per measurement, one panel per device; beside them, the
# ratio the notebook printed (a quote, not a measurement of ours).
#: The notebook's ">100x", taken apart
#: Lesson 01's forms on 4x8x7x7, timed the way the notebook's In [5] did: the
#: first call of each form, host clock, no warm-up, no sync; each bar is one
#: fresh process, in the notebook's order (two branches first) and swapped.
#: Beside them the honest median ratio and, quoted, the ratio the notebook
#: printed on its GPU. Whichever form runs first pays the process's one-time
#: set-up; the honest ratio is about what two convs cost against one.
f = dir."/naive.tsv"
set multiplot layout 1, words(devs) \
    title "Lesson 01's forms on a 4x8x7x7 input: time of two branches / time of the fused conv\n". \
          "the notebook's first-call timing (each bar one fresh process) against honest timing (". \
          where.")"
# bars: the processes of each order, a gap, the honest median, a gap, the notebook
stats [*:*][*:*] f \
    using (strcol("method") eq "first_call_notebook_order" ? column("trial") : NaN) nooutput
T = int(STATS_max)
# the notebook's row (a TSV from an older rv_bench has none: no such bar then)
nb(c) = strcol("method") eq "notebook_printed" ? column(c) : 0
stats [*:*][*:*] f using (nb("two_branch_ms")) nooutput
nb_two = STATS_sum / 1e3
stats [*:*][*:*] f using (nb("fused_ms")) nooutput
nb_fused = STATS_sum / 1e3
G = nb_two > 0 ? 4 : 3
array M[4] = ["first_call_notebook_order", "first_call_fused_first", "honest_median", \
              "notebook_printed"]
array COL[4] = ["#d95f02", "#7570b3", "#1b9e77", "#666666"]
array LAB[4] = ["first call of each form, the notebook's order (two branches first)", \
                "first call of each form, the fused conv first", \
                "honest: median of 100 warm, synchronised runs, the forms taking turns", \
                G < 4 ? "" : \
                sprintf("what the notebook printed on its GPU: %.6f s / %.6f s (quoted)", \
                        nb_two, nb_fused)]
xpos(g, k) = g <= 2 ? (g - 1) * (T + 1) + k : 2 * (T + 1) + 1 + (g - 3) * 2
is(g, d) = strcol("method") eq M[g] && (g == 4 || strcol("device") eq d)
fmt_x(r) = r < 10 ? sprintf("%.2fx", r) : sprintf("%.0fx", r)
set style fill solid 0.8 border lc rgb "black"
set boxwidth 0.75
set logscale y
# from a decade below the smallest ratio (0.1 at most) up, so every bar shows
stats [*:*][*:*] f using "ratio" nooutput
lo = 10 ** floor(log10(STATS_min / 1.5))
set yrange [lo < 0.1 ? lo : 0.1 : *]
set xrange [0.2 : xpos(G, 1) + 0.8]
set grid ytics
set ylabel "time of two branches / time of the fused conv (log scale)"
set xtics () nomirror
do for [g = 1:2] { do for [k = 1:T] { set xtics add (sprintf("process %d", k) xpos(g, k)) } }
set xtics add ("median" xpos(3, 1))
if (G == 4) { set xtics add ("notebook" xpos(4, 1)) }
set key below left Left reverse maxrows 4 width -8
do for [d in devs] {
    set title (d eq "cpu" ? "on the CPU" : "on the GPU (".d.")")
    # the honest median of this device, drawn across the panel too
    stats [*:*][*:*] f using (is(3, d) ? column("ratio") : 0) nooutput
    honest = STATS_sum
    plot for [g = 1:G] f using (is(g, d) ? xpos(g, column("trial")) : NaN):"ratio" \
             with boxes lc rgb COL[g] title LAB[g], \
         for [g = 1:G] f \
             using (is(g, d) ? xpos(g, column("trial")) : NaN):(column("ratio") * 1.25) \
             :(fmt_x(column("ratio"))) with labels notitle, \
         honest with lines dashtype 2 lw 2 lc rgb COL[3] \
             title sprintf("honest median, %.2fx", honest), \
         2 with lines dashtype 3 lc rgb "black" \
             title "2x: the two-branch form does two convs, the fused one", \
         1 with lines dashtype 1 lc rgb "gray50" title "1x: both forms equally fast"
}
unset multiplot

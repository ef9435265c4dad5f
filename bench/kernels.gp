# kernels.gp - the kernels lessons 03, 04 and 05 build, drawn cell by cell:
# one row of panels per lesson, every weight a coloured square with its value
# in it (blue below zero, white at zero, red above). In a panel, output
# channel o is a band of rows and input channel c a band of columns; each
# K x K block where they meet is the kernel from input c to output o.
#: The kernels of lessons 03, 04 and 05, cell by cell
#: What lessons 03 to 05 say in formulas, drawn: every weight of the kernels
#: the library's rewrites build (`rv_pad_kernel`, `rv_identity_kernel`,
#: `rv_fuse_conv_bn`), one coloured cell each with its value. Top: a 1x1
#: kernel and the 3x3 it pads into. Middle: the identity kernel of 4 channels
#: in 1, 2 and 4 groups. Bottom: a block's three branches, each with its batch
#: norm folded in, and their sum: the one kernel and bias the deploy-time
#: block runs. Computed, not timed: the same on every machine.
f = dir."/kernels.tsv"
unset grid
unset key
unset colorbox
unset border
set tics scale 0 nomirror
set size ratio -1
set palette defined (-1 "#4a86c5", 0 "white", 1 "#e07b5f")
# a label in the cell: integers as they are, others rounded to 2 decimals
lab(v) = v == int(v) ? sprintf("%d", v) : sprintf("%.2f", v)
# The panels, row by row: picture and panel (the TSV's columns), title, x
# label. Each panel's plot area is its cells at the row's cell size, so a
# cell is a square and every cell of a row has one size.
array P[9] = ["pad", "pad", "identity", "identity", "identity", \
              "block", "block", "block", "block"]
array Q[9] = ["1x1", "3x3", "groups=1", "groups=2", "groups=4", \
              "3x3", "1x1", "identity", "fused"]
array T[9] = ["W1: the 1x1 kernel", "pad(W1): zero-padded into a 3x3", \
              "groups = 1: o reads o", "groups = 2: o reads o mod 2", \
              "groups = 4: o reads o mod 1 = 0", \
              "3x3 branch: W3 * s3, bias t3", "padded 1x1 branch: pad(W1 * s1), bias t1", \
              "identity branch: I * s_id, bias t_id", "the fused kernel W and bias b"]
array XL[9] = ["input channel", "input channel", "input channel", \
               "input channel, within the group", "input channel, within the group", \
               "input channel", "input channel", "input channel", "input channel"]
array ROW[9] = [1, 1, 2, 2, 2, 3, 3, 3, 3]
# each row: its caption (one or two lines) and its cell size in pixels
array CAP1[3] = [ \
  "Lesson 03: a 1x1 conv is a 3x3 conv whose kernel is the 1x1 one in a ring of zeros ". \
      "(run with padding 1 instead of 0)", \
  "Lesson 04: the identity as a 3x3 conv on C = 4 channels: output channel o reads input ". \
      "channel o mod (C/groups) of its group, through a 1 at the centre", \
  "Lesson 05: 3x3 branch + padded 1x1 branch + identity branch = the fused kernel. ". \
      "Each branch has its BN folded in: kernel * s, bias t, with"]
array CAP2[3] = ["", "", \
  "s = gamma / sqrt(var + eps) and t = beta - mean * s per output channel (integer W3 and ". \
      "W1, random BN statistics): cell by cell, the three add up to W"]
array CELL[3] = [40, 28, 36]
array ABOVE[3] = [75, 75, 95] # pixels over a row's cells: caption, titles
array GAP[3] = [60, 130, 40]  # pixels between panels (room for "+" and "=")
Wpx = 1850.0
Hpx = 1480.0
set terminal @term size Wpx,Hpx noenhanced font ",11"
set output out
below = 62.0 # pixels under them: tic labels, x label
left = 58.0  # pixels left of each panel's cells: y tic labels

# the plot's parts, as macros (expanded when the loop is read; evaluated per panel)
cells = 'f using (sel("weight") ? xc(column("in"), column("col")) : NaN) \
             :(yc(column("out"), column("row"))) \
             :(0.5):(0.5):"value" with boxxyerror fs solid 1.0 border lc rgb "gray70" lc palette, \
         f using (sel("weight") ? xc(column("in"), column("col")) : NaN) \
             :(yc(column("out"), column("row"))):(lab(column("value"))) with labels font ",10"'
biases = 'f using (sel("bias") ? xb : NaN):(yc(column("out"), (K - 1) / 2.0)) \
             :(0.5):(0.5):"value" with boxxyerror fs solid 1.0 border lc rgb "gray70" lc palette, \
          f using (sel("bias") ? xb : NaN):(yc(column("out"), (K - 1) / 2.0)) \
             :(lab(column("value"))) with labels font ",10"'

set multiplot \
    title "The kernels of lessons 03, 04 and 05, as the library's rewrites compute them (".where.")"
top = Hpx - 45 # pixels from the bottom: the first row's top
x = 0
do for [i = 1:9] {
    p = P[i]
    q = Q[i]
    r = ROW[i]
    cell = CELL[r]
    above = ABOVE[r]
    sel(k) = strcol("picture") eq p && strcol("panel") eq q && strcol("kind") eq k
    # stats obeys the ranges of the last plot: [*:*] lifts them
    stats [*:*][*:*] f using (sel("weight") ? column("out") : NaN) nooutput
    O = int(STATS_max) + 1
    stats [*:*][*:*] f using (sel("weight") ? column("in") : NaN) nooutput
    C = int(STATS_max) + 1
    stats [*:*][*:*] f using (sel("weight") ? column("row") : NaN) nooutput
    K = int(STATS_max) + 1
    stats [*:*][*:*] f using (sel("bias") ? 1 : 0) nooutput
    nb = STATS_sum # bias cells
    # one colour scale per picture, so its panels compare
    stats [*:*][*:*] f using (strcol("picture") eq p ? abs(column("value")) : NaN) nooutput
    m = STATS_max > 0 ? STATS_max : 1
    set cbrange [-m:m]
    xc(c, k) = c * (K + 1) + k
    yc(o, r) = -(o * (K + 1) + r)
    xb = C * (K + 1) + 0.5 # the bias column, right of the kernels
    nx = nb > 0 ? C * (K + 1) + 1.5 : C * (K + 1) - 1
    ny = O * (K + 1) - 1
    set xrange [-0.5 : nx - 0.5]
    set yrange [-ny + 0.5 : 0.5]
    # where the panel goes: a new row starts at the left, under the last
    first = i == 1 || ROW[i - 1] != r
    if (first && i > 1) { top = top - below - rowh }
    if (first) { x = 0; rowh = 0 }
    set lmargin at screen (x + left) / Wpx
    set rmargin at screen (x + left + nx * cell) / Wpx
    set tmargin at screen (top - above) / Hpx
    set bmargin at screen (top - above - ny * cell) / Hpx
    rowh = (above + ny * cell) > rowh ? above + ny * cell : rowh
    set xtics () offset 0, 0.3
    set ytics ()
    do for [c = 0:C - 1] { set xtics add (sprintf("in %d", c) xc(c, (K - 1) / 2.0)) }
    do for [o = 0:O - 1] { set ytics add (sprintf("out %d", o) yc(o, (K - 1) / 2.0)) }
    if (nb > 0) { set xtics add ("bias" xb) }
    set xlabel XL[i] offset 0, 0.6
    set ylabel ""
    set title T[i] offset 0, -0.4
    unset label
    if (first) {
        set label CAP1[r] at screen 10 / Wpx, (top - 12) / Hpx
        set label CAP2[r] at screen 10 / Wpx, (top - 30) / Hpx
    }
    if (P[i] eq "block" && !first) {
        set label (Q[i] eq "fused" ? "=" : "+") font ",22" \
            at screen (x + 8) / Wpx, (top - above - ny * cell / 2) / Hpx
    }
    x = x + left + nx * cell + GAP[r]
    if (nb > 0) { plot @cells, @biases } else { plot @cells }
}
unset multiplot

# peers.gp - ours against other CPU inference runtimes (bench/peers.py):
# RepVGG-A0 224x224 after switch_to_fast, FP32, the same weights and input for
# all; left the time per image, right the peak resident memory of the process.
#: Ours against other CPU inference runtimes
#: RepVGG-A0 at 224x224 after the switch to its deploy-time form, FP32, the
#: same weights and input for every runtime, measured by `bench/peers.py`:
#: ONNX Runtime and OpenVINO on the model PyTorch exports to ONNX, ncnn on that
#: file converted by pnnx (one call per image), ours with `repvgg bench`, each
#: in a process of its own, round after round in rotating order. Left: the
#: time per forward, the median over the rounds with its quartiles; right: the
#: peak resident memory of the whole process (a peer's includes Python and
#: numpy, whose share alone the TSV gives). Versions and settings are in the
#: TSV's header.
f = dir."/peers.tsv"
runtimes = "ours onnxruntime openvino ncnn"
label(r) = r eq "ours" ? "ours (repvgg bench)" : r eq "onnxruntime" ? "ONNX Runtime" : \
           r eq "openvino" ? "OpenVINO" : "ncnn (one call per image)"
# one group of bars per batch size (column config), each runtime at its own x
slot(r) = r eq "ours" ? -0.3 : r eq "onnxruntime" ? -0.1 : r eq "openvino" ? 0.1 : 0.3
x = 'column("config") + slot(strcol("runtime"))'
pick(i, c) = strcol("runtime") eq word(runtimes, i) ? column(c) : NaN
# a group's label once, from its row for ours, at the group's centre (the other
# rows put theirs outside the x range, where no tic is drawn)
tic(r) = column("config") + (strcol("runtime") eq r ? 0 : 1000)
set multiplot layout 1,2 \
    title "RepVGG-A0 224x224 on the CPU, FP32: ours and other runtimes\n(".where.")". \
          (held eq "" ? "" : "\n(".held.")")
set style fill solid 0.6
# each runtime's bars filled its own way too, so they differ in grey print:
# ours solid, the others hatched /, \ and crossed
pat(i) = i == 1 ? 3 : i == 2 ? 4 : i == 3 ? 5 : 1
set boxwidth 0.18
set yrange [0:*]
stats f using "config" nooutput
set xrange [-0.5:STATS_max + 0.5]
set key top left
set offsets 0, 0, graph 0.3, 0  # headroom above the bars for the key
set title "time per image (median over rounds of each process's median; bars: quartiles)"
set ylabel "time per image (ms), batch time / batch size"
plot for [i=1:words(runtimes)] f using (@x):(pick(i, "median_ms") / column("batch")) \
         with boxes lc i fs pattern pat(i) border title label(word(runtimes, i)), \
     for [i=1:words(runtimes)] f using (@x):(pick(i, "median_ms") / column("batch")): \
         (column("q1_ms") / column("batch")):(column("q3_ms") / column("batch")) \
         with yerrorbars pt 0 lc rgb "black" title (i == 1 ? "quartiles over rounds" : ""), \
     f using (tic("ours")):(0):xtic("batch ".strcol("batch")) with points ps 0 notitle
set title "peak resident memory of the whole process (median over rounds)"
set ylabel "peak resident memory (MiB)"
plot for [i=1:words(runtimes)] f using (@x):(pick(i, "peak_rss_mib")) \
         with boxes lc i fs pattern pat(i) border title label(word(runtimes, i)), \
     f using (@x):"python_floor_mib" with boxes fill solid 0.35 lc rgb "gray30" \
         title "of which Python and numpy alone (the peers' worker process)", \
     f using (tic("ours")):(0):xtic("batch ".strcol("batch")) with points ps 0 notitle
unset multiplot

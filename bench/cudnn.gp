# cudnn.gp - the deploy-time layer (a GPU run only) through our conv
# (im2col + cuBLAS SGEMM + bias/ReLU) and through cuDNN's fastest FP32 algorithm.
#: Our CUDA conv against cuDNN's
#: The deploy-time layer (3x3 conv + bias + ReLU) through our CUDA conv
#: (im2col + cuBLAS SGEMM) and through cuDNN's fastest FP32 algorithm, at
#: batch 1 and 32, against channels and resolution.
f = dir."/cudnn.tsv"
set multiplot layout 1,2 title "3x3 conv C -> C + bias + ReLU: ours vs cuDNN, FP32 (".where.")"
sel(c, impl, sweep, b) = (strcol("impl") eq impl && strcol("sweep") eq sweep && column("batch") == b) ? column(c) : NaN
set logscale y
set ylabel "GFLOP/s (2 x multiply-adds / median time)"
set logscale x 2
set xlabel "channels C (56 x 56)"
set title "against channels"
plot for [b in "1 32"] for [impl in "ours cudnn"] f using "channels":(sel("gflops", impl, "channels", b+0)) with linespoints title impl.", batch ".b
set xlabel "resolution S (64 channels)"
set title "against resolution"
plot for [b in "1 32"] for [impl in "ours cudnn"] f using "size":(sel("gflops", impl, "resolution", b+0)) with linespoints title impl.", batch ".b
unset multiplot

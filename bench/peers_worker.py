"""peers_worker.py - one runtime's forward of one model on one input, in a process of its own.

Usage (bench/peers.py runs it with the peers' virtual environment's python,
which has no PyTorch):
  peers_worker.py RUNTIME MODEL X.npy --threads T --repeat R --warmup W [--output Y.npy]

RUNTIME and MODEL:
  onnxruntime  MODEL.onnx         CPU execution provider, T intra-op threads,
                                  1 inter-op, sequential, every graph optimisation
  openvino     MODEL.onnx         CPU plugin, the model reshaped to X's shape,
                                  T threads, 1 stream, latency hint, FP32 forced
                                  (on a CPU with AVX-512 BF16 its default is BF16)
  ncnn         MODEL.ncnn.param   (its .ncnn.bin beside it) T threads, FP16 and
                                  BF16 storage and arithmetic off, one extractor
                                  per image: ncnn's API takes one image a call
  python       -                  nothing loaded: the interpreter, numpy and the
                                  input alone, the floor under every peer's memory
Each runtime as its users drive it from Python, FP32 throughout. Runs W
untimed forwards, then R timed ones (the host clock around each call, which
returns when the output is ready), and writes the first output to Y.npy.
Prints one JSON object on stdout: the runtime's version, its settings as
read back from it where it reports them, and every timed run in ms. The
whole process's peak resident memory is read by the parent (wait4), so that
ours and the peers are measured the same way.
Exit: 0 done, 1 error (a message on stderr), 2 bad usage.
"""
import argparse
import json
import sys
import time

import numpy as np


def onnxruntime(model, x, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    settings = (f"CPUExecutionProvider, intra_op_num_threads={threads}, inter_op_num_threads=1, "
                f"sequential, ORT_ENABLE_ALL")
    return lambda a: session.run(None, {name: a})[0], ort.__version__, settings


def openvino(model, x, threads):
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints
    core = ov.Core()
    m = core.read_model(model)
    m.reshape(list(x.shape))  # static shapes: what a deployment of one batch size compiles
    compiled = core.compile_model(m, "CPU", {
        props.inference_num_threads: threads, props.num_streams: 1,
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        hints.inference_precision: ov.Type.f32})
    request = compiled.create_infer_request()
    keys = ("INFERENCE_NUM_THREADS", "NUM_STREAMS", "PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT")
    values = [compiled.get_property(k) for k in keys]  # read back: what the plugin applied
    info = [op.get_rt_info() for op in compiled.get_runtime_model().get_ops()]
    convs = sorted({i["primitiveType"].astype(str) for i in info  # which code its convs run
                    if i["layerType"].astype(str) == "Convolution"})
    settings = "CPU, " + ", ".join(
        f"{k}={v.to_string() if isinstance(v, ov.Type) else v}" for k, v in zip(keys, values)) + \
        f", convolutions run {' and '.join(convs)}"

    def forward(a):
        request.infer({0: a})
        return request.get_output_tensor(0).data
    return forward, ov.get_version(), settings


def ncnn(model, x, threads):
    import ncnn as nc
    net = nc.Net()
    o = net.opt  # options take effect for the layers load_param creates: set them first
    o.num_threads, o.use_vulkan_compute = threads, False
    o.use_fp16_packed = o.use_fp16_storage = o.use_fp16_arithmetic = False
    o.use_bf16_packed = o.use_bf16_storage = False
    if net.load_param(model) != 0 or net.load_model(model[:-len(".param")] + ".bin") != 0:
        sys.exit(f"peers_worker: ncnn: cannot load {model} and its .bin")
    src, dst = net.input_names()[0], net.output_names()[0]

    def forward(a):
        ys = []
        for image in a:
            with net.create_extractor() as ex:
                ex.input(src, nc.Mat(image))
                ret, y = ex.extract(dst)
                if ret != 0:
                    sys.exit(f"peers_worker: ncnn: extract {dst} failed ({ret})")
                ys.append(np.array(y))
        return np.stack(ys)
    settings = f"num_threads={threads}, fp16 and bf16 off, vulkan off, one extractor per image"
    return forward, nc.__version__, settings


RUNTIMES = {"onnxruntime": onnxruntime, "openvino": openvino, "ncnn": ncnn, "python": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runtime", choices=sorted(RUNTIMES))
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--output")
    args = ap.parse_args()
    x = np.ascontiguousarray(np.load(args.input), dtype=np.float32)
    if args.runtime == "python":
        print(json.dumps({"runtime": "python", "version": sys.version.split()[0],
                          "settings": f"numpy {np.__version__}", "times_ms": []}))
        return 0
    forward, version, settings = RUNTIMES[args.runtime](args.model, x, args.threads)
    y = None
    for _ in range(args.warmup):
        y = forward(x)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        y = forward(x)
        times.append((time.perf_counter() - t0) * 1e3)
    if args.output:
        np.save(args.output, np.asarray(y if y is not None else forward(x), dtype=np.float32))
    print(json.dumps({"runtime": args.runtime, "version": version, "settings": settings,
                      "times_ms": times}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

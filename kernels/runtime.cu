/* runtime.cu - CUDA device probe, memory, copies, error reporting, the
 * library's stream, launch counting, CUDA Graphs (cuBLAS: cublas.cu).
 *
 * All work goes to one non-blocking stream (not the legacy default stream,
 * which cannot be captured into a graph); cuBLAS is bound to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"
#include "rv_cuda.h"

rv_status rv_cuda_fail(const char *file, int line, const char *call, cudaError_t err)
{
    cudaGetLastError(); /* reported here, so not again by the next launch check */
    return rv_error(err == cudaErrorMemoryAllocation ? RV_ENOMEM : RV_EDEVICE, "%s:%d: %s: %s (%s)",
                    file, line, call, cudaGetErrorName(err), cudaGetErrorString(err));
}

/* The first error of a call that could not return it (CUDA_CHECK_DEFERRED),
 * kept until rv_cuda_sync reports it. */
static struct {
    const char *file, *call;
    int line;
    cudaError_t err;
} deferred;

cudaError_t rv_cuda_defer(const char *file, int line, const char *call, cudaError_t err)
{
    if (err == cudaSuccess) return err;
    cudaGetLastError(); /* kept below instead: the next launch check must not report it */
    if (deferred.err == cudaSuccess)
        deferred = {.file = file, .call = call, .line = line, .err = err};
    return err;
}

static long launches;

/* *on := whether the library's stream is being captured into a CUDA Graph:
 * then nothing may wait for it (a synchronisation would end the capture
 * with an error). */
static cudaError_t capturing(int *on)
{
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    cudaError_t err = cudaStreamIsCapturing(rv_cuda_stream(), &status);
    *on = status != cudaStreamCaptureStatusNone;
    return err;
}

void rv_cuda_count_launch(void) { launches++; }

extern "C" long rv_cuda_launches(void) { return launches; }

rv_status rv_cuda_launch_check(const char *file, int line)
{
    static int sync_each = -1;
    if (sync_each < 0) {
        const char *env = getenv("REPVGG_CUDA_SYNC");
        sync_each = env && strcmp(env, "1") == 0;
    }
    launches++;
    cudaError_t err = cudaGetLastError();
    int captured = 0;
    if (err == cudaSuccess && sync_each) err = capturing(&captured);
    if (err == cudaSuccess && sync_each && !captured) err = cudaStreamSynchronize(rv_cuda_stream());
    return err == cudaSuccess ? RV_OK : rv_cuda_fail(file, line, "kernel launch", err);
}

static cudaStream_t stream;

cudaStream_t rv_cuda_stream(void)
{
    /* The probe creates it (its failure is a reason the GPU cannot be used);
     * should a later creation fail, the legacy stream (0) is used: the work
     * still runs, only a graph capture fails, with its own error. */
    if (stream) return stream;
    if (CUDA_CHECK_DEFERRED(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) !=
        cudaSuccess)
        stream = 0;
    return stream;
}

/* An empty kernel, compiled for the same architectures as all the others:
 * the probe's cudaFuncGetAttributes on it loads this build's code for the
 * GPU, which fails when the build has no code for the GPU's architecture. */
__global__ void probe_kernel(void) {}

/* why := in plain words, why no GPU can be used after `step` failed with err */
static void probe_reason(cudaError_t err, const char *step, char *why, int len)
{
    int driver = 0, runtime = 0, major = 0, minor = 0;
    switch (err) {
    case cudaErrorNoDevice:
        snprintf(why, len, "no GPU found (the NVIDIA driver sees none)");
        return;
    case cudaErrorInsufficientDriver:
        /* the runtime's answer both without a driver (version 0) and with an
         * older one than it needs */
        if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0) {
            snprintf(why, len, "no GPU found (no NVIDIA driver on this machine)");
            return;
        }
        if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) break;
        snprintf(why, len,
                 "the NVIDIA driver supports CUDA %d.%d, this build needs CUDA %d.%d: update "
                 "the driver",
                 driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10);
        return;
    case cudaErrorNoKernelImageForDevice:
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) != cudaSuccess ||
            cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0) != cudaSuccess)
            break;
        snprintf(why, len,
                 "this build has no kernels for this GPU (sm_%d%d); rebuild with "
                 "-DCMAKE_CUDA_ARCHITECTURES=%d%d",
                 major, minor, major, minor);
        return;
    case cudaErrorDevicesUnavailable:
        snprintf(why, len,
                 "the GPU accepts no work from this program (another one holds it in exclusive "
                 "mode, or its compute mode is prohibited: see nvidia-smi -q)");
        return;
    default:
        break;
    }
    snprintf(why, len, "%s failed: %s (%s)", step, cudaGetErrorName(err), cudaGetErrorString(err));
}

extern "C" int rv_cuda_probe(char *why, int len)
{
    /* Each step does what the library's first CUDA work would, so a GPU that
     * is listed but cannot be used (no driver for it, a compute mode closed
     * to us, no kernels for its architecture) fails here, not later. */
    int count = 0;
    cudaFuncAttributes attr;
    const char *step = "counting the GPUs (cudaGetDeviceCount)";
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaSuccess && count == 0) err = cudaErrorNoDevice;
    if (err == cudaSuccess) {
        step = "selecting GPU 0 (cudaSetDevice)";
        err = cudaSetDevice(0);
    }
    if (err == cudaSuccess) {
        step = "creating a context on GPU 0 (cudaFree(0))";
        err = cudaFree(0);
    }
    if (err == cudaSuccess) {
        step = "loading this build's kernels on GPU 0 (cudaFuncGetAttributes)";
        err = cudaFuncGetAttributes(&attr, probe_kernel);
    }
    if (err == cudaSuccess && !stream) {
        step = "creating a stream on GPU 0 (cudaStreamCreateWithFlags)";
        err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
        if (err != cudaSuccess) stream = 0;
    }
    if (err == cudaSuccess) return count;
    probe_reason(err, step, why, len);
    cudaGetLastError(); /* the reason is in `why`; later calls start clean */
    return 0;
}

extern "C" rv_status rv_cuda_malloc(size_t bytes, void **out)
{
    *out = NULL;
    CUDA_CHECK(cudaMalloc(out, bytes));
    return RV_OK;
}

/* A failed cudaFree cannot return its error: rv_free returns nothing, and
 * runs in clean-up paths after the error being reported. The error is kept
 * for rv_cuda_sync (CUDA_CHECK_DEFERRED), not left for the next launch. */
extern "C" void rv_cuda_free(void *p) { CUDA_CHECK_DEFERRED(cudaFree(p)); }

extern "C" rv_status rv_cuda_memcpy(void *dst, int dst_dev, const void *src, int src_dev,
                                    size_t bytes)
{
    cudaMemcpyKind kind = dst_dev ? (src_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                  : (src_dev ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
    /* GPU to GPU: queued on the stream like a kernel, so the next op sees
     * it without a wait, and a graph capture records it as a copy. With host
     * memory on one side the host reads or reuses its buffer next: it waits,
     * which a capture cannot. */
    if (kind == cudaMemcpyDeviceToDevice) {
        CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, rv_cuda_stream()));
        return RV_OK;
    }
    int captured = 0;
    CUDA_CHECK(capturing(&captured));
    if (captured)
        return rv_error(RV_EINVAL,
                        "copy: %zu bytes between host and GPU memory inside a CUDA "
                        "Graph capture (a copy from or to the host waits for the "
                        "GPU, which a capture cannot)",
                        bytes);
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, rv_cuda_stream()));
    CUDA_CHECK(cudaStreamSynchronize(rv_cuda_stream()));
    return RV_OK;
}

extern "C" rv_status rv_cuda_sync(void)
{
    CUDA_CHECK(cudaDeviceSynchronize());
    if (deferred.err != cudaSuccess) {
        cudaError_t err = deferred.err;
        deferred.err = cudaSuccess;
        return rv_error(RV_EDEVICE, "%s:%d: %s failed earlier: %s (%s)", deferred.file,
                        deferred.line, deferred.call, cudaGetErrorName(err),
                        cudaGetErrorString(err));
    }
    return RV_OK;
}

extern "C" void rv_cuda_describe(char *buf, int len)
{
    cudaDeviceProp prop;
    int driver = 0;
    cudaError_t err = cudaGetDeviceProperties(&prop, 0);
    if (err == cudaSuccess) err = cudaDriverGetVersion(&driver);
    if (err != cudaSuccess) {
        cudaGetLastError(); /* shown in the description, not blamed on the next launch */
        snprintf(buf, len, "unknown CUDA device (%s)", cudaGetErrorName(err));
        return;
    }
    snprintf(buf, len, "%s (sm_%d%d, %d SMs, driver %d.%d)", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, driver / 1000, driver % 1000 / 10);
}

struct rv_cuda_graph {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
};

extern "C" rv_status rv_cuda_graph_capture(rv_status (*fn)(void *), void *ctx, rv_cuda_graph **out)
{
    *out = NULL;
    rv_cuda_graph *g = (rv_cuda_graph *)calloc(1, sizeof *g);
    if (!g) return rv_error(RV_ENOMEM, "graph: no memory");
    /* Relaxed mode: the forward is captured after a warm-up call, so it
     * allocates nothing; cuBLAS may still query the device while captured. */
    cudaError_t err = cudaStreamBeginCapture(rv_cuda_stream(), cudaStreamCaptureModeRelaxed);
    if (err != cudaSuccess) {
        free(g);
        return rv_cuda_fail(__FILE__, __LINE__, "cudaStreamBeginCapture", err);
    }
    rv_status st = fn(ctx);
    err = cudaStreamEndCapture(rv_cuda_stream(), &g->graph);
    if (st == RV_OK && err != cudaSuccess)
        st = rv_cuda_fail(__FILE__, __LINE__, "cudaStreamEndCapture", err);
    if (st == RV_OK && (err = cudaGraphInstantiate(&g->exec, g->graph, 0)) != cudaSuccess)
        st = rv_cuda_fail(__FILE__, __LINE__, "cudaGraphInstantiate", err);
    if (st != RV_OK) {
        rv_cuda_graph_destroy(g);
        return st;
    }
    *out = g;
    return RV_OK;
}

extern "C" rv_status rv_cuda_graph_launch(rv_cuda_graph *g)
{
    launches++;
    CUDA_CHECK(cudaGraphLaunch(g->exec, rv_cuda_stream()));
    return RV_OK;
}

extern "C" void rv_cuda_graph_destroy(rv_cuda_graph *g)
{
    if (!g) return;
    if (g->exec) CUDA_CHECK_DEFERRED(cudaGraphExecDestroy(g->exec));
    if (g->graph) CUDA_CHECK_DEFERRED(cudaGraphDestroy(g->graph));
    free(g);
}

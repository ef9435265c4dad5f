/* rv_cuda.h - the CUDA runtime as C sees it: probe, memory, copies, sync.
 *
 * Implemented in kernels/runtime.cu behind extern "C", so this header (and the
 * _cuda op launchers in src/ops/rv_ops.h) compile as C11. Only built with the
 * CUDA backend (RV_HAVE_CUDA).
 */
#ifndef RV_CUDA_H
#define RV_CUDA_H

#include <stddef.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices when GPU 0 can be used: selected, its context
 * created, this build's kernels loaded on it (the probe step that fails when
 * the build has no code for its architecture), the library's stream made.
 * Otherwise 0, with the reason in plain words in `why` (no GPU, no driver,
 * no kernels for this GPU, or which step failed and its CUDA error). */
int rv_cuda_probe(char *why, int len);
/* RV_ENOMEM when the GPU is out of memory, RV_EDEVICE for any other CUDA
 * error (no context, an earlier kernel's fault), with the error's name in
 * rv_last_error(). */
rv_status rv_cuda_malloc(size_t bytes, void **out);
/* A failed free is reported by the next rv_cuda_sync (it cannot return it). */
void rv_cuda_free(void *p);
/* dst_dev / src_dev: 1 for device memory, 0 for host memory. A copy from
 * GPU to GPU is queued on the library's stream and returns (the ops after it
 * see it; a CUDA Graph captures it); one with host memory on a side returns
 * once done, and is refused inside a graph capture. */
rv_status rv_cuda_memcpy(void *dst, int dst_dev, const void *src, int src_dev, size_t bytes);
/* Waits for the device; also reports the first error of a free or destroy
 * since the last call. */
rv_status rv_cuda_sync(void);
void rv_cuda_describe(char *buf, int len);
/* cuBLAS math mode: 0 = FP32 (the default), 1 = TF32 tensor cores. */
rv_status rv_cuda_set_tf32(int on);

/* Kernel launches (and cuBLAS calls, and graph launches) so far: the
 * difference around a forward pass is its launch count. */
long rv_cuda_launches(void);

/* A forward pass captured once into a CUDA Graph and replayed with one
 * launch. fn must already have run once (buffers planned, workspace grown).
 * The graph holds the addresses fn used, the workspace's (rv_workspace)
 * among them: it must not outlive a change of the workspace (grown by a
 * larger op run outside the graph, or released) nor of any buffer it
 * reads or writes; destroy it and capture again after one. */
typedef struct rv_cuda_graph rv_cuda_graph;
rv_status rv_cuda_graph_capture(rv_status (*fn)(void *), void *ctx, rv_cuda_graph **out);
rv_status rv_cuda_graph_launch(rv_cuda_graph *g);
void rv_cuda_graph_destroy(rv_cuda_graph *g);

#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
#include <cuda_runtime.h>
/* For CUDA code beside the library (the benchmark's cuDNN conv): the stream
 * all library work is queued on, and the count of a launch the library did
 * not make itself (kernels/runtime.cu). */
cudaStream_t rv_cuda_stream(void);
void rv_cuda_count_launch(void);
#endif
#endif

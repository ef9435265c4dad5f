/* rv_cuda.h - the CUDA runtime as C sees it: probe, memory, copies, sync.
 *
 * Implemented in kernels/runtime.cu behind extern "C", so this header (and the
 * _cuda op launchers in src/rv_ops.h) compile as C11. Only built with the
 * CUDA backend (RV_HAVE_CUDA).
 */
#ifndef RV_CUDA_H
#define RV_CUDA_H

#include <stddef.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices that answer; 0 with the reason in `why` otherwise. */
int rv_cuda_probe(char *why, int len);
void *rv_cuda_malloc(size_t bytes); /* NULL on failure */
void rv_cuda_free(void *p);
/* dst_dev / src_dev: 1 for device memory, 0 for host memory. */
rv_status rv_cuda_memcpy(void *dst, int dst_dev, const void *src, int src_dev, size_t bytes);
rv_status rv_cuda_sync(void);
void rv_cuda_describe(char *buf, int len);
/* cuBLAS math mode: 0 = FP32 (the default), 1 = TF32 tensor cores. */
rv_status rv_cuda_set_tf32(int on);

#ifdef __cplusplus
}
#endif
#endif

/* cuda_check.h - checking every CUDA and cuBLAS call (C++ side only;
 * internal to the library: the .cu files of kernels/ only).
 *
 * CUDA_CHECK / CUBLAS_CHECK return from the enclosing function with
 * "file:line: call: error name (error string)" as the message: RV_ENOMEM for
 * cudaErrorMemoryAllocation, RV_EDEVICE for every other error. A reported
 * error is also taken out of CUDA's last-error slot, so the next
 * CUDA_CHECK_LAUNCH does not report it again as a launch failure.
 * CUDA_CHECK_LAUNCH() follows every kernel launch; with REPVGG_CUDA_SYNC=1 in
 * the environment it also synchronises, so an asynchronous fault is reported
 * at the launch that caused it.
 * CUDA_CHECK_DEFERRED(call) is for the calls of functions that cannot return
 * a status (a free or a destroy in a clean-up path, which runs after the
 * error being reported): the error leaves the last-error slot (else the next
 * launch would be blamed for it) and the first such error is kept for
 * rv_cuda_sync to report. It evaluates to the call's error.
 */
#ifndef RV_CUDA_CHECK_H
#define RV_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "rv_cuda.h"
#include "rv_status.h"

rv_status rv_cuda_fail(const char *file, int line, const char *call, cudaError_t err);
rv_status rv_cublas_fail(const char *file, int line, const char *call, cublasStatus_t st);
rv_status rv_cuda_launch_check(const char *file, int line);
cudaError_t rv_cuda_defer(const char *file, int line, const char *call, cudaError_t err);
/* The process's cuBLAS handle, created on first use (which loads cuBLAS,
 * kernels/cublas.cu), bound to the stream. */
rv_status rv_cublas(cublasHandle_t *out);
/* cuBLAS's entry points, valid once rv_cublas has succeeded. */
typedef struct {
    decltype(&cublasCreate_v2) create;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasSgemmStridedBatched) sgemm_strided_batched;
    decltype(&cublasGetStatusName) status_name;
    decltype(&cublasGetStatusString) status_string;
} rv_cublas_api;
const rv_cublas_api *rv_cublas_fn(void);
/* RV_OK when a product of m x k by k x n matrices, batch of them, fits
 * cuBLAS's int sizes (every leading dimension and batch stride of ours is
 * one of m, n, k or a product of them held in a long long); else RV_EINVAL
 * naming op and the sizes, instead of a size that wraps. */
rv_status rv_cublas_fits(const char *op, int64_t m, int64_t n, int64_t k, int64_t batch);

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) return rv_cuda_fail(__FILE__, __LINE__, #call, err_);             \
    } while (0)

#define CUBLAS_CHECK(call)                                                                         \
    do {                                                                                           \
        cublasStatus_t st_ = (call);                                                               \
        if (st_ != CUBLAS_STATUS_SUCCESS) return rv_cublas_fail(__FILE__, __LINE__, #call, st_);   \
    } while (0)

#define CUDA_CHECK_DEFERRED(call) rv_cuda_defer(__FILE__, __LINE__, #call, (call))

#define CUDA_CHECK_LAUNCH()                                                                        \
    do {                                                                                           \
        rv_status ls_ = rv_cuda_launch_check(__FILE__, __LINE__);                                  \
        if (ls_ != RV_OK) return ls_;                                                              \
    } while (0)

#endif

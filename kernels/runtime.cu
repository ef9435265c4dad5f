/* runtime.cu - CUDA device probe, memory, copies, error reporting, cuBLAS handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"
#include "rv_cuda.h"

rv_status rv_cuda_fail(const char *file, int line, const char *call, cudaError_t err)
{
    return rv_error(RV_EDEVICE, "%s:%d: %s: %s (%s)", file, line, call, cudaGetErrorName(err),
                    cudaGetErrorString(err));
}

rv_status rv_cublas_fail(const char *file, int line, const char *call, cublasStatus_t st)
{
    return rv_error(RV_EDEVICE, "%s:%d: %s: %s (%s)", file, line, call, cublasGetStatusName(st),
                    cublasGetStatusString(st));
}

rv_status rv_cuda_launch_check(const char *file, int line)
{
    static int sync_each = -1;
    if (sync_each < 0) {
        const char *env = getenv("REPVGG_CUDA_SYNC");
        sync_each = env && strcmp(env, "1") == 0;
    }
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess && sync_each) err = cudaDeviceSynchronize();
    return err == cudaSuccess ? RV_OK : rv_cuda_fail(file, line, "kernel launch", err);
}

extern "C" int rv_cuda_probe(char *why, int len)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        snprintf(why, len, "%s: %s", cudaGetErrorName(err), cudaGetErrorString(err));
        cudaGetLastError(); /* reset the last-error state for later calls */
        return 0;
    }
    if (count == 0) snprintf(why, len, "the driver reports no devices");
    return count;
}

extern "C" void *rv_cuda_malloc(size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
        cudaGetLastError();
        return NULL;
    }
    return p;
}

extern "C" void rv_cuda_free(void *p) { cudaFree(p); }

extern "C" rv_status rv_cuda_memcpy(void *dst, int dst_dev, const void *src, int src_dev,
                                    size_t bytes)
{
    cudaMemcpyKind kind = dst_dev ? (src_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                  : (src_dev ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
    return RV_OK;
}

extern "C" rv_status rv_cuda_sync(void)
{
    CUDA_CHECK(cudaDeviceSynchronize());
    return RV_OK;
}

extern "C" void rv_cuda_describe(char *buf, int len)
{
    cudaDeviceProp prop;
    int driver = 0;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
        snprintf(buf, len, "unknown CUDA device");
        return;
    }
    cudaDriverGetVersion(&driver);
    snprintf(buf, len, "%s (sm_%d%d, %d SMs, driver %d.%d)", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, driver / 1000, driver % 1000 / 10);
}

static cublasHandle_t handle;

rv_status rv_cublas(cublasHandle_t *out)
{
    if (!handle) {
        CUBLAS_CHECK(cublasCreate(&handle));
        /* FP32 products: no TF32 unless asked for (rv_cuda_set_tf32). */
        CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    }
    *out = handle;
    return RV_OK;
}

extern "C" rv_status rv_cuda_set_tf32(int on)
{
    cublasHandle_t h = NULL;
    rv_status st = rv_cublas(&h);
    if (st != RV_OK) return st;
    CUBLAS_CHECK(cublasSetMathMode(h, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return RV_OK;
}

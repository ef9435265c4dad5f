/* cublas.cu - cuBLAS, loaded when the CUDA path first needs it.
 *
 * cuBLAS and the cuBLASLt it needs are about 600 MB of shared libraries;
 * linked the usual way, the loader maps and relocates them at every start,
 * and a CPU run of a CUDA-enabled build paid some 200 MiB of resident memory
 * for a GPU it never used. So the library is opened with dlopen on the first
 * rv_cublas() (the first conv or linear layer on a GPU), and its few entry
 * points called through the table below; their types come from cublas_v2.h
 * itself (decltype), so a changed signature fails to compile.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "cuda_check.h"
#include "rv_cuda.h"

#define RV_STR(x) RV_STR_(x)
#define RV_STR_(x) #x
/* the soname of the cuBLAS this build was compiled against, libcublas.so.13 */
#define RV_CUBLAS_SONAME "libcublas.so." RV_STR(CUBLAS_VER_MAJOR)

static rv_cublas_api api;

static rv_status load(void)
{
    if (api.create) return RV_OK;
    void *lib = dlopen(RV_CUBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return rv_error(RV_EDEVICE, "cannot load cuBLAS: %s", dlerror());
    rv_cublas_api a;
    struct {
        void **slot;
        const char *name;
    } entries[] = {
        {(void **)&a.create, "cublasCreate_v2"},
        {(void **)&a.set_stream, "cublasSetStream_v2"},
        {(void **)&a.set_math_mode, "cublasSetMathMode"},
        {(void **)&a.sgemm, "cublasSgemm_v2"},
        {(void **)&a.sgemm_strided_batched, "cublasSgemmStridedBatched"},
        {(void **)&a.status_name, "cublasGetStatusName"},
        {(void **)&a.status_string, "cublasGetStatusString"},
    };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (!(*entries[i].slot = dlsym(lib, entries[i].name)))
            return rv_error(RV_EDEVICE, "cannot load cuBLAS: %s has no %s", RV_CUBLAS_SONAME,
                            entries[i].name);
    api = a; /* the library stays open for the life of the process */
    return RV_OK;
}

const rv_cublas_api *rv_cublas_fn(void) { return &api; }

rv_status rv_cublas_fail(const char *file, int line, const char *call, cublasStatus_t st)
{
    return rv_error(RV_EDEVICE, "%s:%d: %s: %s (%s)", file, line, call, api.status_name(st),
                    api.status_string(st));
}

rv_status rv_cublas_fits(const char *op, int64_t m, int64_t n, int64_t k, int64_t batch)
{
    int64_t most = m > n ? m : n;
    most = most > k ? most : k;
    most = most > batch ? most : batch;
    if (most <= INT32_MAX) return RV_OK;
    return rv_error(RV_EINVAL,
                    "%s: a product of sizes m %lld, n %lld, k %lld, batch %lld: cuBLAS takes "
                    "each as an int, at most %d",
                    op, (long long)m, (long long)n, (long long)k, (long long)batch, INT32_MAX);
}

static cublasHandle_t handle;

rv_status rv_cublas(cublasHandle_t *out)
{
    if (!handle) {
        rv_status st = load();
        if (st != RV_OK) return st;
        CUBLAS_CHECK(api.create(&handle));
        CUBLAS_CHECK(api.set_stream(handle, rv_cuda_stream()));
        /* FP32 products: no TF32 unless asked for (rv_cuda_set_tf32). */
        CUBLAS_CHECK(api.set_math_mode(handle, CUBLAS_DEFAULT_MATH));
    }
    *out = handle;
    return RV_OK;
}

extern "C" rv_status rv_cuda_set_tf32(int on)
{
    cublasHandle_t h = NULL;
    rv_status st = rv_cublas(&h);
    if (st != RV_OK) return st;
    CUBLAS_CHECK(api.set_math_mode(h, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return RV_OK;
}

/* cpu.c - the CPU's threads and OpenBLAS's kernels.
 *
 * Threads: OpenMP's (OMP_NUM_THREADS, default one per core). OpenBLAS is set
 * to one thread: the ops call it from their own threads on independent
 * blocks of the output, so the two never oversubscribe the cores and the
 * im2col and transforms around each product run in parallel too. (Debian's
 * serial OpenBLAS would spare the idle worker thread the threaded build
 * starts at load, but it gave wrong products when called from two threads
 * at once here: it is not built thread-safe.)
 *
 * Kernels: OpenBLAS picks its kernels from the CPU's model when it loads; a
 * model newer than the library gets its oldest x86-64 kernels (OpenBLAS
 * 0.3.21 runs "Prescott", SSE3, on an AVX-512 Xeon of family 6 model 207),
 * a known AVX-512 model whose OS does not enable AVX-512 gets "Haswell". The
 * environment variable OPENBLAS_CORETYPE overrides the choice, and must be
 * set before the program starts; rv_cpu_threads_init says once which value
 * to set when OpenBLAS's choice is older than the CPU's widest vectors
 * (docs/performance.md has the rule and what the fallback cost).
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_cpu.h"
#include "rv_gemm.h"
#include "rv_simd.h"

static const char *const avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
static const char *const avx2_cores[] = {"Haswell",        "Zen", "SkylakeX", "Cooperlake",
                                         "SapphireRapids", NULL};
static const char *const avx2_only_cores[] = {"Haswell", "Zen", NULL}; /* REPVGG_CPU_ISA=avx2 */

static int listed(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0) return 1;
    return 0;
}

/* The OPENBLAS_CORETYPE to set, or NULL when OpenBLAS's choice fits the CPU. */
static const char *blas_coretype_hint(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const char *core = openblas_get_corename();
    if (RV_AVX512_ALLOWED && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return listed(core, avx512_cores) ? NULL : "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return listed(core, RV_AVX512_ALLOWED ? avx2_cores : avx2_only_cores) ? NULL : "Haswell";
#endif
    return NULL;
}

static void init_once(void)
{
    openblas_set_num_threads(1);
    const char *hint = blas_coretype_hint();
    if (hint)
        fprintf(stderr,
                "note: OpenBLAS runs its %s kernels, %s: set OPENBLAS_CORETYPE=%s before "
                "starting for its %s ones\n",
                openblas_get_corename(),
                !RV_AVX512_ALLOWED         ? "and this build uses no AVX-512"
                : strcmp(hint, "SkylakeX") ? "older than this CPU's AVX2"
                                           : "older than this CPU's AVX-512",
                hint, RV_AVX512_ALLOWED ? "faster" : "AVX2");
}

void rv_cpu_threads_init(void)
{
    static once_flag once = ONCE_FLAG_INIT;
    call_once(&once, init_once);
}

int rv_cpu_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void rv_cpu_blas_describe(char *buf, int len)
{
    const rv_gemm_kernel *k; /* the default options' kernel (rv_exec.h) */
    rv_gemm_kernel_for(RV_GEMM_AUTO, &k);
    snprintf(buf, (size_t)len,
             "%d threads (OpenMP; OpenBLAS one thread in each), %s, %s kernels; "
             "products with packed weights: %s%s; widest vector code %s%s",
             rv_cpu_threads(), openblas_get_config(), openblas_get_corename(),
             k ? "our kernel, " : "OpenBLAS", k ? rv_gemm_kernel_name(k) : "", rv_cpu_isa(),
             RV_AVX512_ALLOWED ? "" : " (built without AVX-512)");
}

const char *rv_cpu_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (RV_AVX512_ALLOWED && __builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2")) return "avx2";
#endif
    return "baseline";
}

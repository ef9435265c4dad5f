/* rv_simd.h - CPU loops built once per instruction set (internal to src/).
 *
 * A function marked RV_SIMD_CLONES is compiled for AVX-512, AVX2 and the
 * baseline, and the best one the CPU runs is picked when the library loads:
 * plain loops then vectorise at the machine's width without -march flags
 * that would make the binary unportable.
 */
#ifndef RV_SIMD_H
#define RV_SIMD_H

#include <stdint.h>
#include <string.h>

/* Built with REPVGG_CPU_ISA=avx2 (RV_CPU_ISA_AVX2), the library uses no
 * AVX-512 on any CPU: an AVX-512 machine then runs the code an AVX2-only CPU
 * (AMD Zen 3, say) runs, to test and time it there. */
#ifdef RV_CPU_ISA_AVX2
#define RV_AVX512_ALLOWED 0
#else
#define RV_AVX512_ALLOWED 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && RV_AVX512_ALLOWED
#define RV_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RV_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RV_SIMD_CLONES
#endif

/* A loop body for RV_SIMD_CLONES functions: inlined into each clone, so it
 * is compiled for that clone's instruction set (a call would run the
 * baseline build of it). */
#if defined(__GNUC__)
#define RV_SIMD_INLINE static inline __attribute__((always_inline))
#else
#define RV_SIMD_INLINE static inline
#endif

/* Before a loop whose iterations do not depend on one another through
 * memory although the compiler cannot prove it (stores to several rows of
 * one array, say): vectorise without run-time overlap checks. */
#if defined(__clang__)
#define RV_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define RV_IVDEP _Pragma("GCC ivdep")
#else
#define RV_IVDEP
#endif

/* dst[j] = src[j stride] for j < n: a row of an im2col matrix or of a
 * strided conv's input; strides 1 and 2 (every conv of RepVGG and MobileOne)
 * as loops of their own, which vectorise */
RV_SIMD_INLINE void rv_gather(const float *restrict src, int64_t stride, int64_t n,
                              float *restrict dst)
{
    if (stride == 1)
        memcpy(dst, src, (size_t)n * sizeof *dst);
    else if (stride == 2)
        for (int64_t j = 0; j < n; j++) dst[j] = src[2 * j];
    else
        for (int64_t j = 0; j < n; j++) dst[j] = src[j * stride];
}

#endif

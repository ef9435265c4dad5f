/* gemm.c - C = A B with A packed once (rv_gemm.h): the packing, the
 * AVX-512 and AVX2 micro-kernels, and the loop over panels and columns.
 *
 * For each panel of MR = 8 rows of A, for each block of NB columns of C:
 * the block (8 x NB) accumulates in registers over all of K, B's row k
 * loaded as NB / VL vectors, A's 8 values of column k broadcast one by one,
 * 8 NB / VL fused multiply-adds per k; then the block is stored (or added).
 * Panel by panel, so a panel of A (K x 8 floats) is read once, while B,
 * read once per panel, stays in the L2 cache (a Winograd plane of RepVGG-A0
 * at batch 1 is 37 KB; the last stage's im2col 339 KB). The last vector of
 * a block is masked, so N need not be a multiple of anything.
 */
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "rv_gemm.h"

int rv_gemm_enabled = 1;

int64_t rv_gemm_packed_floats(int64_t M, int64_t K)
{
    return (M + RV_GEMM_MR - 1) / RV_GEMM_MR * K * RV_GEMM_MR;
}

void rv_gemm_pack(const float *a, int64_t rs, int64_t cs, int64_t M, int64_t K, float *packed)
{
    for (int64_t p = 0; p * RV_GEMM_MR < M; p++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t r = 0; r < RV_GEMM_MR; r++) {
                int64_t i = p * RV_GEMM_MR + r;
                packed[(p * K + k) * RV_GEMM_MR + r] = i < M ? a[i * rs + k * cs] : 0.0f;
            }
}

/* One panel's rows x nb block: ap the panel (K x 8), b and c at the block's
 * first column. */
typedef void (*block_fn)(const float *ap, int64_t K, const float *b, int64_t ldb, int64_t nb,
                         float *c, int64_t ldc, int rows, int accumulate);

#if defined(__x86_64__) && defined(__GNUC__)

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* AVX-512: 8 rows x NV vectors of 16 (NV <= 3), the last vector masked.
 * Called with a constant NV, so the loops unroll and acc stays in
 * registers (24 + 3 of the 32). */
__attribute__((target("avx512f"))) ALWAYS_INLINE void block16(const float *ap, int64_t K,
                                                              const float *b, int64_t ldb, float *c,
                                                              int64_t ldc, int rows, int accumulate,
                                                              const int NV, __mmask16 last)
{
    __m512 acc[RV_GEMM_MR][3];
    for (int r = 0; r < RV_GEMM_MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        const float *bk = b + k * ldb, *ak = ap + k * RV_GEMM_MR;
        __m512 bv[3];
        for (int v = 0; v < NV; v++)
            bv[v] = v < NV - 1 ? _mm512_loadu_ps(bk + 16 * v)
                               : _mm512_maskz_loadu_ps(last, bk + 16 * v);
        for (int r = 0; r < RV_GEMM_MR; r++) {
            __m512 a = _mm512_set1_ps(ak[r]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < NV; v++) {
            float *cr = c + r * ldc + 16 * v;
            __mmask16 m = v < NV - 1 ? (__mmask16)0xffff : last;
            __m512 out = acc[r][v];
            if (accumulate) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(m, cr));
            _mm512_mask_storeu_ps(cr, m, out);
        }
}

__attribute__((target("avx512f"))) static void block_avx512(const float *ap, int64_t K,
                                                            const float *b, int64_t ldb, int64_t nb,
                                                            float *c, int64_t ldc, int rows,
                                                            int accumulate)
{
    int nv = (int)((nb + 15) / 16);
    __mmask16 last = (__mmask16)((1u << (nb - 16 * (nv - 1))) - 1);
    if (nv == 3)
        block16(ap, K, b, ldb, c, ldc, rows, accumulate, 3, last);
    else if (nv == 2)
        block16(ap, K, b, ldb, c, ldc, rows, accumulate, 2, last);
    else
        block16(ap, K, b, ldb, c, ldc, rows, accumulate, 1, last);
}

/* AVX2 + FMA: 16 registers, so the 8-row panel runs as two halves of 4
 * rows x NV vectors of 8 (NV <= 3: 12 + 3 registers), the last vector
 * masked. */
__attribute__((target("avx2,fma"))) ALWAYS_INLINE void block8(const float *ap, int64_t K,
                                                              const float *b, int64_t ldb, float *c,
                                                              int64_t ldc, int rows, int accumulate,
                                                              const int NV, __m256i last)
{
    __m256 acc[4][3];
    for (int r = 0; r < 4; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        const float *bk = b + k * ldb, *ak = ap + k * RV_GEMM_MR;
        __m256 bv[3];
        for (int v = 0; v < NV; v++)
            bv[v] = v < NV - 1 ? _mm256_loadu_ps(bk + 8 * v) : _mm256_maskload_ps(bk + 8 * v, last);
        for (int r = 0; r < 4; r++) {
            __m256 a = _mm256_broadcast_ss(ak + r);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
    __m256i all = _mm256_set1_epi32(-1);
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < NV; v++) {
            float *cr = c + r * ldc + 8 * v;
            __m256i m = v < NV - 1 ? all : last;
            __m256 out = acc[r][v];
            if (accumulate) out = _mm256_add_ps(out, _mm256_maskload_ps(cr, m));
            _mm256_maskstore_ps(cr, m, out);
        }
}

__attribute__((target("avx2,fma"))) static void block_avx2(const float *ap, int64_t K,
                                                           const float *b, int64_t ldb, int64_t nb,
                                                           float *c, int64_t ldc, int rows,
                                                           int accumulate)
{
    int nv = (int)((nb + 7) / 8), tail = (int)(nb - 8 * (nv - 1));
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), lane);
    for (int half = 0; half < 2 && 4 * half < rows; half++) {
        int hr = rows - 4 * half < 4 ? rows - 4 * half : 4;
        const float *ah = ap + 4 * half;
        float *ch = c + 4 * half * ldc;
        if (nv == 3)
            block8(ah, K, b, ldb, ch, ldc, hr, accumulate, 3, last);
        else if (nv == 2)
            block8(ah, K, b, ldb, ch, ldc, hr, accumulate, 2, last);
        else
            block8(ah, K, b, ldb, ch, ldc, hr, accumulate, 1, last);
    }
}

#endif

static block_fn kernel;
static int64_t kernel_nb; /* columns per block */

int rv_gemm_select(const char *isa)
{
    kernel = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    int any = !isa;
    if ((any || strcmp(isa, "avx512") == 0) && __builtin_cpu_supports("avx512f")) {
        kernel = block_avx512;
        kernel_nb = 48;
    } else if ((any || strcmp(isa, "avx2") == 0) && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma")) {
        kernel = block_avx2;
        kernel_nb = 24;
    }
#else
    (void)isa;
#endif
    return kernel != NULL;
}

int rv_gemm_available(void)
{
    static int chosen;
    if (!chosen) {
        chosen = 1;
        rv_gemm_select(NULL);
    }
    return rv_gemm_enabled && kernel;
}

void rv_gemm_rows(const float *packed, int64_t K, int64_t r0, int64_t rows, const float *b,
                  int64_t ldb, int64_t N, float *c, int64_t ldc, int accumulate)
{
    for (int64_t i = r0; i < r0 + rows; i += RV_GEMM_MR) {
        const float *ap = packed + (i / RV_GEMM_MR) * K * RV_GEMM_MR;
        int pr = (int)(r0 + rows - i < RV_GEMM_MR ? r0 + rows - i : RV_GEMM_MR);
        float *ci = c + (i - r0) * ldc;
        for (int64_t n0 = 0; n0 < N; n0 += kernel_nb)
            kernel(ap, K, b + n0, ldb, N - n0 < kernel_nb ? N - n0 : kernel_nb, ci + n0, ldc, pr,
                   accumulate);
    }
}

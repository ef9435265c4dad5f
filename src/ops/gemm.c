/* gemm.c - C = A B with A packed once (rv_gemm.h): the packing, the
 * AVX-512 and AVX2 micro-kernels, and the loop over panels and columns.
 *
 * For each panel of MR = 8 rows of A, for each block of NB columns of C:
 * the block (8 x NB) accumulates in registers over all of K, B's row k
 * loaded as NB / VL vectors, A's 8 values of column k broadcast one by one,
 * 8 NB / VL fused multiply-adds per k; then the block is stored (or added).
 * Panel by panel, so a panel of A (K x 8 floats) is read once, while B,
 * read once per panel, stays in the L2 cache (a Winograd plane of RepVGG-A0
 * at batch 1 is 37 KB; the last stage's im2col 339 KB). N need not be a
 * multiple of anything: with AVX-512 the last vector of a block is masked;
 * a block of at most 8 columns (the 49th column of a 7x7 map, AVX2's
 * columns past its last whole vector) runs vectorised over the panel's rows
 * instead (cols); B's last such block is copied side by side first where
 * rv_gemm_rows says.
 */
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "rv_gemm.h"
#include "rv_simd.h"

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
 * first column, bias (the panel's rows) or NULL; next the panel after it,
 * or NULL when it is the last (a kernel may fetch it into L2 meanwhile). */
typedef void (*block_fn)(const float *ap, int64_t K, const float *b, int64_t ldb, int64_t nb,
                         float *c, int64_t ldc, int rows, int accumulate, const float *bias,
                         int relu, const float *next);

#if defined(__x86_64__) && defined(__GNUC__)

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* The accumulators are named registers, c<row><vector>, not an array: gcc
 * keeps an array of vectors in memory across the k loop (a store and a load
 * per multiply-add, at a third of the speed). NV, the vectors per row, is a
 * constant of each expansion, so the unused ones vanish. */
#define RV_ROWS8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define RV_ROWS4(M) M(0) M(1) M(2) M(3)

/* AVX-512: 8 rows x NV vectors of 16 (NV <= 3: 24 + 3 of the 32
 * registers), the last vector masked. */
#define RV_DECL16(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = c##r##0, c##r##2 = c##r##0;
#define RV_FMA16(r)                                                                                \
    {                                                                                              \
        __m512 a = _mm512_set1_ps(ak[r]);                                                          \
        c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                                                 \
        if (NV > 1) c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);                                     \
        if (NV > 2) c##r##2 = _mm512_fmadd_ps(a, b2, c##r##2);                                     \
    }
#define RV_STORE16(r)                                                                              \
    if (r < rows) {                                                                                \
        store16(c + r * ldc, c##r##0, NV > 1 ? full : last, accumulate, bias, r, relu);            \
        if (NV > 1)                                                                                \
            store16(c + r * ldc + 16, c##r##1, NV > 2 ? full : last, accumulate, bias, r, relu);   \
        if (NV > 2) store16(c + r * ldc + 32, c##r##2, last, accumulate, bias, r, relu);           \
    }

/* c[0 .. 16) (the lanes of m) = v (+ c when accumulating) (+ bias[r]), then
 * ReLU when relu; max(0, v) keeps a NaN, as rv_bias_act does. */
__attribute__((target("avx512f"))) ALWAYS_INLINE void
store16(float *c, __m512 v, __mmask16 m, int accumulate, const float *bias, int r, int relu)
{
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c));
    if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[r]));
    if (relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
    _mm512_mask_storeu_ps(c, m, v);
}

#define RV_BLOCK16(NAME, NVEC)                                                                     \
    __attribute__((target("avx512f"))) static void NAME(                                           \
        const float *ap, int64_t K, const float *b, int64_t ldb, float *c, int64_t ldc, int rows,  \
        int accumulate, const float *bias, int relu, __mmask16 last)                               \
    {                                                                                              \
        enum { NV = NVEC };                                                                        \
        const __mmask16 full = 0xffff;                                                             \
        RV_ROWS8(RV_DECL16)                                                                        \
        for (int64_t k = 0; k < K; k++) {                                                          \
            const float *bk = b + k * ldb, *ak = ap + k * RV_GEMM_MR;                              \
            __m512 b0 = _mm512_maskz_loadu_ps(NV > 1 ? full : last, bk), b1 = b0, b2 = b0;         \
            if (NV > 1) b1 = _mm512_maskz_loadu_ps(NV > 2 ? full : last, bk + 16);                 \
            if (NV > 2) b2 = _mm512_maskz_loadu_ps(last, bk + 32);                                 \
            RV_ROWS8(RV_FMA16)                                                                     \
        }                                                                                          \
        RV_ROWS8(RV_STORE16)                                                                       \
    }
RV_BLOCK16(block16_1, 1)
RV_BLOCK16(block16_2, 2)
RV_BLOCK16(block16_3, 3)

/* AVX2 + FMA: 16 registers, so the 8-row panel runs as two halves of 4
 * rows x NV whole vectors of 8 (NV <= 3: 12 + 3 registers). The first half
 * reads the panel from memory where the weights do not stay in the caches
 * (A0's larger layers), the second from L1: so the second (the _next
 * kernels) fetches the next panel into L2 meanwhile, and memory stays busy
 * throughout; the AVX-512 kernel reads each panel in one pass and has no such
 * idle half (what each measured: docs/performance.md). AVX2's masked load is slow (microcoded on
 * AMD's CPUs), so the columns past the last whole vector, and a block of one
 * vector (two halves of only 4 chains each), run as cols below. */
#define RV_DECL8(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = c##r##0, c##r##2 = c##r##0;
#define RV_FMA8(r)                                                                                 \
    {                                                                                              \
        __m256 a = _mm256_broadcast_ss(ak + r);                                                    \
        c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                                                 \
        if (NV > 1) c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);                                     \
        if (NV > 2) c##r##2 = _mm256_fmadd_ps(a, b2, c##r##2);                                     \
    }
#define RV_STORE8(r)                                                                               \
    if (r < rows) {                                                                                \
        store8(c + r * ldc, c##r##0, accumulate, bias, r, relu);                                   \
        if (NV > 1) store8(c + r * ldc + 8, c##r##1, accumulate, bias, r, relu);                   \
        if (NV > 2) store8(c + r * ldc + 16, c##r##2, accumulate, bias, r, relu);                  \
    }

__attribute__((target("avx2,fma"))) ALWAYS_INLINE void store8(float *c, __m256 v, int accumulate,
                                                              const float *bias, int r, int relu)
{
    if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(c));
    if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[r]));
    if (relu) v = _mm256_max_ps(_mm256_setzero_ps(), v);
    _mm256_storeu_ps(c, v);
}

#define RV_BLOCK8(NAME, NVEC, PREFETCH)                                                            \
    __attribute__((target("avx2,fma"))) static void NAME(                                          \
        const float *ap, int64_t K, const float *b, int64_t ldb, float *c, int64_t ldc, int rows,  \
        int accumulate, const float *bias, int relu, const float *next)                            \
    {                                                                                              \
        enum { NV = NVEC };                                                                        \
        RV_ROWS4(RV_DECL8)                                                                         \
        for (int64_t k = 0; k < K; k++) {                                                          \
            const float *bk = b + k * ldb, *ak = ap + k * RV_GEMM_MR;                              \
            if (PREFETCH && k % 2 == 0) /* a cache line: two steps of k */                         \
                _mm_prefetch((const char *)(next + k * RV_GEMM_MR), _MM_HINT_T1);                  \
            __m256 b0 = _mm256_loadu_ps(bk), b1 = b0, b2 = b0;                                     \
            if (NV > 1) b1 = _mm256_loadu_ps(bk + 8);                                              \
            if (NV > 2) b2 = _mm256_loadu_ps(bk + 16);                                             \
            RV_ROWS4(RV_FMA8)                                                                      \
        }                                                                                          \
        RV_ROWS4(RV_STORE8)                                                                        \
    }
RV_BLOCK8(block8_2, 2, 0)
RV_BLOCK8(block8_3, 3, 0)
RV_BLOCK8(block8_2_next, 2, 1)
RV_BLOCK8(block8_3_next, 3, 1)

/* A block of at most 8 columns (nb), vectorised over the panel's 8 rows
 * instead of over columns: column j of the block is one vector of 8 rows,
 * and for each k one multiply-add adds the panel's 8 values of column k
 * (side by side in the packing: one load) times B's value (k, j),
 * broadcast. Every lane is useful however few the columns (a vector over
 * the columns would be mostly empty: a 49th column of 49 took a sixth of
 * the time of the 48 before it), and the columns are independent chains of
 * multiply-adds. With 1 to 6 columns, S sets of accumulators take turns
 * over k (summed at the end), so that 8 or more chains run at once where
 * the registers allow: one chain waits for each multiply-add's result
 * before its next (docs/performance.md). One expansion per nb, so that the
 * accumulators are named registers. */
#define RV_COLS8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define RV_DECLC(j) __m256 s0##j = zero, s1##j = zero, s2##j = zero, s3##j = zero;
#define RV_FMAC(set, j)                                                                            \
    if (j < NB) s##set##j = _mm256_fmadd_ps(a, _mm256_broadcast_ss(bk + j), s##set##j);
#define RV_FMAC0(j) RV_FMAC(0, j)
#define RV_FMAC1(j) RV_FMAC(1, j)
#define RV_FMAC2(j) RV_FMAC(2, j)
#define RV_FMAC3(j) RV_FMAC(3, j)
#define RV_STEPC(set)                                                                              \
    if (set < S) {                                                                                 \
        __m256 a = _mm256_loadu_ps(ap + (k + set) * RV_GEMM_MR);                                   \
        const float *bk = b + (k + set) * ldb;                                                     \
        RV_COLS8(RV_FMAC##set)                                                                     \
    }
#define RV_STORESC(j)                                                                              \
    if (j < NB) {                                                                                  \
        float v[RV_GEMM_MR];                                                                       \
        _mm256_storeu_ps(v,                                                                        \
                         _mm256_add_ps(_mm256_add_ps(s0##j, s1##j), _mm256_add_ps(s2##j, s3##j))); \
        for (int r = 0; r < rows; r++) {                                                           \
            float y = v[r] + (accumulate ? c[r * ldc + j] : 0.0f) + (bias ? bias[r] : 0.0f);       \
            c[r * ldc + j] = relu && y < 0.0f ? 0.0f : y;                                          \
        }                                                                                          \
    }
typedef void (*cols_fn)(const float *ap, int64_t K, const float *b, int64_t ldb, float *c,
                        int64_t ldc, int rows, int accumulate, const float *bias, int relu);
#define RV_COLS_BLOCK(NAME, NBC, SETS)                                                             \
    __attribute__((target("avx2,fma"))) static void NAME(                                          \
        const float *ap, int64_t K, const float *b, int64_t ldb, float *c, int64_t ldc, int rows,  \
        int accumulate, const float *bias, int relu)                                               \
    {                                                                                              \
        enum { NB = NBC, S = SETS };                                                               \
        const __m256 zero = _mm256_setzero_ps();                                                   \
        RV_COLS8(RV_DECLC)                                                                         \
        int64_t k = 0;                                                                             \
        for (; k + S <= K; k += S) {                                                               \
            RV_STEPC(0) RV_STEPC(1) RV_STEPC(2) RV_STEPC(3)                                        \
        }                                                                                          \
        for (; k < K; k++) {                                                                       \
            __m256 a = _mm256_loadu_ps(ap + k * RV_GEMM_MR);                                       \
            const float *bk = b + k * ldb;                                                         \
            RV_COLS8(RV_FMAC0)                                                                     \
        }                                                                                          \
        RV_COLS8(RV_STORESC)                                                                       \
    }
RV_COLS_BLOCK(cols1, 1, 4)
RV_COLS_BLOCK(cols2, 2, 4)
RV_COLS_BLOCK(cols3, 3, 2)
RV_COLS_BLOCK(cols4, 4, 2)
RV_COLS_BLOCK(cols5, 5, 2)
RV_COLS_BLOCK(cols6, 6, 2)
RV_COLS_BLOCK(cols7, 7, 1)
RV_COLS_BLOCK(cols8, 8, 1)
static const cols_fn cols[9] = {NULL, cols1, cols2, cols3, cols4, cols5, cols6, cols7, cols8};

static void block_avx512(const float *ap, int64_t K, const float *b, int64_t ldb, int64_t nb,
                         float *c, int64_t ldc, int rows, int accumulate, const float *bias,
                         int relu, const float *next)
{
    (void)next;
    if (nb <= 8) {
        cols[nb](ap, K, b, ldb, c, ldc, rows, accumulate, bias, relu);
        return;
    }
    int nv = (int)((nb + 15) / 16);
    __mmask16 last = (__mmask16)((1u << (nb - 16 * (nv - 1))) - 1);
    (nv == 3   ? block16_3
     : nv == 2 ? block16_2
               : block16_1)(ap, K, b, ldb, c, ldc, rows, accumulate, bias, relu, last);
}

__attribute__((target("avx2,fma"))) static void
block_avx2(const float *ap, int64_t K, const float *b, int64_t ldb, int64_t nb, float *c,
           int64_t ldc, int rows, int accumulate, const float *bias, int relu, const float *next)
{
    int nv = nb >= 16 ? (int)(nb / 8) : 0; /* whole vectors, when two or three */
    for (int half = 0; nv && half < 2 && 4 * half < rows; half++) {
        int hr = rows - 4 * half < 4 ? rows - 4 * half : 4, fetch = half == 1 && next;
        (nv == 3 ? (fetch ? block8_3_next : block8_3) : (fetch ? block8_2_next : block8_2))(
            ap + 4 * half, K, b, ldb, c + 4 * half * ldc, ldc, hr, accumulate,
            bias ? bias + 4 * half : NULL, relu, next);
    }
    for (int64_t j = 8 * nv; j < nb; j += 8) /* the rest, 8 columns at a time */
        cols[nb - j < 8 ? nb - j : 8](ap, K, b + j, ldb, c + j, ldc, rows, accumulate, bias, relu);
}

#endif

struct rv_gemm_kernel {
    block_fn block;
    int64_t nb;       /* columns per block */
    const char *name; /* in words */
    int by_block;     /* rv_gemm_rows's order of loops for AVX2 (there) */
};

#if defined(__x86_64__) && defined(__GNUC__)
static const rv_gemm_kernel avx512 = {block_avx512, 48, "AVX-512, 8 x 48 blocks", 0};
static const rv_gemm_kernel avx2 = {block_avx2, 24, "AVX2 + FMA, 8 x 24 blocks", 1};
#endif

rv_status rv_gemm_kernel_for(rv_gemm_choice c, const rv_gemm_kernel **k)
{
    *k = NULL;
    if (c == RV_GEMM_OPENBLAS) return RV_OK;
    if (c != RV_GEMM_AUTO && c != RV_GEMM_AVX2 && c != RV_GEMM_AVX512)
        return rv_error(RV_EINVAL, "gemm: no such kernel choice (%d)", (int)c);
#if defined(__x86_64__) && defined(__GNUC__)
    int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int has_avx512 = has_avx2 && RV_AVX512_ALLOWED && __builtin_cpu_supports("avx512f");
    if (c != RV_GEMM_AVX2 && has_avx512)
        *k = &avx512;
    else if (c != RV_GEMM_AVX512 && has_avx2)
        *k = &avx2;
#endif
    if (!*k && c != RV_GEMM_AUTO)
        return rv_error(RV_EINVAL, "gemm: this CPU (or this build) cannot run the %s kernel",
                        c == RV_GEMM_AVX2 ? "AVX2 + FMA" : "AVX-512");
    return RV_OK;
}

const char *rv_gemm_kernel_name(const rv_gemm_kernel *k) { return k ? k->name : "OpenBLAS"; }

/* B's last columns are copied side by side (rv_gemm_rows) into at most
 * TAIL_FLOATS floats of the stack (64 KiB), when B is more than L1_FLOATS
 * (32 KiB, an L1 data cache) */
enum { TAIL_FLOATS = 16 * 1024, L1_FLOATS = 8 * 1024 };
/* steps of k per chunk when AVX2's kernel takes B two blocks at a time
 * (below): B's chunk is 96 x 48 floats, 18 KiB, which leaves L1 room for a
 * panel's chunk of A (3 KiB) and its blocks of C */
enum { KC = 96 };

void rv_gemm_rows(const rv_gemm_kernel *kern, const float *packed, int64_t K, int64_t r0,
                  int64_t rows, const float *b, int64_t ldb, int64_t N, float *c, int64_t ldc,
                  int accumulate, const float *bias, int relu)
{
    /* The columns past the last whole block, when at most 8 (cols): read
     * down a column they cost a cache line per k, in every panel, once B has
     * left the L1 cache (a 7x7 map's 49th column); so when several panels
     * read them from a B larger than L1 they are first copied side by side,
     * K x tail, once. */
    int64_t tail = N % kern->nb, body = N - tail, ldt = ldb;
    const float *bt = b + body;
    float side[TAIL_FLOATS];
    if (tail && tail <= 8 && rows > RV_GEMM_MR && K * ldb > L1_FLOATS && K * tail <= TAIL_FLOATS) {
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < tail; j++) side[k * tail + j] = bt[k * ldb + j];
        bt = side;
        ldt = tail;
    }
    /* The order of the loops. Panel by panel, each over all of K (the header),
     * suits the AVX-512 kernel, which reads B once per panel. AVX2's reads it
     * once per half panel, so where B is larger than L1 and K more than one
     * chunk it takes a group of two blocks of columns at a time, in chunks
     * of KC steps of k that stay in L1 while every panel passes over them
     * (the order of BLIS's loops), adding each chunk's products to the last.
     * All of A passes once per group, so groups are two blocks wide and the
     * tail joins the last: a product of few columns and large weights (A0's
     * last layer: 49 columns, 8.8 MB of weights in L3) reads A once. With K
     * in one chunk (the stem: 27) the panel order, which stores C row after
     * row, is kept (the measurements: docs/performance.md). */
    int by_block = kern->by_block && K * ldb > L1_FLOATS && K > KC;
    int64_t kc = by_block ? KC : K, group = by_block ? 2 * kern->nb : N; /* columns at a time */
    for (int64_t g0 = 0, g1; g0 < N; g0 = g1) {
        /* A is read once per group: the tail joins the last one */
        g1 = g0 + group < body ? g0 + group : N;
        for (int64_t k0 = 0; k0 < K; k0 += kc) {
            int64_t kn = K - k0 < kc ? K - k0 : kc;
            int last = k0 + kn == K; /* bias and ReLU once the sums are whole */
            for (int64_t i = r0; i < r0 + rows; i += RV_GEMM_MR) {
                const float *ap = packed + (i / RV_GEMM_MR) * K * RV_GEMM_MR + k0 * RV_GEMM_MR;
                int pr = (int)(r0 + rows - i < RV_GEMM_MR ? r0 + rows - i : RV_GEMM_MR);
                float *ci = c + (i - r0) * ldc;
                const float *bi = bias && last ? bias + i : NULL,
                            *next = i + RV_GEMM_MR < r0 + rows ? ap + K * RV_GEMM_MR : NULL;
                for (int64_t n0 = g0; n0 < g1; n0 += kern->nb) {
                    int tl = n0 == body; /* the tail: at most nb - 1 columns */
                    const float *bb = tl ? bt + k0 * ldt : b + k0 * ldb + n0;
                    kern->block(ap, kn, bb, tl ? ldt : ldb, tl ? tail : kern->nb, ci + n0, ldc, pr,
                                accumulate || k0 > 0, bi, relu && last, next);
                }
            }
        }
    }
}

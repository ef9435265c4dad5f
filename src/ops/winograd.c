/* winograd.c - Winograd F(m x m, 3x3), m = 2 or 4: a stride-1 3x3 convolution
 * in (m + 2)^2 multiplications per m x m output tile instead of 9 m^2 (Lavin
 * and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): 16
 * instead of 36 for m = 2, 36 instead of 144 for m = 4. The RepVGG paper's
 * own argument for plain 3x3 convs is that libraries accelerate them this way.
 *
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A    for an (m+2)^2 input tile d and a 3x3 kernel g
 *
 * Summed over input channels, the element-wise product becomes (m + 2)^2
 * matrix products, one per tile position xi = (i, j):
 *   M_xi (O x T) = U_xi (O x C) * V_xi (C x T),  U = G g G^T,  V = B^T d B,
 * with T the number of tiles; those run through our packed-weights product
 * (rv_gemm.h: U_xi packed once, when the layer is planned), or through
 * cblas_sgemm (U_xi stored transposed) where that product is unavailable (no
 * AVX2, or repvgg bench --openblas). F(2x2)'s transforms only add and
 * subtract (G's halves are exact in binary), so it rounds like a direct
 * conv; F(4x4)'s multiply by up to 8 and divide by 24, so it rounds several
 * times worse (test_conv2d's 16-channel 14x14 case: relative L2 error 9.8e-7
 * against 1.6e-7), still inside RV_TOL_FP32 (1e-5), which the tests hold
 * both to. Which m a layer uses is rv_winograd_tile's choice.
 */
#include <cblas.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RV_F4_16 1 /* input_transform_16 and output_transform_16 below */
#endif

#include "rv_alloc.h"
#include "rv_cpu.h"
#include "rv_elem.h"
#include "rv_gemm.h"
#include "rv_simd.h"
#include "rv_winograd.h"

int rv_winograd_applies(const rv_tensor *w, rv_conv_params p)
{
    return w->ndim == 4 && w->dim[2] == 3 && w->dim[3] == 3 && p.stride == 1 && p.pad_h == 1 &&
           p.pad_w == 1 && p.groups == 1;
}

int rv_winograd_tile(int64_t n, int64_t h, int64_t w, const rv_gemm_kernel *k)
{
    /* multiplications per image and channel pair, 36 per 4x4 tile against 16
     * per 2x2 tile; and the columns of F(4x4)'s products */
    int64_t t4 = rv_ceil_div(h, 4) * rv_ceil_div(w, 4), t2 = rv_ceil_div(h, 2) * rv_ceil_div(w, 2);
    if (h * w >= INT32_MAX) return 2; /* F(4x4)'s gather index is 32-bit */
    if (k) return 4 * 36 * t4 <= 3 * 16 * t2 ? 4 : 2;
    return 3 * 36 * t4 <= 2 * 16 * t2 && n * t4 >= RV_WINOGRAD_F4_TILES ? 4 : 2;
}

int rv_winograd_tile_of(const rv_tensor *u)
{
    if (!u->data || (u->ndim != 3 && u->ndim != 4)) return 0;
    return u->dim[0] == 16 ? 2 : u->dim[0] == 36 ? 4 : 0; /* (m + 2)^2 planes */
}

rv_status rv_winograd_weights(const rv_tensor *w, int m, const rv_gemm_kernel *k, rv_tensor *u)
{
    if (w->device != RV_CPU) return rv_error(RV_EINVAL, "winograd: weights must be on the CPU");
    if (m != 2 && m != 4) return rv_error(RV_EINVAL, "winograd: tile %d is not 2 or 4", m);
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const double(*G)[3] = m == 2 ? G2 : G4;
    int a = m + 2, packed = k != NULL;
    int64_t O = w->dim[0], C = w->dim[1], panels = rv_ceil_div(O, RV_GEMM_MR);
    /* each U_xi (O x C) packed for rv_gemm (rv_gemm.h), written in place:
     * ((m+2)^2, panels of O, C, MR), rows past O zero; else U_xi transposed
     * (C x O), which OpenBLAS packs faster */
    int64_t pdim[4] = {a * a, panels, C, RV_GEMM_MR}, tdim[3] = {a * a, C, O};
    rv_status st = packed ? rv_tensor_alloc(u, RV_CPU, 4, pdim, "winograd weights")
                          : rv_tensor_alloc(u, RV_CPU, 3, tdim, "winograd weights");
    if (st != RV_OK) return st;
    if (packed) rv_tensor_fill(u, 0.0f);
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w->data + (o * C + c) * 9;
            double t[6][3]; /* G g */
            for (int i = 0; i < a; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
            for (int64_t xi = 0; xi < a * a; xi++) {
                int i = (int)(xi / a), j = (int)(xi % a);
                float v = (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
                if (packed)
                    u->data[((xi * panels + o / RV_GEMM_MR) * C + c) * RV_GEMM_MR +
                            o % RV_GEMM_MR] = v;
                else
                    u->data[(xi * C + c) * O + o] = v;
            }
        }
    return RV_OK;
}

/* Input row xr (W floats), zero-padded by one on the left and up to
 * 2 (TW + 1) on the right, as its even padded columns ev and odd ones od
 * (TW + 1 each): ev[k] = xr[2k - 1], od[k] = xr[2k]. F(2x2). */
RV_SIMD_INLINE void split_row(const float *restrict xr, int64_t W, int64_t TW, float *restrict ev,
                              float *restrict od)
{
    int64_t ne = W / 2, no = (W + 1) / 2; /* odd and even input columns */
    ev[0] = 0.0f;
    for (int64_t k = 1; k <= ne; k++) ev[k] = xr[2 * k - 1];
    for (int64_t k = ne + 1; k <= TW; k++) ev[k] = 0.0f;
    for (int64_t k = 0; k < no; k++) od[k] = xr[2 * k];
    for (int64_t k = no; k <= TW; k++) od[k] = 0.0f;
}

/* B^T d B for the TW tiles of one tile row, F(2x2). Padded row i of the
 * tiles (i < 4) is split (split_row) at sr + i * rw, so tile tx (padded
 * columns 2tx .. 2tx+3: ev[tx], od[tx], ev[tx+1], od[tx+1]) reads
 * unit-stride. Plane xi of v is v + xi * plane. gcc vectorises it within a
 * tile (4 floats wide), which ran faster on RepVGG's 14x14..56x56 planes
 * than the loop vectorised across tiles (at 14x14 a row has 7 tiles). */
RV_SIMD_INLINE void input_row_f2(const float *restrict sr, int64_t rw, int64_t TW,
                                 float *restrict v, int64_t plane)
{
    for (int64_t tx = 0; tx < TW; tx++) {
        float e[4][4]; /* d B, row by row */
        for (int i = 0; i < 4; i++) {
            const float *ev = sr + i * rw, *od = ev + TW + 1;
            float d0 = ev[tx], d1 = od[tx], d2 = ev[tx + 1], d3 = od[tx + 1];
            e[i][0] = d0 - d2;
            e[i][1] = d1 + d2;
            e[i][2] = d2 - d1;
            e[i][3] = d1 - d3;
        }
        for (int j = 0; j < 4; j++) {
            v[j * plane + tx] = e[0][j] - e[2][j];
            v[(4 + j) * plane + tx] = e[1][j] + e[2][j];
            v[(8 + j) * plane + tx] = e[2][j] - e[1][j];
            v[(12 + j) * plane + tx] = e[1][j] - e[3][j];
        }
    }
}

/* A^T m A + bias (and ReLU) for `tiles` consecutive tiles whose plane xi
 * starts at mm + xi * plane, F(2x2): the 2x2 outputs of tile t into
 * q[k * tiles + t], k = 2 i + j. Contiguous over t, so it vectorises. */
RV_SIMD_INLINE void output_f2(const float *restrict mm, int64_t plane, int64_t tiles, float bias,
                              int relu, float *restrict q)
{
    for (int64_t t = 0; t < tiles; t++) {
        float a[2][4]; /* A^T m */
        for (int j = 0; j < 4; j++) {
            float p0 = mm[j * plane + t], p1 = mm[(4 + j) * plane + t],
                  p2 = mm[(8 + j) * plane + t], p3 = mm[(12 + j) * plane + t];
            a[0][j] = p0 + p1 + p2;
            a[1][j] = p1 - p2 - p3;
        }
        for (int i = 0; i < 2; i++) {
            q[(2 * i) * tiles + t] = rv_bias_act(a[i][0] + a[i][1] + a[i][2], bias, relu);
            q[(2 * i + 1) * tiles + t] = rv_bias_act(a[i][1] - a[i][2] - a[i][3], bias, relu);
        }
    }
}

/* F(4x4)'s transforms are written out line by line (M(0); M(1); ...), so
 * that the loop over tiles is one straight body, which gcc vectorises */
#define RV_EACH4(M)                                                                                \
    M(0);                                                                                          \
    M(1);                                                                                          \
    M(2);                                                                                          \
    M(3)
#define RV_EACH6(M)                                                                                \
    RV_EACH4(M);                                                                                   \
    M(4);                                                                                          \
    M(5)

/* t0..t5 = B^T (d0..d5), F(4x4)'s input transform of one 6-point line */
#define RV_BT6(t0, t1, t2, t3, t4, t5, d0, d1, d2, d3, d4, d5)                                     \
    do {                                                                                           \
        float b0 = (d0), b1 = (d1), b2 = (d2), b3 = (d3), b4 = (d4), b5 = (d5);                    \
        t0 = 4.0f * b0 - 5.0f * b2 + b4;                                                           \
        t1 = b3 + b4 - 4.0f * (b1 + b2);                                                           \
        t2 = 4.0f * (b1 - b2) - b3 + b4;                                                           \
        t3 = 2.0f * (b3 - b1) - b2 + b4;                                                           \
        t4 = 2.0f * (b1 - b3) - b2 + b4;                                                           \
        t5 = 4.0f * b1 - 5.0f * b3 + b5;                                                           \
    } while (0)

/* o0..o3 = A^T (m0..m5), F(4x4)'s output transform of one 6-point line */
#define RV_AT6(o0, o1, o2, o3, m0, m1, m2, m3, m4, m5)                                             \
    do {                                                                                           \
        float s12 = (m1) + (m2), d12 = (m1) - (m2), s34 = (m3) + (m4), d34 = (m3) - (m4);          \
        o0 = (m0) + s12 + s34;                                                                     \
        o1 = d12 + 2.0f * d34;                                                                     \
        o2 = s12 + 4.0f * s34;                                                                     \
        o3 = d12 + 8.0f * d34 + (m5);                                                              \
    } while (0)

/* B^T d B for F(4x4), every tile t < tiles of one plane at once: value c of
 * line i of tile t at dp[(6 i + c) ds + t]. Written out line by line, so the
 * loop over tiles is one straight body that gcc vectorises. */
RV_SIMD_INLINE void input_f4(const float *restrict dp, int64_t ds, int64_t tiles, float *restrict v,
                             int64_t plane)
{
#define RV_D(i, c) dp[(6 * (i) + (c)) * ds + t]
#define RV_ROW(i)                                                                                  \
    RV_BT6(e##i##0, e##i##1, e##i##2, e##i##3, e##i##4, e##i##5, RV_D(i, 0), RV_D(i, 1),           \
           RV_D(i, 2), RV_D(i, 3), RV_D(i, 4), RV_D(i, 5))
#define RV_V(i, j) v[(6 * (i) + (j)) * plane + t]
#define RV_COL(j)                                                                                  \
    RV_BT6(RV_V(0, j), RV_V(1, j), RV_V(2, j), RV_V(3, j), RV_V(4, j), RV_V(5, j), e0##j, e1##j,   \
           e2##j, e3##j, e4##j, e5##j)
    /* the 36 planes of v do not overlap within a vector of tiles */
    RV_IVDEP
    for (int64_t t = 0; t < tiles; t++) {
        float e00, e01, e02, e03, e04, e05, e10, e11, e12, e13, e14, e15, e20, e21, e22, e23, e24,
            e25, e30, e31, e32, e33, e34, e35, e40, e41, e42, e43, e44, e45, e50, e51, e52, e53,
            e54, e55; /* d B */
        RV_EACH6(RV_ROW);
        RV_EACH6(RV_COL);
    }
#undef RV_D
#undef RV_ROW
#undef RV_V
#undef RV_COL
}

/* A^T m A + bias (and ReLU) for F(4x4), `tiles` consecutive tiles whose
 * plane xi starts at mm + xi * plane: the 4x4 outputs of tile t into
 * q[k * tiles + t], k = 4 i + j. Written out like input_f4. */
RV_SIMD_INLINE void output_f4(const float *restrict mm, int64_t plane, int64_t tiles, float bias,
                              int relu, float *restrict q)
{
#define RV_P(i, j) mm[(6 * (i) + (j)) * plane + t]
#define RV_COL(j)                                                                                  \
    RV_AT6(a0##j, a1##j, a2##j, a3##j, RV_P(0, j), RV_P(1, j), RV_P(2, j), RV_P(3, j), RV_P(4, j), \
           RV_P(5, j))
#define RV_ROW(i)                                                                                  \
    do {                                                                                           \
        float o0, o1, o2, o3;                                                                      \
        RV_AT6(o0, o1, o2, o3, a##i##0, a##i##1, a##i##2, a##i##3, a##i##4, a##i##5);              \
        q[(4 * (i) + 0) * tiles + t] = rv_bias_act(o0, bias, relu);                                \
        q[(4 * (i) + 1) * tiles + t] = rv_bias_act(o1, bias, relu);                                \
        q[(4 * (i) + 2) * tiles + t] = rv_bias_act(o2, bias, relu);                                \
        q[(4 * (i) + 3) * tiles + t] = rv_bias_act(o3, bias, relu);                                \
    } while (0)
    /* nor do the 16 rows of q */
    RV_IVDEP
    for (int64_t t = 0; t < tiles; t++) {
        float a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15, a20, a21, a22, a23, a24,
            a25, a30, a31, a32, a33, a34, a35; /* A^T m */
        RV_EACH6(RV_COL);
        RV_EACH4(RV_ROW);
    }
#undef RV_P
#undef RV_COL
#undef RV_ROW
}

/* The tiles of an H x W plane for F(m x m): TH rows of TW */
typedef struct {
    int m;
    int64_t TH, TW, tiles; /* tiles = TH TW */
} tiling;

static tiling tiling_of(int m, int64_t H, int64_t W)
{
    tiling g = {.m = m, .TH = rv_ceil_div(H, m), .TW = rv_ceil_div(W, m)};
    g.tiles = g.TH * g.TW;
    return g;
}

/* Floats of the split input: F(2x2) keeps the plane's padded rows 0 ..
 * 2 TH + 1, split into phases, one after another (2 (TW + 1) floats each);
 * F(4x4) keeps a copy of the plane (at most 4 TH x 4 TW floats) followed by
 * a zero, then its tiles' 36 inputs, each an array over the tiles
 * (input_f4). */
static int64_t split_floats(tiling g)
{
    return g.m == 2 ? (2 * g.TH + 2) * 2 * (g.TW + 1) : 16 * g.tiles + 16 + 36 * g.tiles;
}

/* F(4x4)'s gather as one table, made once per call: idx[(6 i + c) tiles + t]
 * is where value c of line i of tile t lies in the copy of an H x W plane,
 * H W (its zero) where that value is padding. One flat loop over the table
 * replaced a loop per line and value whose bounds were tested in each: at
 * 14x14 (4 tiles a row) those loops ran 4 iterations each, and the input
 * transform took twice as long. */
static void f4_gather_index(int64_t H, int64_t W, tiling g, int32_t *idx)
{
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 6; c++)
            for (int64_t ty = 0; ty < g.TH; ty++)
                for (int64_t tx = 0; tx < g.TW; tx++) {
                    int64_t r = 4 * ty + i - 1, col = 4 * tx + c - 1; /* input row, column */
                    idx[(6 * i + c) * g.tiles + ty * g.TW + tx] =
                        (int32_t)(r >= 0 && r < H && col >= 0 && col < W ? r * W + col : H * W);
                }
}

/* V = B^T d B for every tile of the plane xc (H x W): tile t = ty TW + tx
 * into v + xi * plane + t. The plane is first split (in rows:
 * split_floats(g) of scratch), so the tiles read it unit-stride: by rows
 * and phases for F(2x2), through the table idx (f4_gather_index) for
 * F(4x4) (4 x 4 tiles take input_transform_16 instead where AVX2 runs). */
RV_SIMD_CLONES static void input_transform_plane(const float *restrict xc, int64_t H, int64_t W,
                                                 tiling g, const int32_t *restrict idx,
                                                 float *restrict rows, float *restrict v,
                                                 int64_t plane)
{
    int64_t TW = g.TW;
    if (g.m == 2) {
        int64_t rw = 2 * (TW + 1);
        for (int64_t r = 0; r < 2 * g.TH + 2; r++) { /* padded row r: input row r - 1 */
            float *ph = rows + r * rw;
            if (r == 0 || r > H)
                memset(ph, 0, (size_t)rw * sizeof *ph);
            else
                split_row(xc + (r - 1) * W, W, TW, ph, ph + TW + 1);
        }
        for (int64_t ty = 0; ty < g.TH; ty++)
            input_row_f2(rows + 2 * ty * rw, rw, TW, v + ty * TW, plane);
        return;
    }
    float *p = rows, *d = rows + 16 * g.tiles + 16; /* the plane and its zero; the inputs */
    memcpy(p, xc, (size_t)(H * W) * sizeof *p);
    p[H * W] = 0.0f;
    for (int64_t k = 0; k < 36 * g.tiles; k++) d[k] = p[idx[k]];
    input_f4(d, g.tiles, g.tiles, v, plane);
}

#ifdef RV_F4_16
/* &x[i] for a masked load whose masked lanes may fall before x or past its
 * end: formed as an integer, since a pointer outside its array is undefined
 * in C (the lanes read are inside) */
static inline const float *masked_at(const float *x, int64_t i)
{
    return (const float *)((uintptr_t)x + (uintptr_t)i * sizeof *x);
}

/* The 4 x 4 transpose within each 128-bit half of r[0 .. 3]: lane k of c[j]
 * is lane j of r[k], in each half */
__attribute__((target("avx2"), always_inline)) static inline void
transpose4_halves(const __m256 r[4], __m256 c[4])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
           t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    c[0] = _mm256_shuffle_ps(t0, t2, 0x44);
    c[1] = _mm256_shuffle_ps(t0, t2, 0xee);
    c[2] = _mm256_shuffle_ps(t1, t3, 0x44);
    c[3] = _mm256_shuffle_ps(t1, t3, 0xee);
}

/* V = B^T d B as input_transform_plane, for F(4x4) on a plane of 4 x 4 tiles
 * (13 to 16 rows and columns: A0's 14x14 layers), gathered in registers, not
 * through the table: the 16 tiles as two vectors of 8, tile rows 0 - 1 and
 * 2 - 3. With P a padded row (P[j] = input column j - 1, zero past the
 * plane's edges), value c of tile tx is P[4 tx + c]: the 4 x 4 transpose of
 * P's groups of four, P[0 .. 3] to P[12 .. 15], gives values 0 to 3 of the
 * four tiles, and values 4 and 5 are values 0 and 1 moved on by one tile,
 * with P[16] and P[17] last. Each 128-bit half of a vector holds one tile
 * row, so one in-lane transpose serves two. AVX-512 CPUs run it too: there
 * it beat a form with one 16-float vector per tile row and a permute
 * (docs/performance.md). */
__attribute__((target("avx2"))) static void input_transform_16(const float *restrict xc, int64_t H,
                                                               int64_t W, float *restrict d,
                                                               float *restrict v, int64_t plane)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), w = _mm256_set1_epi32((int)W);
    __m256i k[3]; /* load q reads P[8 q .. 8 q + 7], columns 8 q - 1 .. 8 q + 6 */
    for (int q = 0; q < 3; q++) {
        __m256i col = _mm256_add_epi32(lane, _mm256_set1_epi32(8 * q - 1));
        k[q] = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), col),
                                   _mm256_cmpgt_epi32(w, col));
    }
    for (int i = 0; i < 6; i++)
        for (int half = 0; half < 2; half++) { /* tile rows 2 half and 2 half + 1 */
            __m256 p[2][3];                    /* P of each of the two rows, 8 floats a load */
            for (int s = 0; s < 2; s++) {
                int64_t r = 4 * (2 * half + s) + i - 1;
                for (int q = 0; q < 3; q++) /* row r from column 8 q - 1 */
                    p[s][q] = r < 0 || r >= H
                                  ? _mm256_setzero_ps()
                                  : _mm256_maskload_ps(masked_at(xc, r * W + 8 * q - 1), k[q]);
            }
            /* y[g]: P[4 g .. 4 g + 3] of the first row, then of the second */
            __m256 y0 = _mm256_permute2f128_ps(p[0][0], p[1][0], 0x20),
                   y1 = _mm256_permute2f128_ps(p[0][0], p[1][0], 0x31),
                   y2 = _mm256_permute2f128_ps(p[0][1], p[1][1], 0x20),
                   y3 = _mm256_permute2f128_ps(p[0][1], p[1][1], 0x31),
                   y4 = _mm256_permute2f128_ps(p[0][2], p[1][2], 0x20);
            __m256 e[6]; /* value c of the 8 tiles */
            transpose4_halves((__m256[4]){y0, y1, y2, y3}, e);
            /* (P[8], P[12], P[16 + c - 4] twice), then drop P[0] or P[1] */
            e[4] = _mm256_shuffle_ps(e[0], _mm256_shuffle_ps(e[0], y4, 0x0e), 0x99);
            e[5] = _mm256_shuffle_ps(e[1], _mm256_shuffle_ps(e[1], y4, 0x5e), 0x99);
            for (int c = 0; c < 6; c++) _mm256_storeu_ps(d + (6 * i + c) * 16 + 8 * half, e[c]);
        }
    input_f4(d, 16, 16, v, plane);
}

/* Y = A^T M A + bias (and ReLU) as output_transform_plane, for F(4x4) on a
 * plane of 4 x 4 tiles: output_f4 into q as there, then each output row
 * from q in registers, not value by value. Row 4 i + j of q holds value
 * (i, j) of the 16 tiles, a vector of 8 holding two tile rows (one a
 * 128-bit half); the in-lane 4 x 4 transpose of its vectors j = 0 .. 3
 * gives output row i of both tile rows, four columns of each tile. */
__attribute__((target("avx2"))) static void
output_transform_16(const float *restrict mm, int64_t plane, int64_t H, int64_t W, float bias,
                    int relu, float *restrict q, float *restrict y)
{
    output_f4(mm, plane, 16, bias, relu, q);
    const __m256i rest = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)W - 8), /* columns 8 .. W-1 */
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int half = 0; half < 2; half++) /* tile rows 2 half and 2 half + 1 */
        for (int i = 0; i < 4; i++) {
            const float *qi = q + 4 * i * 16 + 8 * half;
            __m256 c[4]; /* columns 4 tx .. 4 tx + 3 of tile tx, of both rows */
            transpose4_halves((__m256[4]){_mm256_loadu_ps(qi), _mm256_loadu_ps(qi + 16),
                                          _mm256_loadu_ps(qi + 32), _mm256_loadu_ps(qi + 48)},
                              c);
            /* row[s]: columns 0 - 7 and 8 - 15 of tile row 2 half + s (half s) */
            __m256 row[2][2] = {{_mm256_permute2f128_ps(c[0], c[1], 0x20),
                                 _mm256_permute2f128_ps(c[2], c[3], 0x20)},
                                {_mm256_permute2f128_ps(c[0], c[1], 0x31),
                                 _mm256_permute2f128_ps(c[2], c[3], 0x31)}};
            for (int s = 0; s < 2; s++) {
                int64_t oh = 4 * (2 * half + s) + i;
                if (oh >= H) continue;
                _mm256_storeu_ps(y + oh * W, row[s][0]);
                _mm256_maskstore_ps(y + oh * W + 8, rest, row[s][1]);
            }
        }
}
#endif

/* Y = A^T M A + bias (and ReLU) for the plane y (H x W) whose tiles' planes
 * start at mm + xi * plane: all tiles into q (m^2 tiles floats), then each
 * output row interleaves m of q's rows (for F(4x4) on 4 x 4 tiles,
 * output_transform_16 instead where AVX2 runs). */
RV_SIMD_CLONES static void output_transform_plane(const float *restrict mm, int64_t plane,
                                                  int64_t H, int64_t W, tiling g, float bias,
                                                  int relu, float *restrict q, float *restrict y)
{
    int m = g.m;
    if (m == 2)
        output_f2(mm, plane, g.tiles, bias, relu, q);
    else
        output_f4(mm, plane, g.tiles, bias, relu, q);
    for (int64_t oh = 0; oh < H; oh++) {
        const float *qr = q + oh % m * m * g.tiles + oh / m * g.TW; /* + j tiles: column j */
        float *yr = y + oh * W;
        if (m == 2)
            for (int64_t k = 0; k < W / 2; k++) {
                yr[2 * k] = qr[k];
                yr[2 * k + 1] = qr[g.tiles + k];
            }
        else
            for (int64_t k = 0; k < W / 4; k++)
                for (int j = 0; j < 4; j++) yr[4 * k + j] = qr[j * g.tiles + k];
        for (int64_t ow = W / m * m; ow < W; ow++) yr[ow] = qr[ow % m * g.tiles + ow / m];
    }
}

/* floats between planes: at least n, and 16 floats (a cache line) past a
 * multiple of 1024 (4 KiB) */
static int64_t plane_stride(int64_t n) { return rv_ceil_div(n, 1024) * 1024 + 16; }

/* How a Winograd conv of x (N, C, H, W) into O channels with u runs: its
 * chunk of images, its tiling and the floats of each part of its workspace. */
typedef struct {
    int m, packed;
    tiling g;
    int64_t chunk, per_thread, sf, vs, ms, table, nt;
} wino_layout;

static wino_layout layout_of(const int64_t x[4], int64_t O, const rv_tensor *u,
                             const rv_conv_exec *e)
{
    wino_layout l = {.m = rv_winograd_tile_of(u), .packed = u->ndim == 4};
    int64_t N = x[0], C = x[1], P = u->dim[0]; /* (m + 2)^2 planes */
    l.g = tiling_of(l.m, x[2], x[3]);
    size_t per_image = (size_t)(P * (C + O) * l.g.tiles) * sizeof(float);
    size_t budget = e && e->winograd_chunk_bytes ? e->winograd_chunk_bytes
                    : l.packed                   ? RV_WINOGRAD_PACKED_CHUNK_BYTES
                                                 : RV_WINOGRAD_BLAS_CHUNK_BYTES;
    l.chunk = (int64_t)(budget / per_image);
    if (l.chunk < 1) l.chunk = 1;
    if (l.chunk > N) l.chunk = N;
    l.nt = rv_cpu_threads();
    l.sf = split_floats(l.g);
    l.per_thread = l.sf + l.m * l.m * l.g.tiles; /* split rows, outputs */
    /* The planes of V (and of M) are written and read side by side: their
     * stride is 64 bytes past a multiple of 4 KiB, so they fall in different
     * cache sets (at 64 channels 56x56 the stride was exactly 49 x 4 KiB,
     * and the input transform's stores all fell in one L1 set). */
    l.vs = plane_stride(C * l.chunk * l.g.tiles);
    l.ms = plane_stride(O * l.chunk * l.g.tiles);
    l.table = l.m == 4 ? 36 * l.g.tiles : 0; /* F(4x4)'s gather index, after the scratch */
    return l;
}

static size_t layout_bytes(const wino_layout *l, int64_t P)
{
    return (size_t)(P * (l->vs + l->ms) + l->nt * l->per_thread + l->table) * sizeof(float);
}

size_t rv_winograd_workspace_bytes(const int64_t x[4], int64_t O, const rv_tensor *u,
                                   const rv_conv_exec *e)
{
    if (!rv_winograd_tile_of(u)) return 0;
    rv_cpu_threads_init();
    wino_layout l = layout_of(x, O, u, e);
    return layout_bytes(&l, u->dim[0]);
}

rv_status rv_conv2d_winograd(const rv_tensor *x, const rv_tensor *u, const rv_tensor *b, int relu,
                             const rv_conv_exec *e, rv_tensor *y)
{
    int64_t N = x->dim[0], C = x->dim[1], H = x->dim[2], W = x->dim[3], O = y->dim[1];
    int64_t P = u->dim[0];                                 /* (m + 2)^2 planes */
    int m = rv_winograd_tile_of(u), packed = u->ndim == 4; /* for rv_gemm, else OpenBLAS's */
    const rv_gemm_kernel *k = e ? e->gemm : NULL;
    if (!m ||
        (packed ? u->dim[2] != C || u->dim[1] * RV_GEMM_MR < O ||
                      u->dim[1] * RV_GEMM_MR >= O + RV_GEMM_MR
                : u->dim[1] != C || u->dim[2] != O) ||
        y->dim[2] != H || y->dim[3] != W)
        return rv_error(RV_EINVAL, "winograd: weights or output do not fit the input");
    if (m == 4 && H * W >= INT32_MAX) /* f4_gather_index's entries are 32-bit */
        return rv_error(RV_EINVAL, "winograd: a %lld x %lld plane is too large for F(4x4)",
                        (long long)H, (long long)W);
    if (packed != (k != NULL))
        return rv_error(RV_EINVAL, "winograd: the weights were made for %s, the conv runs %s",
                        packed ? "a packed-weights kernel" : "OpenBLAS", rv_gemm_kernel_name(k));
    rv_cpu_threads_init();
    wino_layout l = layout_of(x->dim, O, u, e);
    tiling g = l.g;
    int64_t tiles = g.tiles, chunk = l.chunk, sf = l.sf, per_thread = l.per_thread, vs = l.vs,
            ms = l.ms;
    float *ws;
    rv_status st = rv_exec_workspace(e, RV_CPU, layout_bytes(&l, P), &ws);
    if (st != RV_OK) return st;
    int32_t *idx = (int32_t *)(ws + P * (vs + ms) + l.nt * per_thread);
#ifdef RV_F4_16
    int in16 = m == 4 && g.TH == 4 && g.TW == 4 && __builtin_cpu_supports("avx2");
#else
    int in16 = 0;
#endif
    if (m == 4 && !in16) f4_gather_index(H, W, g, idx);
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        int64_t nc = N - n0 < chunk ? N - n0 : chunk, T = nc * tiles;
        float *V = ws, *M = V + P * vs, *scratch = M + P * ms;
#pragma omp parallel
        {
#ifdef _OPENMP
            float *rows = scratch + omp_get_thread_num() * per_thread;
#else
            float *rows = scratch;
#endif
#pragma omp for schedule(static)
            for (int64_t nci = 0; nci < nc * C; nci++) { /* V = B^T d B */
                int64_t n = nci / C, c = nci % C;
                const float *xc = x->data + (n0 * C + nci) * H * W;
#ifdef RV_F4_16
                if (in16) {
                    input_transform_16(xc, H, W, rows, V + c * T + n * tiles, vs);
                    continue;
                }
#endif
                input_transform_plane(xc, H, W, g, idx, rows, V + c * T + n * tiles, vs);
            }
#pragma omp for schedule(static)
            for (int64_t xi = 0; xi < P; xi++) { /* M_xi = U_xi V_xi */
                if (packed)
                    rv_gemm_rows(k, u->data + xi * rv_gemm_packed_floats(O, C), C, 0, O,
                                 V + xi * vs, T, T, M + xi * ms, T, 0, NULL, 0);
                else
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)O, (int)T, (int)C,
                                1.0f, u->data + xi * O * C, (int)O, V + xi * vs, (int)T, 0.0f,
                                M + xi * ms, (int)T);
            }
#pragma omp for schedule(static)
            for (int64_t noi = 0; noi < nc * O; noi++) { /* Y = A^T M A + bias, ReLU */
                int64_t n = noi / O, o = noi % O;
#ifdef RV_F4_16
                if (in16) {
                    output_transform_16(M + o * T + n * tiles, ms, H, W, b ? b->data[o] : 0.0f,
                                        relu, rows + sf, y->data + (n0 * O + noi) * H * W);
                    continue;
                }
#endif
                output_transform_plane(M + o * T + n * tiles, ms, H, W, g, b ? b->data[o] : 0.0f,
                                       relu, rows + sf, y->data + (n0 * O + noi) * H * W);
            }
        }
    }
    return RV_OK;
}

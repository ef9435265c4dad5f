/* winograd.c - Winograd F(2x2, 3x3): a stride-1 3x3 convolution in 16
 * multiplications per 2x2 output tile instead of 36 (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016). The RepVGG paper's
 * own argument for plain 3x3 convs is that libraries accelerate them this way.
 *
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A    for a 4x4 input tile d and a 3x3 kernel g
 *
 * Summed over input channels, the element-wise product becomes 16 matrix
 * products, one per tile position xi = (i, j):
 *   M_xi (O x T) = U_xi (O x C) * V_xi (C x T),  U = G g G^T,  V = B^T d B,
 * with T the number of tiles; those run through cblas_sgemm. The transforms
 * only add and subtract (G's halves are exact in binary), so the rounding
 * stays that of a direct conv: the tests hold this path to RV_TOL_FP32 of the
 * reference. (F(4x4, 3x3) needs 36/144 of the products but multiplies by up
 * to 8 and divides by 24; its error is ten times larger.)
 */
#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_elem.h"
#include "rv_winograd.h"

/* The transforms are plain loops over tiles that the compiler vectorises;
 * built once per instruction set, the best one picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RV_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RV_SIMD_CLONES
#endif

size_t rv_winograd_chunk_bytes = (size_t)2 << 20; /* about a core's L2 cache here */
int rv_winograd_enabled = 1;

int rv_winograd_applies(const rv_tensor *w, rv_conv_params p)
{
    return w->ndim == 4 && w->dim[2] == 3 && w->dim[3] == 3 && p.stride == 1 && p.pad == 1 &&
           p.groups == 1;
}

rv_status rv_winograd_weights(const rv_tensor *w, rv_tensor *u)
{
    if (w->device != RV_CPU) return rv_error(RV_EINVAL, "winograd: weights must be on the CPU");
    int64_t O = w->dim[0], C = w->dim[1];
    int64_t dim[3] = {16, O, C};
    rv_status st = rv_tensor_alloc(u, RV_CPU, 3, dim, "winograd weights");
    if (st != RV_OK) return st;
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++) {
            const float *g = w->data + (o * C + c) * 9;
            double t[4][3]; /* G g */
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u->data[((i * 4 + j) * O + o) * C + c] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
        }
    return RV_OK;
}

/* B^T d B for the TW tiles of one tile row: rows holds the four input rows
 * 2ty-1 .. 2ty+2, zero-padded (index j is input column j - 1); tile tx
 * starts at column 2tx. Plane xi of v is v + xi * plane. */
RV_SIMD_CLONES static void input_transform_row(const float *restrict rows, int64_t rw, int64_t TW,
                                               float *restrict v, int64_t plane)
{
    const float *r0 = rows, *r1 = rows + rw, *r2 = rows + 2 * rw, *r3 = rows + 3 * rw;
    for (int64_t tx = 0; tx < TW; tx++) {
        int64_t k = 2 * tx;
        float e[4][4]; /* d B, row by row */
        const float *r[4] = {r0 + k, r1 + k, r2 + k, r3 + k};
        for (int i = 0; i < 4; i++) {
            e[i][0] = r[i][0] - r[i][2];
            e[i][1] = r[i][1] + r[i][2];
            e[i][2] = r[i][2] - r[i][1];
            e[i][3] = r[i][1] - r[i][3];
        }
        for (int j = 0; j < 4; j++) {
            v[(0 * 4 + j) * plane + tx] = e[0][j] - e[2][j];
            v[(1 * 4 + j) * plane + tx] = e[1][j] + e[2][j];
            v[(2 * 4 + j) * plane + tx] = e[2][j] - e[1][j];
            v[(3 * 4 + j) * plane + tx] = e[1][j] - e[3][j];
        }
    }
}

/* A^T m A + bias (and ReLU) for `tiles` consecutive tiles, whose plane xi
 * starts at m + xi * plane: the 2x2 outputs of tile t into q[k * tiles + t],
 * k = 2 i + j. Contiguous over t, so it vectorises whatever the image width. */
RV_SIMD_CLONES static void output_transform(const float *restrict m, int64_t plane,
                                            int64_t tiles, float bias, int relu,
                                            float *restrict q)
{
    for (int64_t t = 0; t < tiles; t++) {
        float a[2][4]; /* A^T m */
        for (int j = 0; j < 4; j++) {
            float m0 = m[(0 * 4 + j) * plane + t], m1 = m[(1 * 4 + j) * plane + t];
            float m2 = m[(2 * 4 + j) * plane + t], m3 = m[(3 * 4 + j) * plane + t];
            a[0][j] = m0 + m1 + m2;
            a[1][j] = m1 - m2 - m3;
        }
        for (int i = 0; i < 2; i++) {
            q[(2 * i) * tiles + t] = rv_bias_act(a[i][0] + a[i][1] + a[i][2], bias, relu);
            q[(2 * i + 1) * tiles + t] = rv_bias_act(a[i][1] - a[i][2] - a[i][3], bias, relu);
        }
    }
}

rv_status rv_conv2d_winograd(const rv_tensor *x, const rv_tensor *u, const rv_tensor *b, int relu,
                             rv_tensor *y)
{
    int64_t N = x->dim[0], C = x->dim[1], H = x->dim[2], W = x->dim[3], O = u->dim[1];
    if (u->ndim != 3 || u->dim[0] != 16 || u->dim[2] != C || y->dim[1] != O || y->dim[2] != H ||
        y->dim[3] != W)
        return rv_error(RV_EINVAL, "winograd: weights or output do not fit the input");
    rv_cpu_threads_init();
    int64_t TH = (H + 1) / 2, TW = (W + 1) / 2, tiles = TH * TW, rw = 2 * TW + 2;
    size_t per_image = (size_t)(16 * (C + O) * tiles) * sizeof(float);
    int64_t chunk = (int64_t)(rv_winograd_chunk_bytes / per_image);
    if (chunk < 1) chunk = 1;
    if (chunk > N) chunk = N;
    int64_t nt = rv_cpu_threads(), per_thread = 4 * rw + 4 * tiles; /* padded rows, outputs */
    float *ws = rv_workspace(RV_CPU, (size_t)chunk * per_image +
                                         (size_t)(nt * per_thread) * sizeof(float));
    if (!ws) return RV_ENOMEM;
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        int64_t nc = N - n0 < chunk ? N - n0 : chunk, T = nc * tiles;
        float *V = ws, *M = V + 16 * C * T, *scratch = M + 16 * O * T;
#pragma omp parallel
        {
#ifdef _OPENMP
            float *rows = scratch + omp_get_thread_num() * per_thread;
#else
            float *rows = scratch;
#endif
            float *orow = rows + 4 * rw;
#pragma omp for schedule(static)
            for (int64_t nci = 0; nci < nc * C; nci++) { /* V = B^T d B */
                int64_t n = nci / C, c = nci % C;
                const float *xc = x->data + (n0 * C + nci) * H * W;
                for (int64_t ty = 0; ty < TH; ty++) {
                    for (int r = 0; r < 4; r++) {
                        float *row = rows + r * rw;
                        int64_t ih = 2 * ty - 1 + r;
                        if (ih < 0 || ih >= H) {
                            memset(row, 0, (size_t)rw * sizeof *row);
                            continue;
                        }
                        row[0] = 0.0f; /* the padding left and right */
                        memcpy(row + 1, xc + ih * W, (size_t)W * sizeof *row);
                        memset(row + 1 + W, 0, (size_t)(rw - 1 - W) * sizeof *row);
                    }
                    input_transform_row(rows, rw, TW, V + c * T + n * tiles + ty * TW, C * T);
                }
            }
#pragma omp for schedule(static)
            for (int xi = 0; xi < 16; xi++) /* M_xi = U_xi V_xi */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)O, (int)T, (int)C, 1.0f,
                            u->data + xi * O * C, (int)C, V + xi * C * T, (int)T, 0.0f,
                            M + xi * O * T, (int)T);
#pragma omp for schedule(static)
            for (int64_t noi = 0; noi < nc * O; noi++) { /* Y = A^T M A + bias, ReLU */
                int64_t n = noi / O, o = noi % O;
                float *yo = y->data + (n0 * O + noi) * H * W;
                output_transform(M + o * T + n * tiles, O * T, tiles, b ? b->data[o] : 0.0f, relu,
                                 orow);
                for (int64_t oh = 0; oh < H; oh++)
                    for (int64_t ow = 0; ow < W; ow++)
                        yo[oh * W + ow] = orow[(oh % 2 * 2 + ow % 2) * tiles + oh / 2 * TW + ow / 2];
            }
        }
    }
    return RV_OK;
}

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
 * with T the number of tiles; those run through cblas_sgemm (U_xi stored
 * transposed). The transforms only add and subtract (G's halves are exact in
 * binary), so the rounding stays that of a direct conv: the tests hold this
 * path to RV_TOL_FP32 of the reference. (F(4x4, 3x3) needs 36/144 of the
 * products, but its transforms multiply by up to 8 and divide by 24, so it
 * rounds worse.)
 */
#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_elem.h"
#include "rv_simd.h"
#include "rv_winograd.h"

size_t rv_winograd_chunk_bytes = (size_t)16 << 20; /* see rv_winograd.h */
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
    int64_t dim[3] = {16, C, O};
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
                    u->data[((i * 4 + j) * C + c) * O + o] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
        }
    return RV_OK;
}

/* Input row xr (W floats), zero-padded by one on the left and up to
 * 2 (TW + 1) on the right, as its even padded columns ev and odd ones od
 * (TW + 1 each): ev[k] = xr[2k - 1], od[k] = xr[2k]. */
static inline void split_row(const float *restrict xr, int64_t W, int64_t TW, float *restrict ev,
                             float *restrict od)
{
    int64_t ne = W / 2, no = (W + 1) / 2; /* odd and even input columns */
    ev[0] = 0.0f;
    for (int64_t k = 1; k <= ne; k++) ev[k] = xr[2 * k - 1];
    for (int64_t k = ne + 1; k <= TW; k++) ev[k] = 0.0f;
    for (int64_t k = 0; k < no; k++) od[k] = xr[2 * k];
    for (int64_t k = no; k <= TW; k++) od[k] = 0.0f;
}

/* B^T d B for the TW tiles of one tile row. Row i (input row 2ty-1+i,
 * zero-padded: padded column j is input column j - 1) comes split into its
 * even and odd padded columns, ev = eo + 2 i (TW + 1) and od = ev + TW + 1,
 * so tile tx (padded columns 2tx .. 2tx+3: ev[tx], od[tx], ev[tx+1],
 * od[tx+1]) reads unit-stride. Plane xi of v is v + xi * plane. Inlined
 * into input_transform_plane, gcc vectorises it within a tile (4 floats
 * wide), which ran faster on RepVGG's 14x14..56x56 planes than the loop
 * vectorised across tiles (at 14x14 a row has 7 tiles). */
static inline void input_transform_row(const float *restrict eo, int64_t TW, float *restrict v,
                                       int64_t plane)
{
    const float *ev[4], *od[4];
    float *out[16];
    for (int i = 0; i < 4; i++) {
        ev[i] = eo + 2 * i * (TW + 1);
        od[i] = ev[i] + TW + 1;
    }
    for (int xi = 0; xi < 16; xi++) out[xi] = v + xi * plane;
    for (int64_t tx = 0; tx < TW; tx++) {
        float e[4][4]; /* d B, row by row */
        for (int i = 0; i < 4; i++) {
            float d0 = ev[i][tx], d1 = od[i][tx], d2 = ev[i][tx + 1], d3 = od[i][tx + 1];
            e[i][0] = d0 - d2;
            e[i][1] = d1 + d2;
            e[i][2] = d2 - d1;
            e[i][3] = d1 - d3;
        }
        for (int j = 0; j < 4; j++) {
            out[j][tx] = e[0][j] - e[2][j];
            out[4 + j][tx] = e[1][j] + e[2][j];
            out[8 + j][tx] = e[2][j] - e[1][j];
            out[12 + j][tx] = e[1][j] - e[3][j];
        }
    }
}

/* A^T m A + bias (and ReLU) for `tiles` consecutive tiles, whose plane xi
 * starts at m + xi * plane: the 2x2 outputs of tile t into q[k * tiles + t],
 * k = 2 i + j. Contiguous over t, so it vectorises whatever the image width. */
static inline void output_transform(const float *restrict m, int64_t plane, int64_t tiles,
                                    float bias, int relu, float *restrict q)
{
    const float *p[16]; /* plane xi = i 4 + j */
    for (int xi = 0; xi < 16; xi++) p[xi] = m + xi * plane;
    float *q0 = q, *q1 = q + tiles, *q2 = q + 2 * tiles, *q3 = q + 3 * tiles;
    for (int64_t t = 0; t < tiles; t++) {
        float a[2][4]; /* A^T m */
        for (int j = 0; j < 4; j++) {
            a[0][j] = p[j][t] + p[4 + j][t] + p[8 + j][t];
            a[1][j] = p[4 + j][t] - p[8 + j][t] - p[12 + j][t];
        }
        q0[t] = rv_bias_act(a[0][0] + a[0][1] + a[0][2], bias, relu);
        q1[t] = rv_bias_act(a[0][1] - a[0][2] - a[0][3], bias, relu);
        q2[t] = rv_bias_act(a[1][0] + a[1][1] + a[1][2], bias, relu);
        q3[t] = rv_bias_act(a[1][1] - a[1][2] - a[1][3], bias, relu);
    }
}

/* Split rows needed by the tiles of an H x W plane: padded rows 0 .. 2 TH + 1
 * (padded row r is input row r - 1, zero outside the plane) */
static int64_t split_rows(int64_t H) { return 2 * ((H + 1) / 2) + 2; }

/* V = B^T d B for every tile of the plane xc (H x W): tile t = ty TW + tx
 * into v + xi * plane + t. The plane is first split, row by row, into
 * `rows` (split_rows(H) rows of 2 (TW + 1) floats), so each input row is
 * split once although two tile rows read it. */
RV_SIMD_CLONES static void input_transform_plane(const float *restrict xc, int64_t H, int64_t W,
                                                 float *restrict rows, float *restrict v,
                                                 int64_t plane)
{
    int64_t TW = (W + 1) / 2, rw = 2 * (TW + 1);
    for (int64_t r = 0; r < split_rows(H); r++) {
        float *ev = rows + r * rw;
        if (r == 0 || r > H)
            memset(ev, 0, (size_t)rw * sizeof *ev);
        else
            split_row(xc + (r - 1) * W, W, TW, ev, ev + TW + 1);
    }
    for (int64_t ty = 0; ty < (H + 1) / 2; ty++)
        input_transform_row(rows + 2 * ty * rw, TW, v + ty * TW, plane);
}

/* Y = A^T M A + bias (and ReLU) for the plane y (H x W) whose tiles' planes
 * start at m + xi * plane: all tiles into q (4 TH TW floats), then each
 * output row interleaves two of q's rows. */
RV_SIMD_CLONES static void output_transform_plane(const float *restrict m, int64_t plane, int64_t H,
                                                  int64_t W, float bias, int relu,
                                                  float *restrict q, float *restrict y)
{
    int64_t TW = (W + 1) / 2, tiles = (H + 1) / 2 * TW;
    output_transform(m, plane, tiles, bias, relu, q);
    for (int64_t oh = 0; oh < H; oh++) {
        const float *qe = q + oh % 2 * 2 * tiles + oh / 2 * TW, *qo = qe + tiles;
        float *yr = y + oh * W;
        for (int64_t k = 0; k < W / 2; k++) {
            yr[2 * k] = qe[k];
            yr[2 * k + 1] = qo[k];
        }
        if (W % 2) yr[W - 1] = qe[W / 2];
    }
}

/* floats between planes: at least n, and 16 floats (a cache line) past a
 * multiple of 1024 (4 KiB) */
static int64_t plane_stride(int64_t n) { return rv_ceil_div(n, 1024) * 1024 + 16; }

rv_status rv_conv2d_winograd(const rv_tensor *x, const rv_tensor *u, const rv_tensor *b, int relu,
                             rv_tensor *y)
{
    int64_t N = x->dim[0], C = x->dim[1], H = x->dim[2], W = x->dim[3], O = u->dim[2];
    if (u->ndim != 3 || u->dim[0] != 16 || u->dim[1] != C || y->dim[1] != O || y->dim[2] != H ||
        y->dim[3] != W)
        return rv_error(RV_EINVAL, "winograd: weights or output do not fit the input");
    rv_cpu_threads_init();
    int64_t TH = (H + 1) / 2, TW = (W + 1) / 2, tiles = TH * TW, rw = 2 * (TW + 1);
    size_t per_image = (size_t)(16 * (C + O) * tiles) * sizeof(float);
    int64_t chunk = (int64_t)(rv_winograd_chunk_bytes / per_image);
    if (chunk < 1) chunk = 1;
    if (chunk > N) chunk = N;
    int64_t nt = rv_cpu_threads(),
            per_thread = split_rows(H) * rw + 4 * tiles; /* split rows, outputs */
    /* The 16 planes of V (and of M) are written and read side by side: their
     * stride is 64 bytes past a multiple of 4 KiB, so they fall in different
     * cache sets (at 64 channels 56x56 the stride was exactly 49 x 4 KiB,
     * and the input transform's stores all fell in one L1 set). */
    int64_t vs = plane_stride(C * chunk * tiles), ms = plane_stride(O * chunk * tiles);
    float *ws = rv_workspace(RV_CPU, (size_t)(16 * (vs + ms) + nt * per_thread) * sizeof(float));
    if (!ws) return RV_ENOMEM;
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        int64_t nc = N - n0 < chunk ? N - n0 : chunk, T = nc * tiles;
        float *V = ws, *M = V + 16 * vs, *scratch = M + 16 * ms;
#pragma omp parallel
        {
#ifdef _OPENMP
            float *rows = scratch + omp_get_thread_num() * per_thread;
#else
            float *rows = scratch;
#endif
            float *orow = rows + split_rows(H) * rw;
#pragma omp for schedule(static)
            for (int64_t nci = 0; nci < nc * C; nci++) { /* V = B^T d B */
                int64_t n = nci / C, c = nci % C;
                input_transform_plane(x->data + (n0 * C + nci) * H * W, H, W, rows,
                                      V + c * T + n * tiles, vs);
            }
#pragma omp for schedule(static)
            for (int xi = 0; xi < 16; xi++) /* M_xi = U_xi V_xi */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)O, (int)T, (int)C, 1.0f,
                            u->data + xi * O * C, (int)O, V + xi * vs, (int)T, 0.0f, M + xi * ms,
                            (int)T);
#pragma omp for schedule(static)
            for (int64_t noi = 0; noi < nc * O; noi++) { /* Y = A^T M A + bias, ReLU */
                int64_t n = noi / O, o = noi % O;
                output_transform_plane(M + o * T + n * tiles, ms, H, W, b ? b->data[o] : 0.0f, relu,
                                       orow, y->data + (n0 * O + noi) * H * W);
            }
        }
    }
    return RV_OK;
}

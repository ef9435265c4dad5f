/* rv_winograd.h - Winograd F(2x2, 3x3) and F(4x4, 3x3) for the stride-1 3x3
 * convs on the CPU.
 *
 * The weights are transformed once (rv_winograd_weights, when a plan is
 * built on the CPU) and handed to rv_conv2d_run in rv_conv_exec.winograd;
 * rv_conv2d_cpu then runs rv_conv2d_winograd for the layers it applies to
 * (3x3, stride 1, padding 1 on every side, one group) and im2col for the
 * others. The products M_xi = U_xi V_xi run on the packed-weights kernel the
 * weights were made for (rv_gemm.h), or on OpenBLAS.
 */
#ifndef RV_WINOGRAD_H
#define RV_WINOGRAD_H

#include "rv_exec.h"
#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The batch runs in chunks of images whose V and M ((m + 2)^2 (C + O) tiles
 * floats) fit in rv_options.winograd_chunk_bytes of workspace, at least one
 * image; 0 (the default) picks by who runs the products. With packed weights (rv_gemm.h)
 * a product costs the same per column however few it has, so chunks stay
 * small, RV_WINOGRAD_PACKED_CHUNK_BYTES: one image of RepVGG-A0 at 224x224,
 * whose V and M then stay in the caches (A0 at batch 8 ran faster than with
 * 16 MiB chunks, docs/performance.md). OpenBLAS packs U_xi anew in every
 * call, so its products must span a few hundred tiles, at
 * RV_WINOGRAD_BLAS_CHUNK_BYTES (a product of one 14x14 image's 49 tiles
 * spent much of its time copying weights). */
#define RV_WINOGRAD_PACKED_CHUNK_BYTES ((size_t)1 << 20)
#define RV_WINOGRAD_BLAS_CHUNK_BYTES ((size_t)16 << 20)
int rv_winograd_applies(const rv_tensor *w, rv_conv_params p);
/* The output tile m (2 or 4) for a batch of n h x w inputs whose products
 * run on kernel k (NULL: OpenBLAS). With the packed-weights kernel
 * (rv_gemm.h), F(4x4) where it needs at most 3/4 of F(2x2)'s multiplications
 * (0.56 at 56x56 and 28x28, 0.73 at 14x14, whose 4x4 tiles cover 16x16): no
 * product packs weights, so fewer products win (docs/performance.md). With
 * OpenBLAS, which packs its 36 matrices of weights anew in every product
 * against F(2x2)'s 16, only where it needs at most 2/3 and its products have
 * at least RV_WINOGRAD_F4_TILES columns. */
#define RV_WINOGRAD_F4_TILES 48
int rv_winograd_tile(int64_t n, int64_t h, int64_t w, const rv_gemm_kernel *k);
/* u = G g G^T of every (O, C, 3, 3) kernel g of w (on the CPU) for F(m x m,
 * 3x3), m = 2 or 4: the (m+2)^2 matrices U_xi (O x C), each packed for
 * kernel k (rv_gemm.h: u is ((m+2)^2, ceil(O / 8), C, 8)), or with k NULL
 * stored transposed for OpenBLAS, which packs that layout faster (u is
 * ((m+2)^2, C, O)). */
rv_status rv_winograd_weights(const rv_tensor *w, int m, const rv_gemm_kernel *k, rv_tensor *u);
/* The m that u was made for: 2 or 4, 0 when u is empty or no such tensor. */
int rv_winograd_tile_of(const rv_tensor *u);
/* y (N, O, H, W) = conv(x, w) + b, ReLU if relu, for u =
 * rv_winograd_weights(w, m, e->gemm): any input size, whichever m u was made
 * for; the chunk budget and the workspace from e (NULL: the defaults). */
rv_status rv_conv2d_winograd(const rv_tensor *x, const rv_tensor *u, const rv_tensor *b, int relu,
                             const rv_conv_exec *e, rv_tensor *y);
/* The workspace rv_conv2d_winograd needs for input shape x and O outputs. */
size_t rv_winograd_workspace_bytes(const int64_t x[4], int64_t O, const rv_tensor *u,
                                   const rv_conv_exec *e);

#ifdef __cplusplus
}
#endif
#endif

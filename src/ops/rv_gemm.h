/* rv_gemm.h - C = A B with A packed once: products whose left matrix is a
 * layer's weights, reused by every call.
 *
 * OpenBLAS packs both operands into its own layout on every call; for a
 * network's weights that is the same work at every forward (13 of
 * RepVGG-A0's layers hold 31 MB of Winograd-domain weights, packed again
 * each time: docs/performance.md). Here A (M x K) is packed when the layer is
 * planned, in panels of RV_GEMM_MR rows, k-major:
 *
 *     panel p, element (k, r) = A[p MR + r][k]      at packed[(p K + k) MR + r]
 *
 * (rows past M are zero), and B (K x N, rows of N floats, any row stride) is
 * read in place: its rows are what the Winograd input transform writes. The
 * micro-kernel keeps an MR x NR block of C in registers and, for each k,
 * loads NR consecutive floats of B's row k as vectors and multiplies them by
 * each of the panel's MR values of column k, broadcast: MR NR / VL fused
 * multiply-adds per k (VL: floats per vector). One kernel for AVX-512 (VL
 * 16, NR 48) and one for AVX2 + FMA (VL 8, two halves of 4 rows, NR 24),
 * chosen by the plan (rv_gemm_kernel_for); a block of at most 8 columns runs
 * with its vectors along the panel's 8 rows instead (when it is B's last
 * block and B is larger than L1, its columns are first copied side by
 * side, so that the panels do not each read them down B). Other CPUs (and
 * RV_GEMM_OPENBLAS) keep OpenBLAS, which stays the reference every test
 * compares with.
 */
#ifndef RV_GEMM_H
#define RV_GEMM_H

#include "rv_exec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_GEMM_MR 8

/* The kernel for choice c (rv_exec.h), into *k: NULL for OpenBLAS (asked
 * for, or AUTO on a CPU with neither kernel); RV_EINVAL naming the kernel
 * when this CPU (or a build with REPVGG_CPU_ISA=avx2) cannot run the one
 * asked for. A kernel is a constant: choosing one changes nothing else. */
rv_status rv_gemm_kernel_for(rv_gemm_choice c, const rv_gemm_kernel **k);

/* The kernel in words ("AVX-512, 8 x 48 blocks"); "OpenBLAS" for NULL: for
 * the benchmarks' records and a plan's description. */
const char *rv_gemm_kernel_name(const rv_gemm_kernel *k);

/* Floats of A (M x K) packed: ceil(M / MR) K MR. */
int64_t rv_gemm_packed_floats(int64_t M, int64_t K);

/* packed (rv_gemm_packed_floats(M, K) floats) = A (M x K) whose element
 * (i, k) is a[i * rs + k * cs]: rs = K, cs = 1 for a row-major A, rs = 1,
 * cs = M for A stored transposed. */
void rv_gemm_pack(const float *a, int64_t rs, int64_t cs, int64_t M, int64_t K, float *packed);

/* Rows [r0, r0 + rows) of C = A B by kernel kern (not NULL), r0 a multiple of
 * RV_GEMM_MR: C row i at
 * c + (i - r0) * ldc, N floats; A (M x K) packed by rv_gemm_pack at packed;
 * B (K x N) row k at b + k * ldb. With accumulate, C += A B; then + bias[i]
 * (bias of M, or NULL) and ReLU when relu, as the conv's epilogue. Needs
 */
void rv_gemm_rows(const rv_gemm_kernel *kern, const float *packed, int64_t K, int64_t r0,
                  int64_t rows, const float *b, int64_t ldb, int64_t N, float *c, int64_t ldc,
                  int accumulate, const float *bias, int relu);

#ifdef __cplusplus
}
#endif
#endif

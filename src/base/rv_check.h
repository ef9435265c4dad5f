/* rv_check.h - the project's one tolerance model.
 *
 * A result a agrees with a reference r when, for every element,
 *     |a - r| <= atol * s + rtol * |r|,   s = max(1, max_i |r_i|),
 * and, over the whole tensor, the relative L2 error
 *     ||a - r||_2 / ||r||_2 <= max_rel_l2.
 * atol is scaled by the tensor's largest magnitude s because the rounding
 * error of a long sum follows the size of its terms, not of its result: an
 * output that cancels to near zero carries the error of the large terms that
 * cancelled (a wide conv, a large BN scale), which a fixed atol would fail.
 * RV_TOL_FP32 is for one float32 rewrite that is exact only in real arithmetic
 * (summation order changes); RV_TOL_EXACT demands bit-equality, for rewrites
 * checked on small-integer data where float arithmetic is exact too;
 * RV_TOL_NET is for whole networks end to end: each block's rounding
 * differences pass through every later block, and a deep network amplifies
 * a perturbation by a little more than it amplifies its signal, block after
 * block (lesson 06 prints the error after every block). Each block alone is
 * still held to RV_TOL_FP32; a real fusion bug (a lost eps, a misplaced tap,
 * a missing branch) is orders of magnitude larger than either.
 * RV_TOL_TF32 is for products whose inputs were cut to TF32 (10 of float32's
 * 23 mantissa bits: up to 2^-10 relative error each when truncated) against
 * FP32: test_conv2d's emulation (inputs truncated, 576-term dot products)
 * prints rel L2 6.8e-4 and a worst |a - r| of 7e-4 s; 3e-3 leaves four times
 * that, and TF32 results lie far outside RV_TOL_FP32.
 * NaN never agrees with anything.
 */
#ifndef RV_CHECK_H
#define RV_CHECK_H

#include <stdio.h>

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double atol, rtol, max_rel_l2;
} rv_tol;

#define RV_TOL_FP32 ((rv_tol){.atol = 1e-5, .rtol = 1e-4, .max_rel_l2 = 1e-5})
#define RV_TOL_EXACT ((rv_tol){.atol = 0.0, .rtol = 0.0, .max_rel_l2 = 0.0})
#define RV_TOL_NET ((rv_tol){.atol = 1e-3, .rtol = 1e-3, .max_rel_l2 = 1e-3})
#define RV_TOL_TF32 ((rv_tol){.atol = 3e-3, .rtol = 3e-3, .max_rel_l2 = 3e-3})

typedef struct {
    int64_t n;        /* elements compared */
    int64_t failures; /* elements outside atol * s + rtol*|r| */
    int64_t worst;    /* index of the largest |a - r| / (atol * s + rtol*|r|) */
    double atol;      /* the absolute bound used: tol.atol * s */
    double max_abs;   /* largest |a - r| */
    double rel_l2;
    int pass;
} rv_cmp;

rv_cmp rv_compare(const float *a, const float *ref, int64_t n, rv_tol tol);

/* One line: "<what>: n values, relative L2 .. (allowed ..), worst at i = ..:
 * a = .., r = .., |a - r| .. (allowed ..) -> ok|FAIL" (worst: the element
 * nearest its bound, or furthest past it; i: its place among the n values
 * compared, from 0, in memory order); on failure also the first few failing
 * pairs, each as "i = ..: a = .., r = ..", under a line that says what i is.
 * a/ref are host arrays. */
void rv_cmp_print(FILE *f, const char *what, const rv_cmp *c, rv_tol tol, const float *a,
                  const float *ref);
/* The same for a comparison that is meant to fail when want_pass is 0 (a
 * lesson showing where a rewrite breaks): its verdict reads "differs, as
 * expected" (or "agrees: NOT as expected"), never FAIL; `what` should say
 * beforehand that a difference is expected. want_pass 1: rv_cmp_print. */
void rv_cmp_print_expecting(FILE *f, const char *what, const rv_cmp *c, rv_tol tol, const float *a,
                            const float *ref, int want_pass);

/* Compares tensors on any device (copied to the host when needed) and prints
 * the rv_cmp_print line; returns 1 when they agree, 0 otherwise (also when
 * the comparison cannot be made, with the reason printed). */
int rv_expect_close(FILE *f, const char *what, const rv_tensor *a, const rv_tensor *ref,
                    rv_tol tol);

#ifdef __cplusplus
}
#endif
#endif

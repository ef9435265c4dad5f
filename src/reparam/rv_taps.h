/* rv_taps.h - where the weights of a folded kernel sit, by the branch that
 * lands there: what lesson 10 and the bench's INT8 experiment look at.
 *
 * RepVGG's fold (lesson 05) puts the identity branch on one tap of each
 * output channel o (the centre of input channel o % (I/g): rv_identity_kernel),
 * the 1x1 branch on every centre tap, and leaves the outer taps to the kxk
 * branch alone; so a folded kernel's weights come in three kinds of size.
 * rv_kernel_tap_stats sums them up by kind, against the INT8 grids of
 * rv_quant.h (one step per kernel, or one per output channel).
 */
#ifndef RV_TAPS_H
#define RV_TAPS_H

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where weight (o, c, r, k) of a folded kernel w (O, I/g, KH, KW) sits: on
 * the identity's tap, on another centre tap (where a 1x1 branch lands), or
 * on an outer tap (the kxk branch's alone). */
typedef enum { RV_TAP_IDENTITY, RV_TAP_CENTRE, RV_TAP_OUTER, RV_TAP_KINDS } rv_tap_kind;
rv_tap_kind rv_tap_kind_of(const rv_tensor *w, int64_t o, int64_t c, int64_t r, int64_t k);

/* One weight of a kernel, as rv_kernel_taps hands it over. */
typedef struct {
    rv_tap_kind kind;
    int64_t o;     /* its output channel */
    int64_t j;     /* its place in that channel, 0 .. I/g*KH*KW - 1 (0: the channel's first) */
    double a;      /* |w| */
    double ch_max; /* max |w| over its output channel */
    double max;    /* max |w| over the kernel */
} rv_tap;

/* Calls visit(ctx, &tap) for every weight of w (O, I/g, KH, KW, on the host),
 * output channel by output channel, in memory order. */
rv_status rv_kernel_taps(const rv_tensor *w, void (*visit)(void *ctx, const rv_tap *tap),
                         void *ctx);

/* Largest |w| and smallest non-zero |w| over a host tensor (INFINITY when
 * every weight is 0). */
void rv_magnitude_range(const rv_tensor *w, double *largest, double *smallest);

/* A folded kernel's taps by kind: how large, and how they fall on the INT8
 * grids. [0] of zero: one grid for the kernel, [1]: one per output channel. */
typedef struct {
    double max[RV_TAP_KINDS], rms[RV_TAP_KINDS]; /* largest |w|, root mean square of |w| */
    double step;           /* the per-kernel grid's: max |W| / 127.5 (rv_quant_scale) */
    double zero[2];        /* share of the outer taps below half a step: they round to 0 */
    double ch_min, ch_med; /* a channel's max |W_o| over the kernel's max |W|: the smallest,
                            * the median over the channels */
} rv_tap_stats;

/* *t = the statistics of w (O, I/g, KH, KW, on the host). */
rv_status rv_kernel_tap_stats(const rv_tensor *w, rv_tap_stats *t);

#ifdef __cplusplus
}
#endif
#endif

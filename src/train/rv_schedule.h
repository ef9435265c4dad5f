/* rv_schedule.h - the learning rate per step: a linear warm-up, then a cosine down to a floor.
 *
 * For step t in [0, total), W = warmup steps, f = warm_start (in [0, 1]):
 *   lr(t) = lr0 * (f + (1 - f) * t / W)                                  t <  W
 *   lr(t) = lr_min + (lr0 - lr_min) * (1 + cos(pi * (t - W) / (total - W))) / 2   t >= W
 * so the warm-up climbs from f * lr0 at t = 0 towards lr0, which step W
 * reaches, and the cosine falls from lr0 at t = W towards lr_min, which it
 * would reach at t = total, one step after the last. Steps at or past total
 * get lr_min. With W = 0 it is the cosine alone.
 *
 * In PyTorch's terms: SequentialLR(LinearLR(start_factor = f, total_iters = W),
 * CosineAnnealingLR(T_max = total - W, eta_min = lr_min), milestones = [W]),
 * stepped once per step (LinearLR needs f > 0; LambdaLR takes any f).
 * tests/torch/check_optim.py checks that, step by step.
 */
#ifndef RV_SCHEDULE_H
#define RV_SCHEDULE_H

#include <stdint.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double lr0;        /* the peak learning rate, > 0 */
    double lr_min;     /* the floor the cosine falls to, in [0, lr0] */
    double warm_start; /* f: the warm-up starts at f * lr0, f in [0, 1] */
    int64_t warmup;    /* W: steps of warm-up, in [0, total) */
    int64_t total;     /* steps of the whole run, > 0 */
} rv_schedule;

/* RV_OK when s is a schedule as above, else RV_EINVAL naming the field. */
rv_status rv_schedule_check(const rv_schedule *s);

/* lr(t) of a schedule rv_schedule_check accepts, in double (t < 0 counts as 0). */
double rv_schedule_lr(const rv_schedule *s, int64_t t);

#ifdef __cplusplus
}
#endif
#endif

/* schedule.c - the warm-up and cosine learning rate of rv_schedule.h, in
 * closed form: PyTorch's schedulers compute the same numbers recursively
 * (each step's lr from the last), which agrees to about 1e-15 relative. */
#include <math.h>

#include "rv_schedule.h"

rv_status rv_schedule_check(const rv_schedule *s)
{
    if (!(s->lr0 > 0.0) || !isfinite(s->lr0))
        return rv_error(RV_EINVAL, "learning-rate schedule: lr0 %g is not a number > 0", s->lr0);
    if (!(s->lr_min >= 0.0 && s->lr_min <= s->lr0))
        return rv_error(RV_EINVAL, "learning-rate schedule: lr_min %g is not in [0, lr0 = %g]",
                        s->lr_min, s->lr0);
    if (!(s->warm_start >= 0.0 && s->warm_start <= 1.0))
        return rv_error(RV_EINVAL, "learning-rate schedule: warm_start %g is not in [0, 1]",
                        s->warm_start);
    if (s->total <= 0)
        return rv_error(RV_EINVAL, "learning-rate schedule: total %lld steps is not > 0",
                        (long long)s->total);
    if (s->warmup < 0 || s->warmup >= s->total)
        return rv_error(RV_EINVAL,
                        "learning-rate schedule: warmup %lld is not in [0, total = %lld)",
                        (long long)s->warmup, (long long)s->total);
    return RV_OK;
}

double rv_schedule_lr(const rv_schedule *s, int64_t t)
{
    const double pi = 3.14159265358979323846;
    if (t < 0) t = 0;
    if (t >= s->total) return s->lr_min;
    if (t < s->warmup)
        return s->lr0 * (s->warm_start + (1.0 - s->warm_start) * (double)t / (double)s->warmup);
    double phase = (double)(t - s->warmup) / (double)(s->total - s->warmup);
    return s->lr_min + (s->lr0 - s->lr_min) * (1.0 + cos(pi * phase)) / 2.0;
}

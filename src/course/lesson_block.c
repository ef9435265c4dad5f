/* lesson_block.c - a block's two forms checked and timed the way lessons 08
 * on print them (rv_lesson.h): one rv_block_pair per check, seeded. */
#include <stdio.h>

#include "rv_check.h"
#include "rv_lesson.h"

int rv_lesson_check_block(const char *what, rv_block_spec spec, rv_device dev, int n, int s,
                          uint64_t seed)
{
    rv_block_pair p;
    int ok = 0;
    if (rv_block_pair_build(&p, spec, dev, n, s, seed) != RV_OK ||
        rv_block_pair_train(&p) != RV_OK || rv_block_pair_fast(&p) != RV_OK)
        printf("  %s: error: %s\n", what, rv_lesson_keep_error());
    else
        ok = rv_expect_close(stdout, what, &p.yf, &p.y, RV_TOL_FP32);
    rv_block_pair_free(&p);
    return ok;
}

void rv_lesson_time_block(const char *name, rv_block_spec spec, rv_device dev, int n, int s,
                          uint64_t seed, int warmup, int repeat)
{
    rv_block_pair l;
    if (rv_block_pair_build(&l, spec, dev, n, s, seed) != RV_OK) {
        rv_lesson_keep_error();
        return;
    }
    char train[64], what[128];
    snprintf(train, sizeof train, "train-time (%d branches)", spec.n_branches);
    /* the middles of 1x1-then-3x3 and 1x1-then-average branches live in the
     * block plan's buffer: activations too */
    size_t middle = rv_tensor_bytes(&l.plan[0].middle);
    rv_lesson_form forms[2] = {
        {.name = train, .fn = rv_block_pair_train, .ctx = &l, .activations = l.held[0] + middle},
        {.name = "deploy-time (1 conv)",
         .fn = rv_block_pair_fast,
         .ctx = &l,
         .activations = l.held[1]},
    };
    snprintf(what, sizeof what, "%s, %lld -> %lld channels, stride %d, %dx%lldx%dx%d input", name,
             (long long)spec.in_ch, (long long)spec.out_ch, spec.stride, n, (long long)spec.in_ch,
             s, s);
    rv_lesson_compare(dev, what, forms, warmup, repeat,
                      middle ? "memory = activations (the output and branch buffers the form "
                               "keeps between calls, with\n"
                               "         the middles of the 1x1-then-3x3 and "
                               "1x1-then-average branches, padded)\n"
                               "       + scratch (what one call allocates while it runs: the "
                               "im2col or Winograd\n"
                               "         workspace); the input and the weights are not counted."
                             : NULL,
                      NULL);
    rv_block_pair_free(&l);
}

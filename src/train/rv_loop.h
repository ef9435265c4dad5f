/* rv_loop.h - the training loop: epochs of shuffled, augmented batches, each a
 * forward, a backward and an SGD step; and the test accuracy of a net.
 *
 * One epoch of rv_loop_epoch:
 *   perm = rv_shuffle(shuffle stream, n)            a fresh order of the n images
 *   for each of the n / batch full batches (the last partial batch is left
 *   out: the training plan is built for one batch shape):
 *     x, labels = rv_batch_fill(perm[s*B .. s*B+B))   normalised images
 *     x' = rv_augment_apply(x, draws from the augmentation stream)
 *     loss = rv_train_forward(x', labels); rv_train_backward
 *     rv_sgd_step(lr = rv_schedule_lr(global step))
 * and it returns the epoch's mean loss and training accuracy (of the
 * augmented batches, measured by the training forward's own logits).
 *
 * The optimizer is the usual recipe: SGD, Nesterov momentum 0.9, weight
 * decay 5e-4 on conv and linear weights only (not on BN's gamma and beta,
 * nor on biases), a linear warm-up over the first 5 % of the steps from
 * 0.1 lr then a cosine to 0. Augmentation: a random crop from a 2-pixel
 * border and a horizontal flip; the border is the normalised black pixel
 * -mean / std, since Fashion-MNIST's background is black and PyTorch's
 * RandomCrop pads the raw image with zeros (0 after normalising would be a
 * grey frame the test images never have).
 *
 * Bit for bit reproducible from the seed at a fixed thread count: the
 * shuffle and the augmentation draw from two rv_rng streams derived from
 * the seed (loop.c says how, apart from the weights' stream), and every op
 * sums in a fixed order for a given thread count.
 *
 * Evaluation (rv_loop_evaluate) runs an inference plan (rv_plan.h), so a
 * train-time net's BNs normalise with their running statistics: it first
 * prepares every BN (rv_bn_prepare), whose scale and shift the training
 * steps left stale. A deploy-time net (rv_net_switch_to_fast) has none.
 *
 *     rv_loop l;
 *     rv_loop_init(&l, &net, &train, mean, std, &(rv_loop_config){.batch = 128, ...});
 *     for (e = 0; e < epochs; e++) rv_loop_epoch(&l, progress, ctx, &stats);
 *     rv_loop_evaluate(&net, &test, mean, std, &eval);
 *     rv_loop_free(&l);
 */
#ifndef RV_LOOP_H
#define RV_LOOP_H

#include "rv_augment.h"
#include "rv_batch.h"
#include "rv_sgd.h"
#include "rv_schedule.h"
#include "rv_train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t batch;  /* images per step, >= 1 and <= the images used */
    int epochs;     /* >= 1: the schedule spans them all */
    uint64_t seed;  /* names the shuffle and the augmentation */
    double lr;      /* the peak learning rate, > 0: 0.1 */
    int64_t limit;  /* train on the first `limit` images only; 0: all of them */
    int augment;    /* 1: crop and flip (the default recipe); 0: the images as they are */
} rv_loop_config;

typedef struct {
    double loss;      /* mean over the epoch's steps of each batch's mean loss */
    double accuracy;  /* fraction of the epoch's images classified right, in [0, 1] */
} rv_epoch_stats;

/* Called after every step: epoch (0-based), step within it (1-based) of
 * steps, that step's loss, the epoch's running accuracy, the lr used. */
typedef void (*rv_loop_progress)(void *ctx, int epoch, int64_t step, int64_t steps, double loss,
                                 double accuracy, double lr);

typedef struct {
    rv_loop_config cfg;
    rv_net *net;
    const rv_fashion *data;
    double mean, std;
    int64_t n, steps_per_epoch, step; /* images used, steps per epoch, steps taken */
    int epoch;                        /* epochs done */
    rv_train_plan plan;
    rv_train_param *params; /* plan.n_params */
    rv_sgd_param *sgd;      /* plan.n_params, their momentum buffers in bufs */
    rv_tensor *bufs;
    rv_sgd opt;
    rv_schedule schedule;
    rv_augment_params aug;
    rv_rng shuffle_rng, augment_rng;
    int64_t *perm;           /* n */
    rv_tensor x, xa;         /* the batch, and its augmented copy (B, 1, 28, 28) */
    int32_t *labels;         /* B */
    rv_augment_draw *draws;  /* B */
} rv_loop;

/* A loop training net (train-time, with a head of 10 classes, on the CPU)
 * on data normalised with mean and std. RV_EINVAL names a bad setting. */
rv_status rv_loop_init(rv_loop *l, rv_net *net, const rv_fashion *data, double mean, double std,
                       const rv_loop_config *cfg);
/* One epoch as above; progress may be NULL. */
rv_status rv_loop_epoch(rv_loop *l, rv_loop_progress progress, void *ctx, rv_epoch_stats *out);
void rv_loop_free(rv_loop *l);

typedef struct {
    int64_t count, correct;
    int64_t confusion[RV_FASHION_CLASSES][RV_FASHION_CLASSES]; /* [true][predicted] */
    int32_t *predicted; /* count, from malloc: each image's class (free it) */
} rv_eval;

/* Classifies the first `limit` images of data (0: all) with net, train-time
 * (its BNs prepared first, hence not const) or deploy-time, on the CPU. */
rv_status rv_loop_evaluate(rv_net *net, const rv_fashion *data, double mean, double std,
                           int64_t limit, rv_eval *out);
/* The name of class k of Fashion-MNIST ("T-shirt/top", ..., "Ankle boot"). */
const char *rv_fashion_class_name(int k);

#ifdef __cplusplus
}
#endif
#endif

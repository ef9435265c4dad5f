/* loop.c - the training loop and the test accuracy (rv_loop.h). */
#include <stdlib.h>
#include <string.h>

#include "rv_loop.h"
#include "rv_plan.h"

/* The recipe's constants (rv_loop.h says why). */
#define LOOP_MOMENTUM 0.9f
#define LOOP_WEIGHT_DECAY 5e-4f
#define LOOP_WARMUP_FRACTION 0.05
#define LOOP_WARM_START 0.1
#define LOOP_PAD 2
/* Test images per inference forward: enough for the GEMMs to be efficient,
 * small enough for the plan's buffers to stay a few MB. */
#define EVAL_BATCH 250

static const char *const class_names[RV_FASHION_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

const char *rv_fashion_class_name(int k)
{
    return k >= 0 && k < RV_FASHION_CLASSES ? class_names[k] : "?";
}

/* The index of the largest of v[0..n): the predicted class (the first of ties). */
static int argmax(const float *v, int64_t n)
{
    int best = 0;
    for (int64_t k = 1; k < n; k++)
        if (v[k] > v[best]) best = (int)k;
    return best;
}

rv_status rv_loop_init(rv_loop *l, rv_net *net, const rv_fashion *data, double mean, double std,
                       const rv_loop_config *cfg)
{
    memset(l, 0, sizeof *l);
    int64_t n = cfg->limit > 0 && cfg->limit < data->count ? cfg->limit : data->count;
    if (cfg->batch < 1 || cfg->batch > n)
        return rv_error(RV_EINVAL, "--batch: %lld images per step, but %lld images to train on",
                        (long long)cfg->batch, (long long)n);
    if (cfg->epochs < 1) return rv_error(RV_EINVAL, "--epochs: at least 1");
    if (!(cfg->lr > 0)) return rv_error(RV_EINVAL, "--lr: the learning rate must be > 0");
    l->cfg = *cfg;
    l->net = net;
    l->data = data;
    l->mean = mean;
    l->std = std;
    l->n = n;
    l->steps_per_epoch = n / cfg->batch;
    int64_t total = l->steps_per_epoch * cfg->epochs;
    l->opt = (rv_sgd){.momentum = LOOP_MOMENTUM, .weight_decay = LOOP_WEIGHT_DECAY, .nesterov = 1};
    l->schedule = (rv_schedule){.lr0 = cfg->lr,
                                .lr_min = 0,
                                .warm_start = LOOP_WARM_START,
                                .warmup = (int64_t)(total * LOOP_WARMUP_FRACTION),
                                .total = total};
    l->aug = (rv_augment_params){.pad = cfg->augment ? LOOP_PAD : 0,
                                 .flip = cfg->augment,
                                 .fill = (float)(-mean / std)};
    /* Two streams from one seed, started at the first two numbers of the
     * seed's own stream: splitmix64 states far apart, so neither repeats the
     * other's numbers, nor those of a stream seeded with the seed itself (the
     * weights', in `repvgg train`). Seeds s and s ^ c would not do: at s = 0
     * and c = splitmix's increment one stream is the other one step on. */
    rv_rng root = rv_rng_seed(cfg->seed);
    l->shuffle_rng = rv_rng_seed(rv_rng_next(&root));
    l->augment_rng = rv_rng_seed(rv_rng_next(&root));
    rv_status st = rv_schedule_check(&l->schedule);
    const int64_t shape[4] = {cfg->batch, 1, RV_FASHION_SIZE, RV_FASHION_SIZE};
    if (st == RV_OK) st = rv_train_plan_build(&l->plan, net, shape);
    if (st != RV_OK) return st;
    int np = l->plan.n_params;
    l->params = calloc((size_t)np, sizeof *l->params);
    l->sgd = calloc((size_t)np, sizeof *l->sgd);
    l->bufs = calloc((size_t)np, sizeof *l->bufs);
    l->perm = malloc((size_t)n * sizeof *l->perm);
    l->labels = malloc((size_t)cfg->batch * sizeof *l->labels);
    l->draws = malloc((size_t)cfg->batch * sizeof *l->draws);
    if (!l->params || !l->sgd || !l->bufs || !l->perm || !l->labels || !l->draws)
        st = rv_error(RV_ENOMEM, "training loop: out of memory");
    if (st == RV_OK) st = rv_train_params(&l->plan, net, l->params);
    for (int i = 0; st == RV_OK && i < np; i++) {
        st = rv_tensor_alloc(&l->bufs[i], RV_CPU, l->params[i].param->ndim,
                             l->params[i].param->dim, "momentum buffer");
        l->sgd[i] = (rv_sgd_param){.name = l->params[i].name,
                                   .param = l->params[i].param,
                                   .grad = l->params[i].grad,
                                   .buf = &l->bufs[i],
                                   .decay = l->params[i].kind == RV_PARAM_WEIGHT};
    }
    if (st == RV_OK) st = rv_tensor_alloc(&l->x, RV_CPU, 4, shape, "batch");
    if (st == RV_OK) st = rv_tensor_alloc(&l->xa, RV_CPU, 4, shape, "augmented batch");
    if (st != RV_OK) rv_loop_free(l);
    return st;
}

rv_status rv_loop_epoch(rv_loop *l, rv_loop_progress progress, void *ctx, rv_epoch_stats *out)
{
    const int64_t B = l->cfg.batch, classes = l->plan.classes;
    rv_status st = rv_shuffle(&l->shuffle_rng, l->n, l->perm);
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t s = 0; st == RV_OK && s < l->steps_per_epoch; s++) {
        double loss, lr = rv_schedule_lr(&l->schedule, l->step);
        st = rv_batch_fill(l->data, l->perm + s * B, l->mean, l->std, &l->x, l->labels);
        if (st == RV_OK) st = rv_augment_draws(&l->augment_rng, &l->aug, B, l->draws);
        if (st == RV_OK) st = rv_augment_apply(&l->x, l->draws, &l->aug, &l->xa);
        if (st == RV_OK) st = rv_train_forward(&l->plan, l->net, &l->xa, l->labels, &loss);
        if (st == RV_OK) st = rv_train_backward(&l->plan);
        if (st == RV_OK) st = rv_sgd_step(&l->opt, (float)lr, l->sgd, l->plan.n_params);
        if (st != RV_OK) break;
        for (int64_t i = 0; i < B; i++)
            correct += argmax(l->plan.logits.data + i * classes, classes) == l->labels[i];
        loss_sum += loss;
        l->step++;
        if (progress)
            progress(ctx, l->epoch, s + 1, l->steps_per_epoch, loss,
                     (double)correct / (double)((s + 1) * B), lr);
    }
    if (st != RV_OK) return st;
    l->epoch++;
    out->loss = loss_sum / (double)l->steps_per_epoch;
    out->accuracy = (double)correct / (double)(l->steps_per_epoch * B);
    return RV_OK;
}

void rv_loop_free(rv_loop *l)
{
    for (int i = 0; l->bufs && i < l->plan.n_params; i++) rv_tensor_free(&l->bufs[i]);
    rv_train_plan_free(&l->plan);
    free(l->params);
    free(l->sgd);
    free(l->bufs);
    free(l->perm);
    free(l->labels);
    free(l->draws);
    rv_tensor_free(&l->x);
    rv_tensor_free(&l->xa);
    memset(l, 0, sizeof *l);
}

/* Every BN's scale and shift from its current statistics (a deploy-time
 * block has none). */
static rv_status prepare_bns(rv_net *net)
{
    rv_status st = RV_OK;
    for (int b = 0; st == RV_OK && b < net->n_blocks; b++) {
        rv_block *blk = &net->blocks[b];
        for (int i = 0; st == RV_OK && i < blk->spec.n_branches; i++) {
            if (blk->spec.branch[i].bn) st = rv_bn_prepare(&blk->branch[i].bn, RV_CPU);
            if (st == RV_OK && blk->branch[i].bn1.gamma.data)
                st = rv_bn_prepare(&blk->branch[i].bn1, RV_CPU);
        }
        if (st == RV_OK && blk->spec.post_bn) st = rv_bn_prepare(&blk->post, RV_CPU);
    }
    return st;
}

rv_status rv_loop_evaluate(rv_net *net, const rv_fashion *data, double mean, double std,
                           int64_t limit, rv_eval *out)
{
    memset(out, 0, sizeof *out);
    if (!net->head_w.data || net->head_w.dim[0] != RV_FASHION_CLASSES)
        return rv_error(RV_EFORMAT, "evaluation: the net needs a linear head of %d classes",
                        RV_FASHION_CLASSES);
    int64_t n = limit > 0 && limit < data->count ? limit : data->count;
    rv_status st = prepare_bns(net);
    rv_plan plan = {0};
    rv_tensor x = {0}, y = {0};
    int64_t planned = 0; /* the plan's batch; a last, smaller batch gets a plan of its own */
    out->predicted = malloc((size_t)n * sizeof *out->predicted);
    if (st == RV_OK && !out->predicted) st = rv_error(RV_ENOMEM, "evaluation: out of memory");
    for (int64_t first = 0; st == RV_OK && first < n; first += planned) {
        int64_t b = n - first < EVAL_BATCH ? n - first : EVAL_BATCH;
        if (b != planned) {
            rv_plan_free(&plan);
            rv_tensor_free(&x);
            rv_tensor_free(&y);
            planned = b;
            st = rv_plan_build(&plan, net, (const int64_t[4]){b, 1, 28, 28}, RV_CPU, NULL);
            if (st == RV_OK) st = rv_tensor_alloc4(&x, RV_CPU, b, 1, 28, 28, "test images");
            if (st == RV_OK)
                st = rv_tensor_alloc(&y, RV_CPU, 2, (const int64_t[]){b, RV_FASHION_CLASSES},
                                     "logits");
        }
        if (st == RV_OK) st = rv_fashion_images(data, first, mean, std, &x);
        if (st == RV_OK) st = rv_plan_forward(&plan, &x, &y);
        for (int64_t i = 0; st == RV_OK && i < b; i++) {
            int k = argmax(y.data + i * RV_FASHION_CLASSES, RV_FASHION_CLASSES);
            int t = data->labels[first + i];
            out->predicted[first + i] = k;
            out->confusion[t][k]++;
            out->correct += k == t;
        }
    }
    rv_plan_free(&plan);
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    if (st != RV_OK) {
        free(out->predicted);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->count = n;
    return RV_OK;
}

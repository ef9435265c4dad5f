/* test_quant_net.c - blocks and networks simulated in INT8 (rv_quant_net.h)
 * and QARepVGG's block, against their definitions.
 *
 * The expectations are rebuilt here from the ops the module is made of
 * (rv_branch_kernel, rv_fuse_conv_bn, rv_fake_quant_*, rv_block_forward), on
 * small blocks with seeded weights and BN statistics:
 *   - QARepVGG's spec is RepVGG's list with the 1x1's and the identity's BN
 *     gone and a BN after the sum (two branches at stride 2), and it folds;
 *   - a quantized deploy-time block holds fake_quant(W) bit for bit, per
 *     tensor and per output channel, and the float bias; a quantized
 *     train-time block holds each conv branch's BN-folded kernel quantized
 *     on its own grid, the folded BN shift as its bias, and the identity's BN
 *     and the BN after the sum unchanged;
 *   - calibrated input scales are the largest |x| each block's input took
 *     over the batches, / 127.5;
 *   - per-block errors: the first block's chain equals its alone; each
 *     block's alone and chain equal what running the blocks by hand gives
 *     (which input is quantized where), its weights error the folded kernels';
 *   - the QARepVGG twin keeps RepVGG's kernels and the 3x3's BN;
 *   - rv_quant_nets_build is deterministic in its seed;
 *   - what is refused: other branch kinds, an unknown grain, a net that is
 *     not RepVGG's, no calibration batch.
 */
#include <stdlib.h>
#include <string.h>

#include "rv_quant_net.h"
#include "rv_reparam.h"
#include "rv_test.h"

/* A block of spec with seeded weights and BN statistics on dev. */
static void random_block(rv_block *b, rv_block_spec spec, uint64_t seed, rv_device dev)
{
    rv_rng r = rv_rng_seed(seed);
    CHECK_OK(rv_block_init_random(b, spec, &r, dev));
}

/* A tensor of shape dim, uniform in [lo, hi), on dev. */
static void random_tensor(rv_tensor *t, int ndim, const int64_t *dim, float lo, float hi,
                          uint64_t seed, rv_device dev)
{
    rv_rng r = rv_rng_seed(seed);
    CHECK_OK(rv_tensor_random(t, dev, ndim, dim, &r, lo, hi, "random"));
}

/* host copy of t */
static rv_tensor host(const rv_tensor *t)
{
    rv_tensor h = {0};
    CHECK_OK(rv_tensor_clone(&h, t, RV_CPU, "host copy"));
    return h;
}

/* w quantized in place as the module should: per tensor or per channel */
static void expect_quant(rv_tensor *w, rv_quant_grain g)
{
    if (g == RV_QUANT_PER_TENSOR) {
        float s = 0.0f;
        CHECK_OK(rv_quant_tensor_scale(w, &s));
        CHECK_OK(rv_fake_quant_tensor(w, s, w));
        return;
    }
    rv_tensor s = {0};
    CHECK_OK(rv_tensor_alloc1(&s, RV_CPU, w->dim[0], "scales"));
    CHECK_OK(rv_quant_channel_scales(w, &s));
    CHECK_OK(rv_fake_quant_channel(w, &s, w));
    rv_tensor_free(&s);
}

static int bn_equal(const rv_bn *a, const rv_bn *b)
{
    const rv_tensor *x[4] = {&a->gamma, &a->beta, &a->mean, &a->var};
    const rv_tensor *y[4] = {&b->gamma, &b->beta, &b->mean, &b->var};
    int same = a->channels == b->channels && a->eps == b->eps;
    for (int k = 0; k < 4 && same; k++)
        same = memcmp(x[k]->data, y[k]->data, (size_t)a->channels * sizeof(float)) == 0;
    return same;
}

static void test_qarepvgg_spec(rv_device dev)
{
    rv_block_spec s = {0}, r = {0};
    CHECK_OK(rv_qarepvgg_block_spec(8, 8, 1, 1, &s));
    CHECK_OK(rv_repvgg_block_spec(8, 8, 1, 1, &r));
    CHECK(s.n_branches == 3 && s.post_bn == 1,
          "QARepVGG 8->8 s1: 3 branches and a BN after the sum");
    CHECK(s.branch[0].kind == RV_BRANCH_CONV && s.branch[0].kh == 3 && s.branch[0].bn == 1,
          "QARepVGG: the 3x3 keeps its BN");
    CHECK(s.branch[1].kind == RV_BRANCH_CONV && s.branch[1].kh == 1 && s.branch[1].bn == 0,
          "QARepVGG: the 1x1 has no BN");
    CHECK(s.branch[2].kind == RV_BRANCH_IDENTITY && s.branch[2].bn == 0,
          "QARepVGG: the identity has no BN");
    CHECK(r.post_bn == 0 && r.branch[1].bn == 1 && r.branch[2].bn == 1,
          "RepVGG's block is unchanged");
    rv_block_spec s2 = {0};
    CHECK_OK(rv_qarepvgg_block_spec(8, 16, 2, 1, &s2));
    CHECK(s2.n_branches == 2 && s2.post_bn == 1, "QARepVGG 8->16 s2: no identity, post BN");
    rv_block_pair p = {0};
    CHECK_OK(rv_block_pair_build(&p, s, dev, 2, 7, 21));
    CHECK_OK(rv_block_pair_train(&p));
    CHECK_OK(rv_block_pair_fast(&p));
    CHECK_CLOSE("QARepVGG 8->8 s1 folded against its branches", &p.yf, &p.y, RV_TOL_FP32);
    rv_block_pair_free(&p);
}

/* The quantized deploy-time block: fake_quant(W), bias unchanged. */
static void test_deploy_block(rv_device dev)
{
    rv_block_spec spec = {0};
    CHECK_OK(rv_repvgg_block_spec(6, 6, 1, 1, &spec));
    rv_block train = {0}, fast = {0};
    random_block(&train, spec, 31, dev);
    CHECK_OK(rv_block_switch_to_fast(&train, &fast));
    for (int g = RV_QUANT_PER_TENSOR; g <= RV_QUANT_PER_CHANNEL; g++) {
        rv_block q = {0};
        CHECK_OK(rv_block_fake_quant(&fast, (rv_quant_grain)g, &q));
        CHECK(rv_block_is_fused(&q.spec), "a quantized deploy-time block is deploy-time");
        rv_tensor w = host(&fast.branch[0].w), b = host(&fast.branch[0].b);
        rv_tensor qw = host(&q.branch[0].w), qb = host(&q.branch[0].b);
        expect_quant(&w, (rv_quant_grain)g);
        CHECK_CLOSE(g == RV_QUANT_PER_TENSOR ? "deploy kernel, per tensor: fake_quant(W)"
                                             : "deploy kernel, per channel: fake_quant(W)",
                    &qw, &w, RV_TOL_EXACT);
        CHECK_CLOSE("deploy bias unchanged", &qb, &b, RV_TOL_EXACT);
        rv_tensor *all[4] = {&w, &b, &qw, &qb};
        for (int k = 0; k < 4; k++) rv_tensor_free(all[k]);
        rv_block_free(&q);
    }
    rv_block_free(&train);
    rv_block_free(&fast);
}

/* The quantized train-time blocks of RepVGG and QARepVGG. */
static void test_train_block(rv_device dev)
{
    for (int qa = 0; qa < 2; qa++) {
        rv_block_spec spec = {0};
        CHECK_OK(qa ? rv_qarepvgg_block_spec(6, 6, 1, 1, &spec)
                    : rv_repvgg_block_spec(6, 6, 1, 1, &spec));
        rv_block b = {0}, q = {0};
        random_block(&b, spec, 41 + qa, dev);
        CHECK_OK(rv_block_fake_quant(&b, RV_QUANT_PER_CHANNEL, &q));
        CHECK(q.spec.n_branches == 3 && q.spec.post_bn == spec.post_bn,
              "train-time quantized: the same list, the post-sum BN kept");
        for (int i = 0; i < 2; i++) {
            CHECK(q.spec.branch[i].kind == RV_BRANCH_CONV && q.spec.branch[i].bias &&
                      !q.spec.branch[i].bn,
                  "branch %d: a conv with bias and no BN", i);
            rv_tensor w = {0}, bias = {0};
            CHECK_OK(rv_branch_kernel_fused(&b, i, &w, &bias));
            expect_quant(&w, RV_QUANT_PER_CHANNEL);
            rv_tensor qw = host(&q.branch[i].w), qb = host(&q.branch[i].b);
            CHECK_CLOSE(i ? "1x1 branch: its BN-folded kernel quantized per channel"
                          : "3x3 branch: its BN-folded kernel quantized per channel",
                        &qw, &w, RV_TOL_EXACT);
            CHECK_CLOSE("its bias: the BN's shift", &qb, &bias, RV_TOL_EXACT);
            rv_tensor *all[4] = {&w, &bias, &qw, &qb};
            for (int k = 0; k < 4; k++) rv_tensor_free(all[k]);
        }
        CHECK(q.spec.branch[2].kind == RV_BRANCH_IDENTITY &&
                  q.spec.branch[2].bn == spec.branch[2].bn,
              "the identity branch kept");
        if (spec.branch[2].bn)
            CHECK(bn_equal(&q.branch[2].bn, &b.branch[2].bn), "the identity's BN unchanged");
        if (spec.post_bn) CHECK(bn_equal(&q.post, &b.post), "the BN after the sum unchanged");
        rv_block_free(&b);
        rv_block_free(&q);
    }
}

static void test_refused(rv_device dev)
{
    const rv_branch_spec pool[2] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1},
        {.kind = RV_BRANCH_AVGPOOL, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1}};
    rv_block b = {0}, q = {0};
    random_block(&b, rv_block_spec_list(4, 4, 1, 1, 3, 2, pool), 51, dev);
    CHECK(rv_block_fake_quant(&b, RV_QUANT_PER_TENSOR, &q) == RV_EINVAL &&
              strstr(rv_last_error(), "branch 1"),
          "an average-pool branch is refused, by number: %s", rv_last_error());
    CHECK(rv_block_fake_quant(&b, (rv_quant_grain)0, &q) == RV_EINVAL, "grain 0 is refused");
    rv_net net = {0}, qa = {0};
    rv_rng r = rv_rng_seed(52);
    const rv_block_spec acnet = rv_acnet_block_spec(4, 4, 1, 1);
    CHECK_OK(rv_net_init_random(&net, &acnet, 1, 0, &r, dev));
    CHECK(rv_net_to_qarepvgg(&net, &r, &qa) == RV_EINVAL &&
              strstr(rv_last_error(), "not RepVGG's block"),
          "a net of ACNet blocks has no QARepVGG twin: %s", rv_last_error());
    float scales[1];
    CHECK(rv_net_calibrate_inputs(&net, NULL, 0, scales) == RV_EINVAL, "no calibration batch");
    rv_net_free(&net);
    rv_block_free(&b);
}

/* y = block b on x, allocated here */
static void run(const rv_block *b, const rv_tensor *x, rv_tensor *y)
{
    int64_t shape[4];
    rv_tensor tmp = {0};
    CHECK_OK(rv_block_out_shape(&b->spec, x, shape));
    CHECK_OK(rv_tensor_alloc(y, x->device, 4, shape, "y"));
    CHECK_OK(rv_tensor_alloc(&tmp, x->device, 4, shape, "tmp"));
    CHECK_OK(rv_block_forward(b, x, &tmp, y));
    rv_tensor_free(&tmp);
}

/* y = fake_quant(x, s), allocated here */
static void quant(const rv_tensor *x, float s, rv_tensor *y)
{
    CHECK_OK(rv_tensor_alloc(y, x->device, 4, x->dim, "quantized"));
    CHECK_OK(rv_fake_quant_tensor(x, s, y));
}

/* the INT8 scale of max |t| */
static float scale_of(const rv_tensor *t)
{
    float s = 0.0f;
    CHECK_OK(rv_quant_tensor_scale(t, &s));
    return s;
}

static int same_err(rv_quant_err a, rv_quant_err b)
{
    return a.sqnr_db == b.sqnr_db && a.rel_l2 == b.rel_l2;
}

/* Two blocks, two calibration batches: the scales and the errors by hand. */
static void test_net(rv_device dev)
{
    rv_block_spec specs[2] = {{0}};
    CHECK_OK(rv_repvgg_block_spec(3, 4, 2, 1, &specs[0]));
    CHECK_OK(rv_repvgg_block_spec(4, 4, 1, 1, &specs[1]));
    rv_net net = {0};
    rv_rng r = rv_rng_seed(61);
    CHECK_OK(rv_net_init_random(&net, specs, 2, 0, &r, dev));
    const int64_t dim[4] = {2, 3, 9, 9};
    rv_tensor cal[2] = {{0}}, x = {0}, h[2] = {{0}};
    for (int k = 0; k < 2; k++) random_tensor(&cal[k], 4, dim, -1.0f, 1.0f, 62 + k, dev);
    random_tensor(&x, 4, dim, -1.0f, 1.0f, 64, dev);
    float scales[2] = {0};
    CHECK_OK(rv_net_calibrate_inputs(&net, cal, 2, scales));
    for (int k = 0; k < 2; k++) run(&net.blocks[0], &cal[k], &h[k]);
    /* the scale of max |x| over both batches: the larger batch's own scale */
    float s0 = fmaxf(scale_of(&cal[0]), scale_of(&cal[1])),
          s1 = fmaxf(scale_of(&h[0]), scale_of(&h[1]));
    CHECK(scales[0] == s0 && scales[1] == s1, "input scales %g %g, expected %g %g", scales[0],
          scales[1], s0, s1);

    for (int g = RV_QUANT_PER_TENSOR; g <= RV_QUANT_PER_CHANNEL; g++) {
        rv_quant_block_err e[2];
        CHECK_OK(rv_net_quant_error(&net, scales, (rv_quant_grain)g, &x, e));
        CHECK(same_err(e[0].alone, e[0].chain), "block 0: chain = alone (same input)");
        rv_block q[2];
        memset(q, 0, sizeof q);
        for (int i = 0; i < 2; i++)
            CHECK_OK(rv_block_fake_quant(&net.blocks[i], (rv_quant_grain)g, &q[i]));
        rv_tensor f0 = {0}, f1 = {0}, x0 = {0}, a0 = {0}, in1 = {0}, a1 = {0}, c1 = {0}, qa0 = {0};
        run(&net.blocks[0], &x, &f0); /* float */
        run(&net.blocks[1], &f0, &f1);
        quant(&x, scales[0], &x0); /* INT8 chain */
        run(&q[0], &x0, &a0);
        quant(&f0, scales[1], &in1); /* block 1 alone: the float input quantized */
        run(&q[1], &in1, &a1);
        quant(&a0, scales[1], &qa0); /* block 1 in the chain */
        run(&q[1], &qa0, &c1);
        rv_quant_err want[3];
        CHECK_OK(rv_quant_error(&a0, &f0, &want[0]));
        CHECK_OK(rv_quant_error(&a1, &f1, &want[1]));
        CHECK_OK(rv_quant_error(&c1, &f1, &want[2]));
        CHECK(same_err(e[0].alone, want[0]), "block 0 alone: %g dB, by hand %g dB",
              e[0].alone.sqnr_db, want[0].sqnr_db);
        CHECK(same_err(e[1].alone, want[1]), "block 1 alone: %g dB, by hand %g dB",
              e[1].alone.sqnr_db, want[1].sqnr_db);
        CHECK(same_err(e[1].chain, want[2]), "block 1 in the chain: %g dB, by hand %g dB",
              e[1].chain.sqnr_db, want[2].sqnr_db);
        CHECK(!same_err(e[1].alone, e[1].chain), "block 1: the chain's input differs from alone");
        rv_block ff = {0}, fq = {0};
        CHECK_OK(rv_block_switch_to_fast(&net.blocks[1], &ff));
        CHECK_OK(rv_block_switch_to_fast(&q[1], &fq));
        rv_quant_err w;
        CHECK_OK(rv_quant_error(&fq.branch[0].w, &ff.branch[0].w, &w));
        CHECK(same_err(e[1].weights, w), "block 1 weights: %g dB, folded by hand %g dB",
              e[1].weights.sqnr_db, w.sqnr_db);
        rv_block_free(&ff);
        rv_block_free(&fq);
        rv_tensor *all[8] = {&f0, &f1, &x0, &a0, &in1, &a1, &c1, &qa0};
        for (int k = 0; k < 8; k++) rv_tensor_free(all[k]);
        for (int i = 0; i < 2; i++) rv_block_free(&q[i]);
    }

    rv_net qa = {0};
    CHECK_OK(rv_net_to_qarepvgg(&net, &r, &qa));
    for (int i = 0; i < 2 && qa.n_blocks == 2; i++) {
        rv_block_spec want = {0};
        CHECK_OK(
            rv_qarepvgg_block_spec(specs[i].in_ch, specs[i].out_ch, specs[i].stride, 1, &want));
        CHECK(qa.blocks[i].spec.n_branches == want.n_branches && qa.blocks[i].spec.post_bn,
              "twin block %d: QARepVGG's list", i);
        for (int k = 0; k < 2; k++) {
            rv_tensor a = host(&qa.blocks[i].branch[k].w), b = host(&net.blocks[i].branch[k].w);
            CHECK_CLOSE("twin: the same kernel", &a, &b, RV_TOL_EXACT);
            rv_tensor_free(&a);
            rv_tensor_free(&b);
        }
        CHECK(bn_equal(&qa.blocks[i].branch[0].bn, &net.blocks[i].branch[0].bn),
              "twin block %d: the 3x3's BN", i);
    }
    rv_net_free(&qa);
    for (int k = 0; k < 2; k++) {
        rv_tensor_free(&cal[k]);
        rv_tensor_free(&h[k]);
    }
    rv_tensor_free(&x);
    rv_net_free(&net);
}

static void test_build(rv_device dev)
{
    rv_block_spec specs[2] = {{0}};
    CHECK_OK(rv_repvgg_block_spec(3, 8, 2, 1, &specs[0]));
    CHECK_OK(rv_repvgg_block_spec(8, 8, 1, 1, &specs[1]));
    rv_quant_nets *q = calloc(2, sizeof *q);
    if (!q) return;
    for (int k = 0; k < 2; k++) CHECK_OK(rv_quant_nets_build(&q[k], specs, 2, dev, 1, 16, 2, 7));
    CHECK(memcmp(q[0].err, q[1].err, sizeof q[0].err) == 0 &&
              memcmp(q[0].scales, q[1].scales, sizeof q[0].scales) == 0,
          "one seed, one result");
    int finite = 1;
    for (int n = 0; n < 2; n++)
        for (int f = 0; f < 2; f++)
            for (int g = 0; g < 2; g++)
                for (int i = 0; i < 2; i++) finite &= isfinite(q[0].err[n][f][g][i].chain.sqnr_db);
    CHECK(finite, "every error finite");
    for (int k = 0; k < 2; k++) rv_quant_nets_free(&q[k]);
    CHECK(rv_quant_nets_build(&q[0], specs, 2, dev, 1, 16, RV_QUANT_MAX_CALIB + 1, 7) == RV_EINVAL,
          "too many calibration batches refused");
    free(q);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_quant_net --device cpu|cuda: INT8 networks", &dev);
    if (rc >= 0) return rc;
    test_qarepvgg_spec(dev);
    test_deploy_block(dev);
    test_train_block(dev);
    test_refused(dev);
    test_net(dev);
    test_build(dev);
    return rv_test_finish("test_quant_net");
}

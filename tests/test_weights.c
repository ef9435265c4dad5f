/* test_weights.c - networks to named tensors and back, in both layouts.
 *
 * Round trips: a small five-stage net (groups 2 on the grouped layers, a
 * head for the official layout), train-time and deploy-time, written as named
 * tensors and read back, must compute bit-identical outputs. Then every kind
 * of bad state_dict: a missing, unexpected, duplicated or misshapen tensor,
 * NaN, a negative running_var, an identity branch at stride 2 (the notebook's
 * bug), mixed layouts, mixed forms: each refused with a message naming the
 * tensor.
 */
#include <math.h>
#include <string.h>

#include "rv_weights.h"
#include "rv_test.h"

static rv_arch small = {
    .name = "small", .widths = {8, 8, 12, 16, 24}, .depths = {1, 2, 3, 2, 1}, .groups = 2};

static void forward_equal(const char *what, rv_net *a, rv_net *b, rv_device dev)
{
    rv_rng rng = rv_rng_seed(3);
    rv_tensor hx, x, ya, yb;
    int64_t out[4];
    int rank;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 3, 19, 17, "x"));
    rv_tensor_fill_uniform(&hx, &rng, -1, 1);
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_net_out_shape(a, &x, out, &rank));
    CHECK_OK(rv_tensor_alloc(&ya, dev, rank, out, "ya"));
    CHECK_OK(rv_tensor_alloc(&yb, dev, rank, out, "yb"));
    CHECK_OK(rv_net_forward(a, &x, &ya));
    CHECK_OK(rv_net_forward(b, &x, &yb));
    CHECK_CLOSE(what, &yb, &ya, RV_TOL_EXACT);
    rv_tensor *all[4] = {&hx, &x, &ya, &yb};
    for (int i = 0; i < 4; i++) rv_tensor_free(all[i]);
}

static void round_trip(rv_device dev, rv_layout layout, int deploy)
{
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n, count;
    CHECK_OK(rv_arch_specs(&small, 3, specs, &n));
    rv_rng rng = rv_rng_seed(1);
    rv_net train, fast, back;
    CHECK_OK(
        rv_net_init_random(&train, specs, n, layout == RV_LAYOUT_OFFICIAL ? 10 : 0, &rng, dev));
    CHECK_OK(rv_net_switch_to_fast(&train, &fast));
    rv_net *net = deploy ? &fast : &train;
    rv_named *ts;
    CHECK_OK(rv_net_to_weights(net, layout, &ts, &count));
    rv_layout got;
    CHECK_OK(rv_weights_to_net(ts, count, "round-trip", dev, &back, &got));
    CHECK(got == layout, "layout detected as %s", rv_layout_name(got));
    CHECK(back.n_blocks == n && rv_net_is_deploy(&back) == deploy, "form or block count changed");
    for (int i = 0; i < n && back.n_blocks == n; i++) {
        const rv_block_spec *a = rv_net_spec(net, i), *b = rv_net_spec(&back, i);
        CHECK(a->in_ch == b->in_ch && a->out_ch == b->out_ch && a->stride == b->stride &&
                  a->groups == b->groups && a->n_branches == b->n_branches,
              "block %d spec differs after the round trip", i);
    }
    char what[96];
    snprintf(what, sizeof what, "%s layout, %s form: round trip", rv_layout_name(layout),
             deploy ? "deploy-time" : "train-time");
    forward_equal(what, net, &back, dev);
    rv_named_free(ts, count);
    rv_net_free(&train);
    rv_net_free(&fast);
    rv_net_free(&back);
}

/* A fresh notebook-layout train-time tensor list of the small net. */
/* The small net's tensors in the notebook layout, train-time or deploy-time. */
static rv_named *fresh_form(int *count, int deploy)
{
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n;
    rv_arch_specs(&small, 3, specs, &n);
    rv_rng rng = rv_rng_seed(2);
    rv_net net, fast = {0};
    rv_named *ts = NULL;
    CHECK_OK(rv_net_init_random(&net, specs, n, 0, &rng, RV_CPU));
    if (deploy) CHECK_OK(rv_net_switch_to_fast(&net, &fast));
    CHECK_OK(rv_net_to_weights(deploy ? &fast : &net, RV_LAYOUT_NOTEBOOK, &ts, count));
    rv_net_free(&net);
    rv_net_free(&fast);
    return ts;
}

static rv_named *fresh(int *count) { return fresh_form(count, 0); }

static rv_named *find(rv_named *ts, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ts[i].name, name) == 0) return &ts[i];
    return NULL;
}

/* Loading must fail with RV_EFORMAT and a message containing `expect`. */
static void expect_refused(const char *what, rv_named *ts, int n, const char *expect)
{
    rv_net net;
    rv_layout l;
    rv_status st = rv_weights_to_net(ts, n, "bad.safetensors", RV_CPU, &net, &l);
    printf("%-36s -> %s\n", what, st == RV_OK ? "accepted" : rv_last_error());
    CHECK(st == RV_EFORMAT, "%s: accepted or wrong status", what);
    CHECK(strstr(rv_last_error(), expect) && strstr(rv_last_error(), "bad.safetensors"),
          "%s: message lacks '%s'", what, expect);
    if (st == RV_OK) rv_net_free(&net);
}

static void bad_inputs(void)
{
    int n;
    rv_named *ts = fresh(&n);
    rv_named saved;

    /* missing: drop the last tensor (an identity BN running_var) */
    expect_refused("missing tensor", ts, n - 1, ts[n - 1].name);

    saved = ts[0];
    snprintf(ts[0].name, sizeof ts[0].name, "stages.0.0.block.7.weight");
    expect_refused("unexpected tensor", ts, n, "stages.0.0.block.7.weight");
    ts[0] = saved;

    snprintf(ts[1].name, sizeof ts[1].name, "%s", ts[2].name);
    expect_refused("duplicate tensor", ts, n, ts[2].name);
    snprintf(ts[1].name, sizeof ts[1].name, "stages.0.0.block.1.weight");

    rv_named *w = find(ts, n, "stages.1.1.block.0.weight");
    CHECK(w != NULL, "setup: stages.1.1.block.0.weight");
    if (w) {
        int64_t d1 = w->t.dim[1];
        w->t.dim[1] = 3; /* 8 input channels do not split into groups of 3 */
        expect_refused("misshapen weight", ts, n, "stages.1.1.block.0.weight");
        w->t.dim[1] = d1;
        float keep = w->t.data[5];
        w->t.data[5] = NAN;
        expect_refused("NaN in a weight", ts, n, "NaN");
        w->t.data[5] = keep;
    }
    rv_named *var = find(ts, n, "stages.2.1.identity.running_var");
    CHECK(var != NULL, "setup: stages.2.1.identity.running_var");
    if (var) {
        var->t.data[3] = -0.5f;
        expect_refused("negative running_var", ts, n, "stages.2.1.identity.running_var");
        var->t.data[3] = 0.5f;
    }
    /* the notebook's bug: an identity BN on the first (stride-2) block of stage 1 */
    rv_named *id = find(ts, n, "stages.2.1.identity.weight");
    if (id) {
        saved = *id;
        snprintf(id->name, sizeof id->name, "stages.1.0.identity.weight");
        expect_refused("identity at stride 2", ts, n, "stride 2");
        *id = saved;
    }
    snprintf(ts[0].name, sizeof ts[0].name, "stage0.rbr_dense.conv.weight");
    expect_refused("mixed layouts", ts, n, "mix");
    snprintf(ts[0].name, sizeof ts[0].name, "stages.0.0.conv.weight");
    expect_refused("mixed forms", ts, n, "forms are mixed");
    snprintf(ts[0].name, sizeof ts[0].name, "stages.0.0.block.0.weight");

    /* a deploy-time file with one train-time BN tensor left in it */
    int nd;
    rv_named *td = fresh_form(&nd, 1);
    rv_named stray = td[nd - 1];
    snprintf(td[nd - 1].name, sizeof td[nd - 1].name, "stages.1.1.identity.weight");
    expect_refused("stray BN in a deploy-time file", td, nd, "stages.1.1.identity.weight");
    td[nd - 1] = stray;
    rv_net fast;
    rv_layout lf;
    CHECK_OK(rv_weights_to_net(td, nd, "restored", RV_CPU, &fast, &lf));
    rv_net_free(&fast);
    rv_named_free(td, nd);

    rv_net net;
    rv_layout l;
    CHECK_OK(rv_weights_to_net(ts, n, "restored", RV_CPU, &net, &l));
    rv_net_free(&net);
    rv_named_free(ts, n);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc =
        rv_test_init(argc, argv, "test_weights --device cpu|cuda: state_dict round trips", &dev);
    if (rc >= 0) return rc;
    for (int layout = 0; layout < 2; layout++)
        for (int deploy = 0; deploy < 2; deploy++) round_trip(dev, (rv_layout)layout, deploy);
    bad_inputs();
    return rv_test_finish("test_weights");
}

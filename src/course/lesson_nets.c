/* lesson_nets.c - two networks compared and timed the way the lessons print
 * them (rv_lesson.h). The comparison runs rv_net_forward, the reference
 * path; the timing runs each net through its own plan
 * (rv_plan.h), so a forward allocates nothing and the memory columns read
 * activations = the buffers a plan keeps for the blocks' outputs, scratch =
 * the rest of the plan (Winograd weights, workspace) and what a forward adds. */
#include <stdio.h>

#include "rv_check.h"

#include "rv_lesson.h"
#include "rv_plan.h"

int rv_lesson_check_nets(const char *what, const rv_net *a, const rv_net *r, const rv_tensor *x)
{
    rv_tensor ya = {0}, yr = {0};
    int64_t out[4];
    int rank, ok = 0;
    rv_status st = rv_net_out_shape(r, x, out, &rank);
    if (st == RV_OK) st = rv_tensor_alloc(&yr, x->device, rank, out, "reference output");
    if (st == RV_OK) st = rv_net_forward(r, x, &yr);
    if (st == RV_OK) st = rv_tensor_alloc(&ya, x->device, rank, out, "output");
    if (st == RV_OK) st = rv_net_forward(a, x, &ya);
    if (st != RV_OK)
        printf("  error: %s\n", rv_lesson_keep_error());
    else
        ok = rv_expect_close(stdout, what, &ya, &yr, RV_TOL_NET);
    rv_tensor_free(&ya);
    rv_tensor_free(&yr);
    return ok;
}

void rv_lesson_time_nets(const char *what, const rv_net *const nets[2], const char *const names[2],
                         const rv_tensor *x, rv_device dev, int warmup, int repeat,
                         const char *intro, const char *legend)
{
    rv_plan plan[2] = {0};
    rv_tensor y[2] = {0};
    rv_plan_run run[2];
    size_t planned[2] = {0};
    int64_t out[4];
    int rank;
    rv_form_result r[2];
    rv_status st = rv_net_out_shape(nets[0], x, out, &rank);
    for (int n = 0; n < 2 && st == RV_OK; n++) {
        st = rv_tensor_alloc(&y[n], dev, rank, out, "output");
        if (st == RV_OK) st = rv_plan_build_counted(&plan[n], nets[n], x, NULL, &planned[n]);
        run[n] = (rv_plan_run){.plan = &plan[n], .x = x, .y = &y[n]};
    }
    if (st == RV_OK)
        st = rv_measure_pair(rv_plan_run_fn, &run[0], rv_plan_run_fn, &run[1], dev, warmup, repeat,
                             &r[0], &r[1]);
    if (st == RV_OK) {
        rv_lesson_form forms[2];
        for (int n = 0; n < 2; n++) {
            forms[n] = (rv_lesson_form){.name = names[n],
                                        .activations = rv_plan_describe(&plan[n]).activation_bytes};
            r[n].peak_bytes += planned[n] - forms[n].activations;
        }
        if (intro) fputs(intro, stdout);
        rv_lesson_print_forms(what, forms, r, warmup, repeat, legend);
    } else {
        rv_lesson_keep_error();
    }
    for (int n = 0; n < 2; n++) {
        rv_plan_free(&plan[n]);
        rv_tensor_free(&y[n]);
    }
}

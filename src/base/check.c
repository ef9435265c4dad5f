/* check.c - the tolerance model of rv_check.h. */
#include <math.h>

#include "rv_check.h"

rv_cmp rv_compare(const float *a, const float *ref, int64_t n, rv_tol tol)
{
    rv_cmp c = {.n = n};
    double scale = 1.0;
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)ref[i]) > scale) scale = fabs((double)ref[i]);
    c.atol = tol.atol * scale;
    double err2 = 0.0, ref2 = 0.0, worst_ratio = -1.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)ref[i]);
        if (d != d) d = INFINITY; /* NaN: the worst possible error */
        double bound = c.atol + tol.rtol * fabs((double)ref[i]);
        double ratio = bound > 0 ? d / bound : (d > 0 ? INFINITY : 0.0);
        if (d > bound) c.failures++;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            c.worst = i;
        }
        if (d > c.max_abs) c.max_abs = d;
        err2 += d * d;
        ref2 += (double)ref[i] * ref[i];
    }
    c.rel_l2 = ref2 > 0 ? sqrt(err2 / ref2) : (err2 > 0 ? INFINITY : 0.0);
    c.pass = c.failures == 0 && c.rel_l2 <= tol.max_rel_l2;
    return c;
}

static rv_status host_view(const rv_tensor *t, rv_tensor *host)
{
    if (t->device == RV_CPU) {
        *host = *t;
        return RV_OK;
    }
    return rv_tensor_clone(host, t, RV_CPU, "comparison copy");
}

static void drop_view(const rv_tensor *t, rv_tensor *host)
{
    if (t->device != RV_CPU) rv_tensor_free(host);
}

void rv_cmp_print_expecting(FILE *f, const char *what, const rv_cmp *c, rv_tol tol, const float *a,
                            const float *ref, int want_pass)
{
    double allowed = c->atol + tol.rtol * fabs((double)ref[c->worst]);
    /* An expected difference is announced in `what` and never called FAIL:
     * a student scanning a passing run for that word must not find it. */
    const char *verdict = want_pass
                              ? (c->pass ? "ok" : "FAIL")
                              : (c->pass ? "agrees: NOT as expected" : "differs, as expected");
    fprintf(f,
            "%s: %lld values, relative L2 %.2g (allowed %g), worst at i = %lld: a = %.9g, "
            "r = %.9g, |a - r| %.2g (allowed %.2g) -> %s\n",
            what, (long long)c->n, c->rel_l2, tol.max_rel_l2, (long long)c->worst, a[c->worst],
            ref[c->worst], fabs((double)a[c->worst] - (double)ref[c->worst]), allowed, verdict);
    if (c->pass) return;
    fprintf(f,
            "    the first values outside the bound (i: a value's place among the %lld compared,\n"
            "    from 0, in the order they are stored: image, channel, row, column):\n",
            (long long)c->n);
    int shown = 0;
    for (int64_t i = 0; i < c->n && shown < 4; i++) {
        double d = fabs((double)a[i] - (double)ref[i]);
        if (!(d <= c->atol + tol.rtol * fabs((double)ref[i]))) { /* NaN included */
            fprintf(f, "    i = %lld: a = %.9g, r = %.9g\n", (long long)i, a[i], ref[i]);
            shown++;
        }
    }
}

void rv_cmp_print(FILE *f, const char *what, const rv_cmp *c, rv_tol tol, const float *a,
                  const float *ref)
{
    rv_cmp_print_expecting(f, what, c, tol, a, ref, 1);
}

int rv_expect_close(FILE *f, const char *what, const rv_tensor *a, const rv_tensor *ref, rv_tol tol)
{
    rv_tensor ha, hr;
    if (!rv_tensor_same_shape(a, ref)) {
        fprintf(f, "%s: shapes differ -> FAIL\n", what);
        return 0;
    }
    if (host_view(a, &ha) != RV_OK) {
        fprintf(f, "%s: %s -> FAIL\n", what, rv_last_error());
        return 0;
    }
    if (host_view(ref, &hr) != RV_OK) {
        fprintf(f, "%s: %s -> FAIL\n", what, rv_last_error());
        drop_view(a, &ha);
        return 0;
    }
    rv_cmp c = rv_compare(ha.data, hr.data, rv_tensor_numel(a), tol);
    rv_cmp_print(f, what, &c, tol, ha.data, hr.data);
    drop_view(a, &ha);
    drop_view(ref, &hr);
    return c.pass;
}

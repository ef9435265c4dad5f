/* lesson.c - the beginning, the measured comparison and the end every lesson
 * prints (rv_lesson.h). */
#include <stdio.h>
#include <string.h>

#include "rv_check.h"
#include "rv_lesson.h"
#include "rv_report.h"
#include "rv_results.h"

/* Prints text (lines separated by '\n') indented by two spaces. */
static void print_indented(const char *text)
{
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        printf(len ? "  %.*s\n" : "\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
}

void rv_lesson_begin(const char *title, const char *algebra, rv_device dev)
{
    printf("%s\n\n", title);
    print_indented(algebra);
    printf("\n");
    rv_print_device(dev);
}

void rv_lesson_agree_heading(const char *a_is, const char *r_is)
{
    rv_tol t = RV_TOL_FP32;
    printf("\nDo the two forms agree? a: %s value, r: %s.\n"
           "They agree when every |a - r| <= %g s + %g |r|, with s the largest |r| (at least 1),\n"
           "and the relative L2 error ||a - r|| / ||r|| <= %g; bit-exact means a = r everywhere.\n"
           "i: a value's place among those compared, from 0, in the order image, channel, row,\n"
           "column.\n",
           a_is, r_is, t.atol, t.rtol, t.max_rel_l2);
}

static const char *const usual_legend =
    "memory = activations (the output and branch buffers the form keeps between calls)\n"
    "       + scratch (what one call allocates while it runs: the im2col or Winograd\n"
    "         workspace); the input and the weights are not counted.";

/* The length of a form's name without its "(...)" note. */
static int short_name(const char *name)
{
    size_t n = strcspn(name, "(");
    while (n > 0 && name[n - 1] == ' ') n--;
    return (int)n;
}

void rv_lesson_print_forms(const char *what, const rv_lesson_form forms[2],
                           const rv_form_result r[2], int warmup, int repeat, const char *legend)
{
    printf("\nHow fast and how much memory, %s\n(%d warm-up runs, then %d runs of each form taken "
           "by turns, each one synchronised):\n",
           what, warmup, repeat);
    printf("  %-30s %10s %10s %10s %11s %10s %10s\n", "form", "median ms", "min ms", "max ms",
           "activations", "scratch", "memory");
    size_t total[2];
    for (int f = 0; f < 2; f++) {
        char a[32], s[32], m[32];
        total[f] = forms[f].activations + r[f].peak_bytes;
        printf("  %-30s %10.4f %10.4f %10.4f %11s %10s %10s\n", forms[f].name, r[f].time.median_ms,
               r[f].time.min_ms, r[f].time.max_ms, rv_bytes_str(forms[f].activations, a, sizeof a),
               rv_bytes_str(r[f].peak_bytes, s, sizeof s), rv_bytes_str(total[f], m, sizeof m));
    }
    double speed = r[0].time.median_ms / r[1].time.median_ms;
    int n1 = short_name(forms[1].name), n0 = short_name(forms[0].name);
    if (speed >= 1.0)
        printf("  %.*s runs %.2fx as fast as %.*s (median against median)", n1, forms[1].name,
               speed, n0, forms[0].name);
    else
        printf("  %.*s takes %.2fx the time of %.*s (median against median)", n1, forms[1].name,
               1.0 / speed, n0, forms[0].name);
    if (total[0] > 0)
        printf(";\n  it needs %.2fx the memory.\n", (double)total[1] / (double)total[0]);
    else
        printf(".\n");
    rv_print_busy(stdout, "  ", &r[0].time.busy);
    print_indented(legend ? legend : usual_legend);
}

rv_status rv_lesson_compare(rv_device dev, const char *what, const rv_lesson_form forms[2],
                            int warmup, int repeat, const char *legend, rv_form_result out[2])
{
    rv_form_result r[2] = {0};
    rv_status st = rv_measure_pair(forms[0].fn, forms[0].ctx, forms[1].fn, forms[1].ctx, dev,
                                   warmup, repeat, &r[0], &r[1]);
    if (st != RV_OK) {
        rv_lesson_keep_error();
        return st;
    }
    for (int f = 0; f < 2; f++) r[f].held_bytes = forms[f].activations;
    rv_lesson_print_forms(what, forms, r, warmup, repeat, legend);
    if (out) memcpy(out, r, sizeof r);
    return RV_OK;
}

static char lesson_error[256];

const char *rv_lesson_keep_error(void)
{
    if (!lesson_error[0]) snprintf(lesson_error, sizeof lesson_error, "%s", rv_last_error());
    return rv_last_error();
}

const char *rv_lesson_error(void) { return lesson_error; }

int rv_lesson_end(int pass, rv_device dev, const char *holds, const char *fails)
{
    if (lesson_error[0]) {
        printf("\nFAIL: %s\n", lesson_error);
        return rv_results_end(1);
    }
    printf("\n%s: %s on %s\n", pass ? "PASS" : "FAIL", pass ? holds : fails, rv_device_name(dev));
    return rv_results_end(pass ? 0 : 1);
}

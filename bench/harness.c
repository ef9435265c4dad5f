/* harness.c - the services every rv_bench experiment uses (bench.h): tables
 * of rows kept in memory and the TSV file they become, the paired timing,
 * the progress line and the speed-ups passed on to the speedup experiment.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "rv_file.h"
#include "rv_report.h"

void bench_row(bench_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        char *grown = realloc(t->buf, t->cap);
        if (!grown) {
            fprintf(stderr, "rv_bench: out of memory for results\n");
            exit(1);
        }
        t->buf = grown;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void bench_time_row(bench_table *t, const rv_form_result *r)
{
    bench_row(t, "%.5f\t%.5f\t%.5f\t%zu", r->time.median_ms, r->time.min_ms, r->time.max_ms,
              r->peak_bytes);
}

/* The timings of the table being filled, and how many of them ran while the
 * machine was not quiet (rv_busy.h): its header says so, and the run's last
 * line on stderr warns when any did. */
static int timings, busy_timings, busy_total;
static rv_busy worst_busy;

void bench_count_busy(const rv_busy *b)
{
    timings++;
    if (rv_busy_verdict(b)) {
        busy_timings++;
        busy_total++;
        rv_busy_worst(&worst_busy, b);
    }
}

void bench_busy_summary(void)
{
    if (!busy_total) return;
    fprintf(stderr,
            "rv_bench: %d timings ran while the machine was not quiet (each TSV's header counts "
            "its own); the worst:\n",
            busy_total);
    rv_print_busy(stderr, "  ", &worst_busy);
}

rv_status bench_write_tsv(const bench_run *run, const char *file, const char *what,
                          const char *columns, const bench_table *t)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file);
    bench_table head = {0};
    char quiet[160] = "";
    if (timings > 0)
        snprintf(quiet, sizeof quiet,
                 "# machine quiet: %d of %d timings ran while it was not (docs/busy_machine.md)\n",
                 busy_timings, timings);
    timings = busy_timings = 0;
    bench_row(&head,
              "# %s\n# machine: %s\n# cpu: %s (%d cores)\n# gpu: %s\n# date: %s\n# commit: %s\n"
              "# build: %s\n# cpu threads: %s\n# mode: %s\n# cuda math: FP32 (TF32 off)\n"
              "# timing: warm-up, synchronised, the two forms of a row pair run by turns, median "
              "with min and max; peak = bytes allocated while one forward runs (tracking "
              "allocator)\n%s%s\n",
              what, run->machine, run->cpu, run->cores, run->gpu, run->date, run->commit,
              RV_BUILD_TYPE, run->threads,
              run->quick ? "quick (tiny sizes, few repetitions: for testing the pipeline)" : "full",
              quiet, columns);
    rv_atomic_file af;
    rv_status st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, head.buf, head.len);
    if (st == RV_OK) st = rv_atomic_write(&af, t->buf, t->len);
    if (st == RV_OK) st = rv_atomic_commit(&af);
    free(head.buf);
    return st;
}

void bench_progress(const bench_run *run, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r[%d/%d] %-70.70s", run->index, run->count, msg);
    fflush(stderr);
}

rv_status bench_measure_pair(rv_fn fa, void *a, rv_fn fb, void *b, rv_device dev, int repeat,
                             rv_form_result r[2])
{
    rv_status st = rv_measure_pair(fa, a, fb, b, dev, repeat > 3 ? 3 : 1, repeat, &r[0], &r[1]);
    if (st == RV_OK) bench_count_busy(&r[0].time.busy);
    return st;
}

rv_status bench_record_speedup(bench_run *run, const char *name, rv_device dev, double train_ms,
                               double deploy_ms)
{
    if (run->n_speedups == BENCH_MAX_SPEEDUPS)
        return rv_error(RV_EINVAL, "more than %d speed-ups to report", BENCH_MAX_SPEEDUPS);
    bench_speedup *s = &run->speedups[run->n_speedups++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dev = dev;
    s->train_ms = train_ms;
    s->deploy_ms = deploy_ms;
    return RV_OK;
}

/* bench.h - what rv_bench's experiments share.
 *
 * An experiment is one file, bench/exp_<name>.c, named for the TSV it writes,
 * exporting one bench_experiment: the files it writes (name, the header's
 * line saying what was measured, the column names), the devices it runs on
 * and its run function, which appends rows to tables in memory. The runner
 * (bench/bench.c) runs them in the order of its table, numbers them 1..N in
 * that order for the progress line "[i/N]" (bench_progress), and writes each
 * table atomically as OUT/<machine>/<file> under the `#` header of
 * bench_write_tsv. Experiments pass data on only through bench_run: pairs
 * and networks record their reference timings (bench_record_speedup), which
 * speedup, run last, reads.
 *
 * Implemented in bench/harness.c; each experiment's parts in its own file.
 */
#ifndef RV_BENCH_H
#define RV_BENCH_H

#include <stddef.h>

#include "rv_busy.h"
#include "rv_device.h"
#include "rv_measure.h"
#include "rv_status.h"

/* ---- a table: rows appended in memory, written atomically at the end ---- */
typedef struct {
    char *buf;
    size_t len, cap;
} bench_table;

/* Appends printf-formatted text to t; out of memory ends the program
 * (nothing is written then: tables reach disk only when complete). */
void bench_row(bench_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The timing columns median_ms, min_ms, max_ms, peak_bytes of one form. */
void bench_time_row(bench_table *t, const rv_form_result *r);

/* ---- a run ---- */
/* The devices an experiment runs on, in the order it measures them. */
typedef struct {
    rv_device dev[2];
    int n;
} bench_devices;

/* A speed-up that the speedup experiment reports: one step or network on
 * one device, each form's median at the reference size. */
typedef struct {
    char name[48];
    rv_device dev;
    double train_ms, deploy_ms;
} bench_speedup;

enum { BENCH_MAX_SPEEDUPS = 32 };

typedef struct {
    /* where, when and how: set once by main, in every file's header */
    char machine[64], cpu[160], gpu[200], date[32], commit[48], dir[4096], threads[256];
    int cores, quick;
    bench_devices all; /* the run's: the CPU, then CUDA when a device answers */
    double t0_ms;      /* when the first experiment started (rv_now_ms) */
    /* set by the runner before each experiment */
    bench_devices here; /* the devices this experiment runs on */
    int index, count;   /* its number in the run, 1..count */
    /* recorded by pairs and networks, read by speedup */
    bench_speedup speedups[BENCH_MAX_SPEEDUPS];
    int n_speedups;
} bench_run;

/* The progress line on stderr, "[index/count] message", overwritten by the
 * next one. */
void bench_progress(const bench_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Times two forms (a: train-time or ours, b: deploy-time or the reference),
 * interleaved so their ratio is honest on a shared machine; every field of
 * r[0] and r[1] filled, or an error. */
rv_status bench_measure_pair(rv_fn fa, void *a, rv_fn fb, void *b, rv_device dev, int repeat,
                             rv_form_result r[2]);
rv_status bench_record_speedup(bench_run *run, const char *name, rv_device dev, double train_ms,
                               double deploy_ms);
/* A timing counted in the next file's header ("# machine quiet: k of n
 * timings ran while it was not"); bench_measure_pair counts its own. */
void bench_count_busy(const rv_busy *b);
/* On stderr, when any timing of the run was not quiet: how many, the worst. */
void bench_busy_summary(void);
/* Writes OUT/<machine>/file atomically: the `#` header (what, then the
 * machine, date, commit, build, threads, mode and timing method), the line
 * of column names, the rows of t. */
rv_status bench_write_tsv(const bench_run *run, const char *file, const char *what,
                          const char *columns, const bench_table *t);

/* ---- an experiment ---- */
typedef enum {
    BENCH_HOST,        /* computed on the CPU, not timed: in every run */
    BENCH_EACH_DEVICE, /* each of the run's devices in turn */
    BENCH_LAST_DEVICE, /* the run's last device: CUDA when the run has it */
    BENCH_CUDA_ONLY,   /* CUDA; not run without it */
} bench_where;

enum { BENCH_MAX_FILES = 2 };

typedef struct {
    const char *name;    /* "pairs.tsv", in OUT/<machine>/ */
    const char *what;    /* the header's first line; NULL: the run writes it */
    const char *columns; /* the column names, tab-separated */
} bench_file;

/* What a run function fills for each of its files: the rows, and the
 * header's first line when the file's `what` depends on the run (sizes
 * that --quick changes, the run's time). */
typedef struct {
    bench_table rows, what;
} bench_output;

typedef struct {
    /* what it measures, in its first progress line after its files' names */
    const char *title;
    bench_file files[BENCH_MAX_FILES]; /* one (the second's name NULL), or two */
    bench_where where;
    rv_status (*run)(bench_run *run, bench_output out[BENCH_MAX_FILES]);
} bench_experiment;

/* The experiments, in the order the runner's table runs them. */
extern const bench_experiment bench_exp_kernels, bench_exp_pairs, bench_exp_block,
    bench_exp_networks, bench_exp_naive, bench_exp_int8, bench_exp_cudnn, bench_exp_speedup;

/* The shapes block and cudnn sweep: sweep 0 is channels at 56x56, sweep 1
 * resolution at 64 channels (--quick: tiny ones). 0 past the sweep's end. */
int bench_block_shape(const bench_run *run, int sweep, int k, int *c, int *s);

/* rv_bench's hidden child flag: the naive experiment runs rv_bench again as
 * a fresh process to time first calls. The child's exit code when argv is
 * that call, -1 otherwise. */
int bench_naive_child(int argc, char **argv);

#endif

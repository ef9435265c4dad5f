/* rv_bench - the course's benchmark harness (`make bench`).
 *
 * Measures the forms the lessons build, with the library's honest timing
 * (warm-up, sync, repetitions, median/min/max) and its tracking allocator,
 * and writes one TSV per experiment into OUT/<machine>/, in this order:
 *   kernels.tsv   the kernels lessons 03, 04 and 05 build, for their pictures
 *                 (computed by the library's rewrites, not timed)
 *   pairs.tsv     each lesson's pair of forms over a sweep of sizes (lessons 01,
 *                 02 and 05, and lesson 08's ACNet and DBB blocks)
 *   block.tsv     one RepVGG block, train vs deploy, against channels and resolution
 *   networks.tsv  A0, A1, B0, train vs deploy, against batch size, and the
 *                 memory each form holds: activation buffers, workspace,
 *                 weights planned for the CPU (Winograd-domain or packed)
 *   naive.tsv     the notebook's first-call timing, in both orders, vs honest
 *   int8.tsv      lesson 10: RepVGG-A0 and its QARepVGG twin simulated in INT8,
 *                 both forms, weights per tensor and per channel: SQNR per
 *                 block and end to end, five seeds (not timed)
 *   int8_weights.tsv  lesson 10: where the folded kernels' weights fall on
 *                 their INT8 grid, as histograms (the lesson's seed)
 *   cudnn.tsv     (CUDA, built with cuDNN) the deploy-time layer: ours vs cuDNN's
 *   speedup.tsv   deploy/train speed-up of each step and network; its header
 *                 holds the run's time
 * Each experiment is a file bench/exp_<name>.c (bench.h says what they
 * share); this file parses the options, says where and when, and runs the
 * table of experiments, numbered 1..N in the order they run (those this
 * run's devices allow), each file written atomically when its experiment
 * ends. Runs on the CPU, and on CUDA too when a device answers.
 * bench/plot.sh draws the charts.
 *
 * Run: rv_bench [--out DIR] [--machine NAME] [--quick] [--device auto|cpu|cuda]
 *      rv_bench --machine-name [--device D]: the folder's name only (rv_machine.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "rv_cli.h"
#include "rv_cpu.h"
#include "rv_machine.h"
#include "rv_ops.h"
#include "rv_results.h"
#include "rv_timing.h"

/* In the order they run: speedup last, as its header holds the run's time. */
static const bench_experiment *const experiments[] = {
    &bench_exp_kernels,  &bench_exp_pairs, &bench_exp_block,
    &bench_exp_networks, &bench_exp_naive, &bench_exp_int8,
#ifdef RV_HAVE_CUDNN
    &bench_exp_cudnn,
#endif
    &bench_exp_speedup,
};
enum { N_EXPERIMENTS = sizeof experiments / sizeof experiments[0] };

/* The devices e runs on in this run; none (n = 0) when it does not run. */
static bench_devices devices_for(const bench_experiment *e, const bench_devices *all)
{
    bench_devices here = {.n = 0};
    rv_device last = all->dev[all->n - 1];
    switch (e->where) {
    case BENCH_HOST:
        here = (bench_devices){.dev = {RV_CPU}, .n = 1};
        break;
    case BENCH_EACH_DEVICE:
        here = *all;
        break;
    case BENCH_LAST_DEVICE:
        here = (bench_devices){.dev = {last}, .n = 1};
        break;
    case BENCH_CUDA_ONLY:
        if (last == RV_CUDA) here = (bench_devices){.dev = {RV_CUDA}, .n = 1};
        break;
    }
    return here;
}

/* Runs one experiment and writes its files. */
static rv_status run_experiment(const bench_experiment *e, bench_run *run)
{
    bench_output out[BENCH_MAX_FILES] = {0};
    bench_progress(run, "%s%s%s: %s", e->files[0].name, e->files[1].name ? ", " : "",
                   e->files[1].name ? e->files[1].name : "", e->title);
    rv_status st = e->run(run, out);
    for (int f = 0; f < BENCH_MAX_FILES && e->files[f].name && st == RV_OK; f++) {
        const char *what = e->files[f].what ? e->files[f].what : out[f].what.buf;
        st = what ? bench_write_tsv(run, e->files[f].name, what, e->files[f].columns, &out[f].rows)
                  : rv_error(RV_EINVAL, "%s: no description for its header", e->files[f].name);
    }
    for (int f = 0; f < BENCH_MAX_FILES; f++) {
        free(out[f].rows.buf);
        free(out[f].what.buf);
    }
    return st;
}

static rv_status run_all(bench_run *run)
{
    run->count = 0;
    for (int i = 0; i < N_EXPERIMENTS; i++)
        run->count += devices_for(experiments[i], &run->all).n > 0;
    run->t0_ms = rv_now_ms();
    rv_status st = RV_OK;
    for (int i = 0; i < N_EXPERIMENTS && st == RV_OK; i++) {
        run->here = devices_for(experiments[i], &run->all);
        if (run->here.n == 0) continue;
        run->index++;
        st = run_experiment(experiments[i], run);
    }
    fprintf(stderr, "\n");
    return st;
}

/* ---- where and when ---- */
static void git_commit(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *p = popen("git -C '" RV_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null", "r");
    if (!p) return;
    if (fgets(buf, (int)len, p)) buf[strcspn(buf, "\n")] = '\0';
    if (pclose(p) != 0) snprintf(buf, len, "unknown");
}

static int make_dirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The run's devices and where and when it measures; an exit code, or -1 to
 * go on. */
static int describe_run(const char *prog, const char *device, rv_device dev, const char *out,
                        bench_run *run)
{
    run->all = (bench_devices){.dev = {RV_CPU}, .n = 1};
    if (dev == RV_CUDA) {
        if (strcmp(device, "cuda") == 0) run->all.n = 0;
        run->all.dev[run->all.n++] = RV_CUDA;
    }
    rv_device_describe(RV_CPU, run->cpu, sizeof run->cpu);
    run->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    rv_cli_timing_threads(prog); /* before describing: the threads the TSVs name */
    rv_cpu_threads_init();       /* before describing: it sets OpenBLAS to one thread */
    rv_cpu_blas_describe(run->threads, sizeof run->threads);
    snprintf(run->gpu, sizeof run->gpu, "none");
    if (dev == RV_CUDA) rv_device_describe(RV_CUDA, run->gpu, sizeof run->gpu);
    time_t now = time(NULL);
    strftime(run->date, sizeof run->date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    git_commit(run->commit, sizeof run->commit);
    snprintf(run->dir, sizeof run->dir, "%s/%s", out, run->machine);
    if (make_dirs(run->dir) != 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, run->dir, strerror(errno));
        return 1;
    }
    return -1;
}

static int bench_main(int argc, char **argv)
{
    int rc = bench_naive_child(argc, argv);
    if (rc >= 0) return rc;
    const char *out = "bench/results", *machine = NULL, *device = "auto";
    int quick = 0, print_name = 0;
    rv_opt opts[] = {
        {"out", RV_OPT_STR, &out, "results root: files go to OUT/<machine>/"},
        {"machine", RV_OPT_STR, &machine,
         "machine name (default: the GPU's or CPU's model; \"-avx2\" added on a CPU without "
         "AVX-512)"},
        {"device", RV_OPT_STR, &device, "auto (CPU, and CUDA when a device answers), cpu or cuda"},
        {"quick", RV_OPT_FLAG, &quick, "tiny sizes, few repetitions (tests the pipeline)"},
        {"machine-name", RV_OPT_FLAG, &print_name,
         "print the machine's name (the folder under OUT, for --device) and exit, measuring "
         "nothing"},
    };
    rc = rv_parse_args(argc, argv,
                       "rv_bench: measure the lessons' forms, blocks and networks; "
                       "write TSV files for bench/plot.sh",
                       opts, 5);
    if (rc >= 0) return rc;
    bench_run run = {.quick = quick};
    rv_device dev;
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;
    if (machine)
        rv_machine_slug(machine, run.machine, sizeof run.machine);
    else
        rv_machine_name(dev, run.machine, sizeof run.machine);
    if (print_name) {
        printf("%s\n", run.machine);
        return 0;
    }
    if ((rc = describe_run(argv[0], device, dev, out, &run)) >= 0) return rc;
    fprintf(stderr, "rv_bench: %s mode on %s -> %s\n", quick ? "quick" : "full", run.machine,
            run.dir);
    if (run_all(&run) != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        return 1;
    }
    fprintf(stderr, "rv_bench: done in %.0f s; results in %s\n", (rv_now_ms() - run.t0_ms) / 1e3,
            run.dir);
    bench_busy_summary();
    return 0;
}

/* Standard output carries the machine's name, --help and the fresh
 * process's first-call times: one that cannot be written is an error, and
 * rv_results_begin keeps the pipe to that process off descriptors 0 to 2. */
int main(int argc, char **argv)
{
    int rc = rv_results_begin("rv_bench");
    return rc >= 0 ? rc : rv_results_end(bench_main(argc, argv));
}

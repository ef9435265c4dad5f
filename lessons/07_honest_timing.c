/* Lesson 07 - honest timing: what the notebook's "> 100x faster" measured
 * (its In [5]).
 *
 * The notebook timed lesson 01's two forms, conv(x, W1) + b1 + conv(x, W2) + b2
 * against conv(x, W1 + W2) + (b1 + b2) on a 4x8x7x7 input, with perf_counter
 * around the very first call of each, in that order, with no warm-up and no
 * synchronisation, and printed 0.182160 s vs 0.000163 s: over 1000x, whence
 * its title ("> 100x faster"). The course's issue adds that the notebook's
 * source claimed 108x for a whole network, also timed without
 * synchronisation (a figure not in the notebook text; printed as quoted).
 * The forms do twice and once the same convolution (plus an add), so what
 * lies beyond ~2x is the measurement. This lesson shows its parts on the
 * device at hand:
 *
 *  1. One-time set-up is charged to whichever form runs first. On the CPU:
 *     page faults on the first touch of the outputs and the im2col workspace,
 *     cold caches, OpenMP threads starting; on a GPU: the cuBLAS handle, lazy
 *     loading of kernel modules, the workspace's cudaMalloc (the context is
 *     made when the tensors are uploaded, as by the notebook's .to("cuda")).
 *     A process has one first call, so to swap the order the program runs
 *     itself again, as a fresh process (/proc/self/exe with a hidden flag),
 *     that times the fused form first. A fresh process starts exactly as cold
 *     as this one did; a fork would inherit this one's touched pages and
 *     loaded libraries, and CUDA cannot be used in a forked child at all.
 *  2. Asynchronous launch: a CUDA call returns once its work is queued; the
 *     host clock without rv_device_sync times the queueing. On the CPU every
 *     op is done when it returns, and the two agree.
 *  3. Timer resolution: the smallest step of rv_now_ms against the work.
 *  4. Run-to-run spread: min, median and max over many runs, never one.
 *
 * Run:   build/bin/07_honest_timing [--device auto|cpu|cuda] [--batch N]
 *                                   [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's timing cell: 4x8x7x7 input, 8 -> 8 channels,
 * 3x3, no padding; R = 100 timed runs (after 10 warm-up runs) per form.
 * Exit:  0 PASS (every measurement ran and the forms agree within
 *        RV_TOL_FP32), 1 FAIL, 2 bad usage or no such device.
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_report.h"
#include "rv_two_branch.h" /* lesson 01's forms */

extern char **environ;

/* Appended to the arguments of the child that times the fused form first;
 * not an option a user gives, so not in --help. */
#define FUSED_FIRST_FLAG "--child-times-fused-first"

/* What the notebook printed, in seconds, and (as the course's issue quotes
 * it) the speed-up its source claimed for a whole network. */
#define NOTEBOOK_TWO_S 0.182160
#define NOTEBOOK_FUSED_S 0.000163
#define NOTEBOOK_SOURCE_NET_X 108.0

/* The notebook's measurement: the first call of each form, host clock, no
 * warm-up, no sync; the fused form first when fused_first. */
static rv_status first_calls(rv_two_branch *l, rv_device dev, int fused_first, double *two_ms,
                             double *fused_ms)
{
    rv_status st = fused_first ? rv_time_naive(rv_two_branch_fused, l, fused_ms)
                               : rv_time_naive(rv_two_branch_forward, l, two_ms);
    if (st == RV_OK)
        st = fused_first ? rv_time_naive(rv_two_branch_forward, l, two_ms)
                         : rv_time_naive(rv_two_branch_fused, l, fused_ms);
    return st == RV_OK ? rv_device_sync(dev) : st;
}

/* Runs this program again, a fresh process, with the same shapes on `dev`
 * and FUSED_FIRST_FLAG; reads its two first-call times from its stdout. */
static rv_status first_calls_swapped(rv_device dev, int batch, int channels, int size,
                                     double *two_ms, double *fused_ms)
{
    char n[16], c[16], s[16];
    snprintf(n, sizeof n, "%d", batch);
    snprintf(c, sizeof c, "%d", channels);
    snprintf(s, sizeof s, "%d", size);
    char *args[] = {"07_honest_timing",
                    "--device",
                    (char *)rv_device_name(dev),
                    "--batch",
                    n,
                    "--channels",
                    c,
                    "--size",
                    s,
                    FUSED_FIRST_FLAG,
                    NULL};
    /* The link, not the path "/proc/self/exe": valgrind (the memcheck tests)
     * answers the readlink with the program's own path. */
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len < 0) return rv_error(RV_EIO, "readlink /proc/self/exe: %s", strerror(errno));
    exe[len] = '\0';
    int fd[2];
    if (pipe(fd) != 0) return rv_error(RV_EIO, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, exe, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        return rv_error(RV_EIO, "cannot run %s again: %s", exe, strerror(err));
    }
    FILE *f = fdopen(fd[0], "r");
    int got = f ? fscanf(f, "%lf %lf", two_ms, fused_ms) : 0;
    if (f)
        fclose(f);
    else
        close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != 2 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return rv_error(RV_EIO, "the fresh process timing the fused form first failed");
    return RV_OK;
}

/* The smallest non-zero difference between two readings of rv_now_ms: the
 * clock's resolution, or the cost of a reading where that is larger. */
static double clock_step_ms(void)
{
    double best = INFINITY;
    for (int i = 0; i < 1000; i++) {
        double t0 = rv_now_ms(), t1;
        while ((t1 = rv_now_ms()) == t0) continue;
        if (t1 - t0 < best) best = t1 - t0;
    }
    return best;
}

int main(int argc, char **argv)
{
    int fused_first = argc > 1 && strcmp(argv[argc - 1], FUSED_FIRST_FLAG) == 0;
    if (fused_first) argc--;
    int batch = 4, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "07_honest_timing: the notebook's first-call timing of "
                               "lesson 01's forms, taken apart",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if ((rc = rv_cli_at_least(argv[0], "size", size, 3, "for a 3x3 conv without padding")) >= 0 ||
        (rc = rv_cli_device(argv[0], device, &dev)) >= 0)
        return rc;

    /* Nothing may run a form before this: the first calls are the point. */
    rv_two_branch l;
    double two_first = 0, fused_second = 0;
    rv_status st = rv_two_branch_build(&l, dev, batch, channels, size, 0, 7);
    if (st == RV_OK) st = first_calls(&l, dev, fused_first, &two_first, &fused_second);
    if (fused_first) { /* the child: report and leave */
        if (st == RV_OK)
            printf("%.9f %.9f\n", two_first, fused_second);
        else
            fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        rv_two_branch_free(&l);
        return st == RV_OK ? 0 : 1;
    }

    printf("Lesson 07: honest timing of lesson 01's forms, %dx%dx%dx%d input, %d -> %d channels, "
           "3x3\n",
           batch, channels, size, size, channels, channels);
    rv_print_device(dev);
    double two_second = 0, fused_first_ms = 0;
    if (st == RV_OK)
        st = first_calls_swapped(dev, batch, channels, size, &two_second, &fused_first_ms);
    rv_form_result r_two = {0}, r_fused = {0};
    if (st == RV_OK)
        st = rv_measure_pair(rv_two_branch_forward, &l, rv_two_branch_fused, &l, dev, warmup,
                             repeat, &r_two, &r_fused);
    r_two.held_bytes = l.held[0]; /* activation buffers, counted as allocated */
    r_fused.held_bytes = l.held[1];
    /* The same loop as rv_time's with the CPU's sync, which does nothing: on
     * a GPU the clock then reads when the kernels are queued, not done. */
    rv_timing q_two, q_fused;
    if (st == RV_OK) st = rv_time(rv_two_branch_forward, &l, RV_CPU, warmup, repeat, &q_two);
    if (st == RV_OK) st = rv_time(rv_two_branch_fused, &l, RV_CPU, warmup, repeat, &q_fused);
    if (st == RV_OK) st = rv_device_sync(dev);
    if (st != RV_OK) {
        rv_lesson_keep_error();
        rv_two_branch_free(&l);
        printf("\nFAIL: %s\n", rv_lesson_error());
        return 1;
    }

    printf("\n1. First calls (host clock, no warm-up, no sync):  two branches       fused"
           "   ratio\n");
    printf("  the notebook printed                             %12.6f s %10.6f s %6.0fx\n",
           NOTEBOOK_TWO_S, NOTEBOOK_FUSED_S, NOTEBOOK_TWO_S / NOTEBOOK_FUSED_S);
    printf("  %-77s%6.0fx\n", "the notebook's source claimed for a whole network, no sync",
           NOTEBOOK_SOURCE_NET_X);
    printf("  this run, the notebook's order (two first)       %12.6f s %10.6f s %6.1fx\n",
           two_first / 1e3, fused_second / 1e3, two_first / fused_second);
    printf("  a fresh process, fused first                     %12.6f s %10.6f s %6.1fx\n",
           two_second / 1e3, fused_first_ms / 1e3, two_second / fused_first_ms);
    char honest[64];
    snprintf(honest, sizeof honest, "honest median (%d warm-up runs, synchronised)", warmup);
    printf("  %-48s %12.6f s %10.6f s %6.1fx\n", honest, r_two.time.median_ms / 1e3,
           r_fused.time.median_ms / 1e3, r_two.time.median_ms / r_fused.time.median_ms);
    /* Each form's first call against its call after the other form's. */
    double two_x = two_first / two_second, fused_x = fused_first_ms / fused_second;
    printf("  Called first, each form took %.1fx (two branches) and %.1fx (fused) its time when\n"
           "  called second: %s\n",
           two_x, fused_x,
           two_x > 1 && fused_x > 1 ? "one-time set-up goes to whichever runs first."
                                    : "here the first call was not the slower one for both forms.");
    printf("  Called first, each took %.1fx (two branches) and %.1fx (fused) its honest median.\n"
           "  The honest ratio is what the forms cost: the fused one runs one convolution where\n"
           "  the other runs two.\n",
           two_first / r_two.time.median_ms, fused_first_ms / r_fused.time.median_ms);

    printf("\n2. Without and with the sync (median of %d after %d warm-up runs):\n", repeat,
           warmup);
    printf("  two branches %.4f ms without, %.4f ms with; fused %.4f ms without, %.4f ms with\n",
           q_two.median_ms, r_two.time.median_ms, q_fused.median_ms, r_fused.time.median_ms);
    printf("  %s\n", dev == RV_CUDA
                         ? "Without the sync the clock stops when the kernels are queued: it "
                           "times the launch."
                         : "On the CPU an op is done when it returns: both times are the work's.");

    /* Fewer than ~100 steps and the reading's rounding is a visible part of it. */
    double step = clock_step_ms(), steps = r_fused.time.median_ms / step;
    printf("\n3. The clock: rv_now_ms moves in steps of %.0f ns; the fused conv's median spans "
           "%.0f\n  steps, %s\n",
           step * 1e6, steps,
           steps >= 100 ? "so resolution is not what misleads here."
                        : "too few: time many calls per reading and divide.");

    printf("\n4. Run-to-run spread over %d synchronised runs:\n", repeat);
    rv_print_form("two branches (2 conv + add)", &r_two);
    rv_print_form("fused (1 conv)", &r_fused);
    double slow_two = r_two.time.max_ms / r_two.time.median_ms,
           slow_fused = r_fused.time.max_ms / r_fused.time.median_ms;
    printf("  The slowest run took %.1fx (two branches) and %.1fx (fused) its median%s\n", slow_two,
           slow_fused, slow_two >= 1.5 || slow_fused >= 1.5 ? ": one run alone can mislead." : ".");

    printf("\nDo the forms agree?\n");
    int pass = rv_expect_close(stdout, "  random floats, RV_TOL_FP32", &l.yf, &l.y, RV_TOL_FP32);
    rv_two_branch_free(&l);
    printf("\n%s: honest timing ran and the fused conv %s the two-branch sum on %s\n",
           pass ? "PASS" : "FAIL", pass ? "matches" : "does NOT match", rv_device_name(dev));
    return pass ? 0 : 1;
}

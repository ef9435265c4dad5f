/* exp_naive.c - naive.tsv: the notebook's measurement of lesson 01's forms
 * on 4x8x7x7 (the first call of each form, host clock, no warm-up, no sync),
 * in both orders, against the honest medians, and the ratio the notebook
 * printed on its GPU, quoted.
 *
 * A first call is first only once per process, so each trial runs rv_bench
 * again as a fresh process with the hidden flag CHILD_FLAG, which measures
 * one pair of first calls and prints the two times on its standard output,
 * a pipe to this process.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "rv_notebook.h"
#include "rv_two_branch.h"

extern char **environ;

#define CHILD_FLAG "--child-first-call" /* hidden: one fresh process of this experiment */

/* The child: rv_bench CHILD_FLAG two|fused DEVICE, the form named first. */
static int child_first_call(const char *device, int fused_first)
{
    rv_device dev;
    rv_two_branch tb;
    double two = 0, fused = 0;
    if (rv_device_select(device, &dev) != RV_OK ||
        rv_two_branch_build(&tb, dev, 4, 8, 7, 0, 1) != RV_OK) {
        fprintf(stderr, "rv_bench: %s\n", rv_last_error());
        return 1;
    }
    rv_status st = fused_first ? rv_time_naive(rv_two_branch_fused, &tb, &fused)
                               : rv_time_naive(rv_two_branch_forward, &tb, &two);
    if (st == RV_OK)
        st = fused_first ? rv_time_naive(rv_two_branch_forward, &tb, &two)
                         : rv_time_naive(rv_two_branch_fused, &tb, &fused);
    if (st == RV_OK) st = rv_device_sync(dev);
    rv_two_branch_free(&tb);
    if (st != RV_OK) return 1;
    printf("%.9f %.9f\n", two, fused);
    return 0;
}

int bench_naive_child(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], CHILD_FLAG) != 0) return -1;
    return child_first_call(argv[3], strcmp(argv[2], "fused") == 0);
}

/* Runs this program again as a fresh process for one first-call measurement. */
static rv_status spawn_child(rv_device dev, int fused_first, double *two, double *fused)
{
    int fd[2];
    if (pipe(fd) != 0) return rv_error(RV_EIO, "pipe: %s", strerror(errno));
    char *args[] = {"rv_bench", CHILD_FLAG, fused_first ? "fused" : "two",
                    (char *)rv_device_name(dev), NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int err = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err != 0) {
        close(fd[0]);
        return rv_error(RV_EIO, "cannot start a fresh process: %s", strerror(err));
    }
    FILE *f = fdopen(fd[0], "r");
    int got = f && fscanf(f, "%lf %lf", two, fused) == 2;
    if (f) fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return rv_error(RV_EIO, "the fresh process timing first calls failed");
    return RV_OK;
}

static rv_status run_naive(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    bench_table *t = &out[0].rows;
    int trials = run->quick ? 2 : 5;
    rv_status st = RV_OK;
    for (int d = 0; d < run->here.n && st == RV_OK; d++) {
        rv_device dev = run->here.dev[d];
        for (int order = 0; order < 2 && st == RV_OK; order++)
            for (int k = 0; k < trials && st == RV_OK; k++) {
                double two, fused;
                bench_progress(run, "naive timing on %s: %s first, process %d", rv_device_name(dev),
                               order ? "fused" : "two branches", k + 1);
                st = spawn_child(dev, order, &two, &fused);
                if (st == RV_OK)
                    bench_row(t, "%s\t%s\t%d\t%.6f\t%.6f\t%.3f\n", rv_device_name(dev),
                              order ? "first_call_fused_first" : "first_call_notebook_order", k + 1,
                              two, fused, two / fused);
            }
        rv_two_branch tb;
        rv_timing ab[2];
        if (st == RV_OK && (st = rv_two_branch_build(&tb, dev, 4, 8, 7, 0, 1)) == RV_OK) {
            const rv_fn fns[2] = {rv_two_branch_forward, rv_two_branch_fused};
            void *const ctxs[2] = {&tb, &tb};
            st = rv_time_forms(2, fns, ctxs, dev, 10, 100, ab);
            rv_two_branch_free(&tb);
            if (st == RV_OK) bench_count_busy(&ab[0].busy);
            if (st == RV_OK)
                bench_row(t, "%s\thonest_median\t1\t%.6f\t%.6f\t%.3f\n", rv_device_name(dev),
                          ab[0].median_ms, ab[1].median_ms, ab[0].median_ms / ab[1].median_ms);
        }
    }
    bench_row(t, "notebook\tnotebook_printed\t1\t%.6f\t%.6f\t%.3f\n",
              RV_NOTEBOOK_TWO_BRANCH_S * 1e3, RV_NOTEBOOK_FUSED_S * 1e3,
              RV_NOTEBOOK_TWO_BRANCH_S / RV_NOTEBOOK_FUSED_S);
    return st;
}

const bench_experiment bench_exp_naive = {
    .title = "the notebook's first-call timing",
    .files = {{.name = "naive.tsv",
               .what = "the notebook's measurement (the first "
                       "call of each form in a fresh process, host clock, no warm-up, no sync) "
                       "in both orders, and the honest medians; lesson 01's forms on 4x8x7x7; "
                       "the last row (device notebook) is what the notebook printed for the "
                       "same forms on its GPU, quoted, not measured here",
               .columns = "device\tmethod\ttrial\ttwo_branch_ms\tfused_ms\tratio"}},
    .where = BENCH_EACH_DEVICE,
    .run = run_naive,
};

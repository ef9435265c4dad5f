/* test_busy.c - a timing says when the machine was not quiet (rv_busy.h).
 *
 * The decision on made-up signs: quiet ones pass, each sign past its
 * threshold raises its own flag, a sign at its threshold or unknown raises
 * none, and the note names what was seen. The statistics on made-up samples:
 * median, quartiles and the spread between them. Then for real: a timing
 * taken beside one busy child process per core (each stops by itself after
 * 20 s at most, and is killed as soon as the timing is done) must be flagged,
 * and its note must say that the machine was not quiet.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rv_busy.h"
#include "rv_test.h"
#include "rv_timing.h"

/* About 1 ms of arithmetic: the timed work. */
static rv_status spin_1ms(void *ctx)
{
    volatile double *x = ctx;
    double t0 = rv_now_ms();
    while (rv_now_ms() - t0 < 1.0) *x = *x * 0.999 + 1.0;
    return RV_OK;
}

static int contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_busy: the busy-machine warning", &dev);
    if (rc >= 0) return rc;
    char note[512];

    /* the decision */
    rv_busy quiet = {.waited = 0.02, .wall_ms = 10.0, .others = 1.0, .spread = 0.05, .cores = 2};
    CHECK(rv_busy_verdict(&quiet) == 0, "quiet signs flagged %u", rv_busy_verdict(&quiet));
    CHECK(*rv_busy_note(&quiet, note, sizeof note) == '\0', "a note on a quiet timing: %s", note);
    rv_busy b = quiet;
    b.waited = 0.30;
    CHECK(rv_busy_verdict(&b) == RV_BUSY_WAITED, "waited 30 %%: flags %u", rv_busy_verdict(&b));
    rv_busy_note(&b, note, sizeof note);
    CHECK(contains(note, "not quiet") &&
              contains(note, "3.0 ms of waiting ended within the 10.0 ms timed"),
          "the note does not say what was seen: %s", note);
    b = quiet;
    b.others = 2.0;
    CHECK(rv_busy_verdict(&b) == RV_BUSY_OTHERS, "2 others on 2 cores: flags %u",
          rv_busy_verdict(&b));
    CHECK(
        contains(rv_busy_note(&b, note, sizeof note), "2 other tasks were ready to run on 2 cores"),
        "the note does not count the others: %s", note);
    b = quiet;
    b.spread = 0.40;
    CHECK(rv_busy_verdict(&b) == RV_BUSY_SPREAD, "spread 40 %%: flags %u", rv_busy_verdict(&b));
    b = (rv_busy){.waited = 0.5, .wall_ms = 4.0, .others = 3.0, .spread = 1.0, .cores = 2};
    CHECK(rv_busy_verdict(&b) == (RV_BUSY_WAITED | RV_BUSY_OTHERS | RV_BUSY_SPREAD),
          "all three signs: flags %u", rv_busy_verdict(&b));
    rv_busy_note(&b, note, sizeof note);
    CHECK(contains(note, "wait for a core") && contains(note, "other tasks") &&
              contains(note, "spread"),
          "the note leaves a sign out: %s", note);
    b = (rv_busy){
        .waited = RV_BUSY_WAITED_MAX, .others = 1.0, .spread = RV_BUSY_SPREAD_MAX, .cores = 2};
    CHECK(rv_busy_verdict(&b) == 0, "signs at their thresholds flagged %u", rv_busy_verdict(&b));
    b = (rv_busy){.waited = -1.0, .others = -1.0, .spread = 0.0, .cores = 2};
    CHECK(rv_busy_verdict(&b) == 0, "unknown signs flagged %u", rv_busy_verdict(&b));
    rv_busy worst = quiet;
    rv_busy_worst(&worst, &(rv_busy){.waited = 0.5, .others = 0.0, .spread = 0.0, .cores = 2});
    CHECK(worst.waited == 0.5 && worst.others == 1.0 && worst.spread == 0.05,
          "rv_busy_worst: %g %g %g", worst.waited, worst.others, worst.spread);

    /* the statistics: 1..5 shuffled; 1..8 with a long tail */
    double five[] = {5, 1, 3, 2, 4};
    rv_timing t;
    rv_timing_stats(five, 5, &t);
    CHECK(t.median_ms == 3 && t.q1_ms == 2 && t.q3_ms == 4 && t.min_ms == 1 && t.max_ms == 5 &&
              t.mean_ms == 3 && t.repeat == 5,
          "stats of 1..5: median %g q1 %g q3 %g min %g max %g mean %g", t.median_ms, t.q1_ms,
          t.q3_ms, t.min_ms, t.max_ms, t.mean_ms);
    CHECK(fabs(t.busy.spread - 2.0 / 3.0) < 1e-12, "spread of 1..5: %g", t.busy.spread);
    double tail[] = {10, 10, 10, 10, 10, 10, 10, 100}; /* one slow run: the median ignores it */
    rv_timing_stats(tail, 8, &t);
    CHECK(t.median_ms == 10 && t.busy.spread == 0 && rv_busy_verdict(&t.busy) == 0,
          "one outlier moved the median (%g) or the spread (%g)", t.median_ms, t.busy.spread);
    double even[] = {4, 1, 3, 2};
    rv_timing_stats(even, 4, &t);
    CHECK(t.median_ms == 2.5 && t.q1_ms == 1.75 && t.q3_ms == 3.25,
          "stats of 1..4: median %g q1 %g q3 %g", t.median_ms, t.q1_ms, t.q3_ms);

    /* for real: beside one busy process per core */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > 64) cores = 64;
    pid_t kids[64];
    int started = 0;
    double stop = rv_now_ms() + 20e3;
    for (long i = 0; i < cores; i++) {
        pid_t p = fork();
        if (p == 0) {
            while (rv_now_ms() < stop) {
            }
            _exit(0);
        }
        if (p > 0) kids[started++] = p;
    }
    CHECK(started == cores, "started %d busy processes of %ld", started, cores);
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL); /* let them take the cores */
    volatile double x = 1.0;
    void *ctx = (void *)&x;
    rv_fn fn = spin_1ms;
    rv_timing busy;
    CHECK_OK(rv_time_forms(1, &fn, &ctx, RV_CPU, 2, 200, &busy));
    for (int i = 0; i < started; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < started; i++) waitpid(kids[i], NULL, 0);
    printf("beside %d busy processes: waited %.2f of the wall time, %.1f others ready, spread "
           "%.2f\n",
           started, busy.busy.waited, busy.busy.others, busy.busy.spread);
    CHECK(rv_busy_verdict(&busy.busy) & (RV_BUSY_WAITED | RV_BUSY_OTHERS),
          "a timing beside %d busy processes was not flagged", started);
    rv_busy_note(&busy.busy, note, sizeof note);
    CHECK(contains(note, "warning: the machine was not quiet"), "no warning: '%s'", note);
    return rv_test_finish("test_busy");
}

/* rv_busy.h - was the machine quiet while we timed? (Linux's /proc, and the samples' spread)
 *
 * A time measured while other programs want the cores is not the time the
 * work takes, and a ratio of two such times is no better: the forms of a
 * lesson are taken by turns, but the one whose threads meet more often (at
 * the end of every parallel loop) loses more each time one of them waits for
 * a core. So every timing also measures three signs of other work:
 *
 *   waited  the time this process's threads were ready to run but waited for
 *           a core (the scheduler's run-queue delay, second field of
 *           /proc/self/task/<thread>/schedstat), summed over the threads, per
 *           ms of the timed wall time: on a quiet machine a ready thread gets
 *           a core at once. The kernel adds a wait when it ends, so a wait
 *           begun just before the timing counts in it: over a timing of a few
 *           ms the sum can exceed the wall time, or the threads' number;
 *   others  the tasks ready to run on the whole machine that are not ours
 *           (procs_running of /proc/stat less our threads in state R), the
 *           fewer of two counts, before and after the timed runs;
 *   spread  (q3 - q1) / median of one form's samples (q1, q3: the quartiles):
 *           how much the runs of one form disagree among themselves.
 *
 * rv_busy_verdict turns them into flags, 0 when the timing can be trusted;
 * rv_busy_note says in words what was seen (the programs print it beside the
 * figure). On a system without /proc only the spread is judged.
 */
#ifndef RV_BUSY_H
#define RV_BUSY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double waited;  /* run-queue delay / wall time, summed over our threads; < 0: unknown */
    double wall_ms; /* the timed wall time */
    double others;  /* other tasks ready to run (the fewer of two counts); < 0: unknown */
    double spread;  /* the largest (q3 - q1) / median of the forms timed together */
    int cores;      /* online CPUs */
} rv_busy;

/* The thresholds, and why. A thread that waits for a core for more than 10 %
 * of the time loses a tenth of its speed, more when its partner waits at a
 * barrier; as many other runnable tasks as cores leave none free; runs of a
 * form spread by more than 25 % of their median say its median can move as
 * much. The median of many short runs shrugs off most of a busy machine
 * (at load 12 the lessons' forms spread 2 - 19 %, docs/busy_machine.md), so
 * the spread catches only the worst; the other two signs do the work. */
#define RV_BUSY_WAITED_MAX 0.10
#define RV_BUSY_SPREAD_MAX 0.25

enum { RV_BUSY_WAITED = 1, RV_BUSY_OTHERS = 2, RV_BUSY_SPREAD = 4 };

/* The flags above that b raises; 0: quiet. */
unsigned rv_busy_verdict(const rv_busy *b);

/* Raises each sign of *acc to b's where b's is larger: the worst of several
 * timings, for a program that prints their figures together. */
void rv_busy_worst(rv_busy *acc, const rv_busy *b);

/* One probe around the timed runs: rv_busy_begin before the first,
 * rv_busy_end after the last. */
typedef struct {
    double t0_ms, waited0_ms, others0;
} rv_busy_probe;
void rv_busy_begin(rv_busy_probe *p);
void rv_busy_end(const rv_busy_probe *p, rv_busy *out); /* out->spread is the caller's */

/* The cores other programs leave free right now: the online CPUs less the
 * tasks ready to run that are not this process's (the median of a few counts
 * over about 10 ms, so that one compiler starting or ending does not decide),
 * at least 1; all of them when /proc cannot tell. */
int rv_busy_free_cores(void);

/* "" when quiet, else one sentence (no newline) that names what was seen,
 * e.g. "warning: the machine was not quiet (its threads had to wait for a
 * core: 5.1 ms of waiting ended within the 15.0 ms timed; 2 other tasks were
 * ready to run on 2 cores): times
 * and ratios may be off by more than 20 %; run again on a quiet machine". */
const char *rv_busy_note(const rv_busy *b, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif

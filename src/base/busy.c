/* busy.c - signs of other work around a timing (rv_busy.h). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rv_busy.h"
#include "rv_timing.h"

unsigned rv_busy_verdict(const rv_busy *b)
{
    unsigned flags = 0;
    if (b->waited > RV_BUSY_WAITED_MAX) flags |= RV_BUSY_WAITED;
    if (b->cores > 0 && b->others >= b->cores) flags |= RV_BUSY_OTHERS;
    if (b->spread > RV_BUSY_SPREAD_MAX) flags |= RV_BUSY_SPREAD;
    return flags;
}

void rv_busy_worst(rv_busy *acc, const rv_busy *b)
{
    if (b->waited > acc->waited) acc->waited = b->waited;
    if (b->others > acc->others) acc->others = b->others;
    if (b->spread > acc->spread) acc->spread = b->spread;
    if (b->cores > acc->cores) acc->cores = b->cores;
    if (b->waited >= acc->waited) acc->wall_ms = b->wall_ms; /* the wall of the worst wait */
}

/* Sums the run-queue delay of this process's threads (ms) into *waited_ms and
 * counts those ready to run or running into *ready; 0 when /proc has them. */
static int own_threads(double *waited_ms, int *ready)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    unsigned long long on_cpu, delay, sum = 0;
    int n = 0, ok = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/self/task/%.16s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended meanwhile */
        if (fscanf(f, "%llu %llu", &on_cpu, &delay) == 2) {
            sum += delay;
            ok = 1;
        }
        fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%.16s/stat", e->d_name);
        if (!(f = fopen(path, "r"))) continue;
        const char *close = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
        if (close && close[1] == ' ' && close[2] == 'R') n++; /* "pid (name) R ..." */
        fclose(f);
    }
    closedir(d);
    *waited_ms = (double)sum * 1e-6;
    *ready = n;
    return ok ? 0 : -1;
}

/* Tasks ready to run on the machine, less this process's; < 0 when unknown. */
static double other_tasks(double *waited_ms)
{
    int ours = 0;
    if (own_threads(waited_ms, &ours) != 0) {
        *waited_ms = -1.0;
        return -1.0;
    }
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1.0;
    char line[256];
    long running = -1;
    while (running < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "procs_running %ld", &running) != 1) running = -1;
    fclose(f);
    if (running < 0) return -1.0;
    return running > ours ? (double)(running - ours) : 0.0;
}

int rv_busy_free_cores(void)
{
    enum { SAMPLES = 5 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) return 1;
    double seen[SAMPLES], waited;
    for (int i = 0; i < SAMPLES; i++) {
        if ((seen[i] = other_tasks(&waited)) < 0) return (int)cores;
        for (int k = i; k > 0 && seen[k - 1] > seen[k]; k--) { /* insertion sort */
            double t = seen[k];
            seen[k] = seen[k - 1];
            seen[k - 1] = t;
        }
        nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
    }
    long free_cores = cores - (long)seen[SAMPLES / 2];
    return free_cores < 1 ? 1 : (int)free_cores;
}

void rv_busy_begin(rv_busy_probe *p)
{
    p->others0 = other_tasks(&p->waited0_ms);
    p->t0_ms = rv_now_ms();
}

void rv_busy_end(const rv_busy_probe *p, rv_busy *out)
{
    double wall = rv_now_ms() - p->t0_ms, waited1;
    double others1 = other_tasks(&waited1);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    out->cores = cores > 0 ? (int)cores : 0;
    out->wall_ms = wall;
    out->waited =
        p->waited0_ms >= 0 && waited1 >= 0 && wall > 0 ? (waited1 - p->waited0_ms) / wall : -1.0;
    out->others =
        p->others0 < 0 || others1 < 0 ? -1.0 : (p->others0 < others1 ? p->others0 : others1);
}

const char *rv_busy_note(const rv_busy *b, char *buf, size_t len)
{
    unsigned flags = rv_busy_verdict(b);
    char seen[3][128];
    int n = 0;
    if (flags & RV_BUSY_WAITED)
        snprintf(seen[n++], sizeof seen[0],
                 "its threads had to wait for a core: %.1f ms of waiting ended within the %.1f ms "
                 "timed",
                 b->waited * b->wall_ms, b->wall_ms);
    if (flags & RV_BUSY_OTHERS)
        snprintf(seen[n++], sizeof seen[0], "%.0f other tasks were ready to run on %d cores",
                 b->others, b->cores);
    if (flags & RV_BUSY_SPREAD)
        snprintf(seen[n++], sizeof seen[0],
                 "the middle half of a form's runs spread over %.0f %% of its median",
                 100.0 * b->spread);
    if (n == 0)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len,
                 "warning: the machine was not quiet (%s%s%s%s%s): times and ratios may be off "
                 "by more than 20 %%; run again on a quiet machine",
                 seen[0], n > 1 ? "; " : "", n > 1 ? seen[1] : "", n > 2 ? "; " : "",
                 n > 2 ? seen[2] : "");
    return buf;
}

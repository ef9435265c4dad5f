/* cli.c - "--name value" parsing with a help table. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_busy.h"
#include "rv_cli.h"
#include "rv_report.h"
#include "rv_results.h"

/* A usage that opens with "name: " (a lesson's build name) shows the name the
 * program was started by instead: an installed lesson is renamed. */
static void print_usage(const char *prog, const char *usage)
{
    size_t name = strcspn(usage, ": \n");
    const char *base = strrchr(prog, '/');
    if (usage[name] == ':' && usage[name + 1] == ' ')
        printf("%s%s\n", base ? base + 1 : prog, usage + name);
    else
        printf("%s\n", usage);
}

static void print_help(const char *prog, const char *usage, const rv_opt *opts, int nopts)
{
    print_usage(prog, usage);
    printf("\noptions:\n");
    for (int i = 0; i < nopts; i++) {
        char left[48];
        rv_opt_type t = opts[i].type;
        snprintf(left, sizeof left, "--%s %s", opts[i].name,
                 t == RV_OPT_STR ? "S" : (t == RV_OPT_FLAG ? "" : "N"));
        /* an int whose default is below its least value has none: the help says why */
        int least = t == RV_OPT_INT ? 1 : 0;
        if ((t == RV_OPT_INT || t == RV_OPT_COUNT) && *(int *)opts[i].dest >= least)
            printf("  %-22s %s (default %d)\n", left, opts[i].help, *(int *)opts[i].dest);
        else if (t == RV_OPT_STR && *(const char **)opts[i].dest)
            printf("  %-22s %s (default %s)\n", left, opts[i].help, *(const char **)opts[i].dest);
        else
            printf("  %-22s %s\n", left, opts[i].help);
    }
    printf("  %-22s %s\n", "--help", "print this help and exit");
}

static int set_value(const char *prog, const rv_opt *o, const char *val)
{
    if (o->type == RV_OPT_FLAG) {
        fprintf(stderr, "%s: --%s takes no value\n", prog, o->name);
        return 2;
    }
    if (o->type == RV_OPT_STR) {
        *(const char **)o->dest = val;
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10), least = o->type == RV_OPT_COUNT ? 0 : 1;
    if (errno || *val == '\0' || *end != '\0' || v < least || v > INT_MAX) {
        fprintf(stderr, "%s: --%s: expected %s integer, got '%s'\n", prog, o->name,
                least ? "a positive" : "a non-negative", val);
        return 2;
    }
    *(int *)o->dest = (int)v;
    return -1;
}

int rv_parse_args(int argc, char **argv, const char *usage, const rv_opt *opts, int nopts)
{
    return rv_parse_args_pos(argc, argv, usage, opts, nopts, NULL, 0, NULL);
}

int rv_parse_args_pos(int argc, char **argv, const char *usage, const rv_opt *opts, int nopts,
                      const char **pos, int max_pos, int *npos)
{
    const char *prog = argv[0];
    if (npos) *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(prog, usage, opts, nopts);
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (!npos || *npos >= max_pos) {
                fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, arg);
                return 2;
            }
            pos[(*npos)++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const rv_opt *o = NULL;
        for (int k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0) o = &opts[k];
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, arg);
            return 2;
        }
        if (o->type == RV_OPT_FLAG && !eq) {
            *(int *)o->dest = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "%s: --%s needs a value\n", prog, o->name);
            return 2;
        }
        int rc = set_value(prog, o, val);
        if (rc >= 0) return rc;
    }
    return -1;
}

int rv_cli_device(const char *prog, const char *arg, rv_device *out)
{
    if (rv_device_select(arg, out) == RV_OK) return -1;
    fprintf(stderr, "%s: %s\n", prog, rv_last_error());
    return 2;
}

void rv_cli_timing_threads(const char *prog)
{
#ifdef _OPENMP
    const char *set = getenv("OMP_NUM_THREADS");
    if (set && *set) return;
    int all = omp_get_max_threads(), free_cores = rv_busy_free_cores();
    if (free_cores >= all) return;
    omp_set_num_threads(free_cores);
    const char *base = strrchr(prog, '/');
    fprintf(stderr,
            "note: other programs keep %d of this machine's %d cores busy; %s times on %d "
            "thread%s, whose ratios they disturb the least (OMP_NUM_THREADS sets the number)\n",
            all - free_cores, all, base ? base + 1 : prog, free_cores, free_cores > 1 ? "s" : "");
#else
    (void)prog;
#endif
}

int rv_lesson_options(int argc, char **argv, const char *usage, int *batch, int *channels,
                      int *size, int *repeat, const rv_opt *extra, int n_extra, const char **device)
{
    enum { COMMON = 5, MAX_EXTRA = 8 };
    *device = "auto";
    int rc = rv_results_begin(argv[0]);
    if (rc >= 0) return rc;
    rv_opt opts[COMMON + MAX_EXTRA] = {
        {"device", RV_OPT_STR, device, "auto, cpu or cuda"},
        {"batch", RV_OPT_INT, batch, "images per batch"},
        {"channels", RV_OPT_INT, channels, "input channels"},
        {"size", RV_OPT_INT, size, "input height and width"},
        {"repeat", RV_OPT_INT, repeat, "timed runs per form"},
    };
    if (n_extra > MAX_EXTRA) n_extra = MAX_EXTRA;
    for (int i = 0; i < n_extra; i++) opts[COMMON + i] = extra[i];
    rc = rv_parse_args(argc, argv, usage, opts, COMMON + n_extra);
    if (rc >= 0) return rv_results_end(rc); /* --help is a result too */
    rv_cli_timing_threads(argv[0]);
    return rc;
}

int rv_cli_at_least(const char *prog, const char *flag, int value, int min, const char *why)
{
    if (value >= min) return -1;
    fprintf(stderr, "%s: --%s: must be >= %d %s, got %d\n", prog, flag, min, why, value);
    return 2;
}

int rv_cli_channels_fit(const char *prog, int channels, double bytes_per_channel, const char *what)
{
    size_t budget = rv_host_budget(), limit = RV_LESSON_MAX_INPUT;
    int by_memory = budget && budget < limit;
    if (by_memory) limit = budget;
    double need = channels * bytes_per_channel;
    if (need <= (double)limit) return -1;
    char a[32], b[32];
    fprintf(stderr,
            "%s: --channels: %d channels need %s for %s, more than the %s %s; at most %.0f "
            "fit\n",
            prog, channels, rv_bytes_str((size_t)fmin(need, 0x1p62), a, sizeof a), what,
            rv_bytes_str(limit, b, sizeof b),
            by_memory ? "this machine can give (3/4 of the memory available)"
                      : "a lesson's input images may take",
            floor((double)limit / bytes_per_channel));
    return 2;
}

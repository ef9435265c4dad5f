/* rv_cli.h - command-line options shared by the lessons, tools and benchmarks.
 *
 * Options are "--name value" or "--name=value"; "--help" prints the usage and
 * the option table. Programs exit 2 on bad usage with a one-line error that
 * names the argument.
 */
#ifndef RV_CLI_H
#define RV_CLI_H

#include "rv_device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RV_OPT_INT, RV_OPT_COUNT, RV_OPT_STR, RV_OPT_FLAG } rv_opt_type;

typedef struct {
    const char *name; /* without the leading "--" */
    rv_opt_type type; /* RV_OPT_INT: a positive int; RV_OPT_COUNT: an int >= 0;
                       * RV_OPT_STR: a const char * (NULL: no default);
                       * RV_OPT_FLAG: no value, sets an int to 1 */
    void *dest;       /* int * or const char ** holding the default; an int below
                       * its least value (0 for RV_OPT_INT, -1 for RV_OPT_COUNT)
                       * is no default: left there, the option was not given */
    const char *help;
} rv_opt;

/* Returns -1 to go on, or the exit code to leave with: 0 after --help, 2
 * after a usage error (already printed as "<prog>: <problem>"). */
int rv_parse_args(int argc, char **argv, const char *usage, const rv_opt *opts, int nopts);
/* The same, also taking up to max_pos positional arguments into pos[]
 * (*npos of them); one more is a usage error. */
int rv_parse_args_pos(int argc, char **argv, const char *usage, const rv_opt *opts, int nopts,
                      const char **pos, int max_pos, int *npos);

/* rv_device_select with a message on failure; returns -1 to go on, or 2. */
int rv_cli_device(const char *prog, const char *arg, rv_device *out);

/* A size check on a parsed option: -1 when value >= min, else prints
 * "<prog>: --<flag>: must be >= <min> <why>, got <value>" and returns 2. */
int rv_cli_at_least(const char *prog, const char *flag, int value, int min, const char *why);

/* The CPU threads of a program that times: unless OMP_NUM_THREADS says how
 * many, one per core that other programs leave free (rv_busy_free_cores),
 * with a note on stderr when that is fewer than the cores. Threads that
 * meet at the end of every parallel loop lose the most when one of them
 * waits for a core, so on a busy machine fewer threads keep the ratio of two
 * forms nearer its quiet value (docs/busy_machine.md has the measurements).
 * Call it before the first parallel loop. */
void rv_cli_timing_threads(const char *prog);

/* A lesson's input images are held to the smaller of RV_LESSON_MAX_INPUT
 * and the host memory rv_alloc may use: -1 when channels * bytes_per_channel
 * fit, else prints "<prog>: --channels: <channels> channels need <bytes> for
 * <what>, more than the <limit> ...; at most <n> fit" and returns 2, before
 * anything is allocated (a lesson given --channels 100000 would otherwise
 * fill 13 GB of calibration images for a minute before its input failed). */
#define RV_LESSON_MAX_INPUT ((size_t)4 << 30) /* 4 GiB: the defaults need 1 MB */
int rv_cli_channels_fit(const char *prog, int channels, double bytes_per_channel, const char *what);

/* The options every lesson takes (called first: it also starts the check
 * that the lesson's results reach standard output, rv_results.h): --device (default auto), --batch,
 * --channels, --size, --repeat (bound to the caller's variables, which hold
 * the defaults), then the lesson's own `extra` options. Parses them only:
 * *device gets the --device value, so that the lesson checks its own
 * constraints before rv_cli_device selects the device (a usage error is then
 * one line, with no device note before it). When the options parse, it sets
 * the threads (rv_cli_timing_threads). Returns -1 to go on, or the exit
 * code. */
int rv_lesson_options(int argc, char **argv, const char *usage, int *batch, int *channels,
                      int *size, int *repeat, const rv_opt *extra, int n_extra,
                      const char **device);

#ifdef __cplusplus
}
#endif
#endif

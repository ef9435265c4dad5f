/* results.c - checking that the results reach standard output (see
 * rv_results.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rv_results.h"

static const char *name = "";

int rv_results_begin(const char *prog)
{
    name = prog;
    if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
        fprintf(stderr, "%s: standard output is closed: the results would be lost\n", prog);
        return 1;
    }
    /* the lowest free descriptor goes to the next open: fill the gaps first */
    int fd[2] = {STDIN_FILENO, STDERR_FILENO};
    for (int i = 0; i < 2; i++)
        if (fcntl(fd[i], F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd[i]) return 1;
    return -1;
}

int rv_results_end(int rc)
{
    int failed = fflush(stdout) != 0;
    const char *why = failed ? strerror(errno) : "an earlier write failed";
    if (!failed && !ferror(stdout)) return rc;
    fprintf(stderr, "%s: cannot write the results to standard output: %s\n", name, why);
    return rc ? rc : 1;
}

/* file.c - whole-file reads and atomic writes (see rv_file.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv_file.h"

rv_status rv_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return rv_error(RV_EIO, "%s: cannot open: %s", path, strerror(errno));
    rv_status st = RV_OK;
    /* fstat, not fseek/ftell: a directory opens fine on Linux and "seeks" to
     * a meaningless size; only a regular file has a size to trust. */
    struct stat sb;
    long size = 0;
    if (fstat(fileno(f), &sb) != 0)
        st = rv_error(RV_EIO, "%s: cannot read: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = rv_error(RV_EIO, "%s: cannot read: not a regular file", path);
    else if ((size = (long)sb.st_size) == 0)
        st = rv_error(RV_EFORMAT, "%s: the file is empty", path);
    else if ((size_t)size > max_bytes)
        st = rv_error(RV_EFORMAT, "%s: %ld bytes, more than the %zu this reader accepts", path,
                      size, max_bytes);
    /* File bytes are not tensors: plain malloc, outside the tracking allocator. */
    if (st == RV_OK && !(*data = malloc((size_t)size)))
        st = rv_error(RV_ENOMEM, "%s: cannot hold %ld bytes in memory", path, size);
    if (st == RV_OK && fread(*data, 1, (size_t)size, f) != (size_t)size)
        st = rv_error(RV_EIO, "%s: read failed: %s", path,
                      ferror(f) ? strerror(errno) : "the file shrank while being read");
    fclose(f);
    if (st != RV_OK) {
        free(*data);
        *data = NULL;
        return st;
    }
    *len = (size_t)size;
    return RV_OK;
}

/* The temporary being written, removed if Ctrl-C or a kill stops the
 * program mid-write (unlink is async-signal-safe); one at a time. */
static char pending[4200];

static void remove_pending(int sig)
{
    if (pending[0]) unlink(pending);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void track(const char *tmp)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT}; /* the catchable stops */
    snprintf(pending, sizeof pending, "%s", tmp);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], tmp[0] ? remove_pending : SIG_DFL);
}

rv_status rv_atomic_open(rv_atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return rv_error(RV_EINVAL, "%.64s...: the path is too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    track(af->tmp);
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        track("");
        return rv_error(RV_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    return RV_OK;
}

void rv_atomic_abort(rv_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) unlink(af->tmp);
    track("");
}

rv_status rv_atomic_write(rv_atomic_file *af, const void *data, size_t len)
{
    if (len && fwrite(data, 1, len, af->f) != len) {
        rv_status st = rv_error(RV_EIO, "%s: write failed: %s", af->path, strerror(errno));
        rv_atomic_abort(af);
        return st;
    }
    return RV_OK;
}

rv_status rv_atomic_commit(rv_atomic_file *af)
{
    int failed = fflush(af->f) != 0 || ferror(af->f);
    failed |= fclose(af->f) != 0;
    af->f = NULL;
    if (failed || rename(af->tmp, af->path) != 0) {
        rv_status st = rv_error(RV_EIO, "%s: write failed: %s", af->path, strerror(errno));
        rv_atomic_abort(af);
        return st;
    }
    track("");
    return RV_OK;
}

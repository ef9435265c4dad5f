/* file.c - reading files piece by piece, and writing them atomically (see
 * rv_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv_file.h"

/* What a file that is not a regular one is, for messages. */
static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISFIFO(mode) ? "a FIFO (a named pipe)"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

rv_status rv_source_open(rv_source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->name = path;
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer; with
     * it the open returns at once and fstat says what the file is. (It
     * changes nothing for the regular file that is then read.) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return rv_error(RV_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    rv_status st = RV_OK;
    if (fstat(fd, &sb) != 0)
        st = rv_error(RV_EIO, "%s: cannot read: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = rv_error(RV_EIO, "%s: cannot read: it is %s, not a regular file", path,
                      kind_of(sb.st_mode));
    else if (sb.st_size == 0)
        st = rv_error(RV_EFORMAT, "%s: the file is empty", path);
    if (st != RV_OK) {
        close(fd);
        return st;
    }
    s->fd = fd;
    s->size = (uint64_t)sb.st_size;
    return RV_OK;
}

void rv_source_memory(rv_source *s, const unsigned char *d, size_t len, const char *name)
{
    *s = (rv_source){.fd = -1, .mem = d, .size = len, .name = name};
}

rv_status rv_source_read(const rv_source *s, uint64_t at, void *buf, size_t n)
{
    if (at > s->size || n > s->size - at)
        return rv_error(RV_EFORMAT, "%s: bytes %llu to %llu lie past its end (%llu bytes)", s->name,
                        (unsigned long long)at, (unsigned long long)(at + n),
                        (unsigned long long)s->size);
    if (s->fd < 0) {
        if (n) memcpy(buf, s->mem + at, n);
        return RV_OK;
    }
    unsigned char *p = buf;
    while (n) {
        ssize_t got = pread(s->fd, p, n < ((size_t)1 << 30) ? n : (size_t)1 << 30, (off_t)at);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return rv_error(RV_EIO, "%s: read failed: %s", s->name,
                            got < 0 ? strerror(errno) : "the file shrank while being read");
        p += got;
        at += (uint64_t)got;
        n -= (size_t)got;
    }
    return RV_OK;
}

void rv_source_close(rv_source *s)
{
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

rv_status rv_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    rv_source s;
    rv_status st = rv_source_open(&s, path);
    if (st != RV_OK) return st;
    if (s.size > max_bytes)
        st = rv_error(RV_EFORMAT, "%s: %llu bytes, more than the %zu this reader accepts", path,
                      (unsigned long long)s.size, max_bytes);
    /* File bytes are not tensors: plain malloc, outside the tracking allocator. */
    else if (!(*data = malloc((size_t)s.size)))
        st = rv_error(RV_ENOMEM, "%s: cannot hold %llu bytes in memory", path,
                      (unsigned long long)s.size);
    else
        st = rv_source_read(&s, 0, *data, (size_t)s.size);
    rv_source_close(&s);
    if (st != RV_OK) {
        free(*data);
        *data = NULL;
        return st;
    }
    *len = (size_t)s.size;
    return RV_OK;
}

/* The temporary being written, removed if Ctrl-C or a kill stops the
 * program mid-write (unlink and sigaction are async-signal-safe); one at a
 * time. `state` is 2 while `pending` names it, 1 while mkstemp is making
 * it (a signal then waits in `deferred` until its name is known, so that
 * neither a temporary nor a wrong name is left to chance), 0 otherwise. A
 * signal the program ignores (nohup's SIGHUP) stays ignored. */
static char pending[4200];
static volatile sig_atomic_t state, deferred;
/* the catchable stops; SIGXFSZ: a write past the file size limit (ulimit -f) */
static const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGXFSZ};
static struct sigaction saved[sizeof stops / sizeof stops[0]];
enum { N_STOPS = sizeof stops / sizeof stops[0] };

static void on_stop(int sig)
{
    if (state == 1) {
        deferred = sig;
        return;
    }
    if (state == 2) unlink(pending);
    for (int i = 0; i < N_STOPS; i++)
        if (stops[i] == sig) sigaction(sig, &saved[i], NULL);
    raise(sig);
}

static void catch_stops(void)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_STOPS; i++) {
        sigaction(stops[i], NULL, &saved[i]);
        if (saved[i].sa_handler != SIG_IGN) sigaction(stops[i], &sa, NULL);
    }
}

/* No temporary pending any more: the program's own handling of the
 * signals back, and one that came while mkstemp ran delivered. */
static void raise_deferred(void)
{
    int sig = deferred;
    deferred = 0;
    if (sig) raise(sig);
}

static void release_stops(void)
{
    state = 0;
    for (int i = 0; i < N_STOPS; i++) sigaction(stops[i], &saved[i], NULL);
    raise_deferred();
}

/* A character device or a FIFO, written where it is: renaming a regular
 * file over it would destroy it (as root, /dev/null). O_NONBLOCK so that a
 * FIFO nobody reads fails at once (ENXIO) instead of hanging the open; the
 * writes then block as a pipe's should. */
static rv_status open_in_place(rv_atomic_file *af, mode_t was)
{
    int fd = open(af->path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return rv_error(RV_EIO, "%s: cannot write: %s", af->path,
                        errno == ENXIO && S_ISFIFO(was) ? "it is a FIFO that no program reads"
                                                        : strerror(errno));
    struct stat sb;
    int flags = fcntl(fd, F_GETFL);
    if (fstat(fd, &sb) != 0 || (sb.st_mode & S_IFMT) != (was & S_IFMT) || flags < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(af->f = fdopen(fd, "wb"))) {
        close(fd);
        return rv_error(RV_EIO, "%s: cannot write: it changed while being opened", af->path);
    }
    af->in_place = 1;
    return RV_OK;
}

rv_status rv_atomic_open(rv_atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return rv_error(RV_EINVAL, "%.64s...: the path is too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    struct stat sb;
    mode_t mode;
    if (stat(path, &sb) == 0) {
        if (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)) return open_in_place(af, sb.st_mode);
        if (!S_ISREG(sb.st_mode))
            return rv_error(RV_EIO, "%s: cannot write: it is %s, not a regular file", path,
                            kind_of(sb.st_mode));
        mode = sb.st_mode & 0777; /* a replaced file keeps its permissions */
    } else {
        mode_t mask = umask(0); /* umask can only be read by setting it */
        umask(mask);
        mode = 0666 & ~mask; /* what fopen gives a new file */
    }
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path + 1) : 0;
    snprintf(af->tmp, sizeof af->tmp, "%.*srv-writing-XXXXXX", dir, path);
    deferred = 0;
    catch_stops();
    state = 1;
    int fd = mkstemp(af->tmp);
    if (fd >= 0) {
        memcpy(pending, af->tmp, sizeof pending);
        state = 2;
    }
    if (fd < 0 || fchmod(fd, mode) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        !(af->f = fdopen(fd, "wb"))) {
        rv_status st = rv_error(RV_EIO, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(af->tmp);
        }
        af->tmp[0] = '\0';
        release_stops();
        return st;
    }
    raise_deferred(); /* a Ctrl-C during mkstemp: now the temporary can go */
    return RV_OK;
}

void rv_atomic_abort(rv_atomic_file *af)
{
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->in_place) return;
    if (af->tmp[0]) unlink(af->tmp);
    af->tmp[0] = '\0';
    release_stops();
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
    if (failed || (!af->in_place && rename(af->tmp, af->path) != 0)) {
        rv_status st = rv_error(RV_EIO, "%s: write failed: %s", af->path, strerror(errno));
        rv_atomic_abort(af);
        return st;
    }
    if (!af->in_place) release_stops();
    return RV_OK;
}

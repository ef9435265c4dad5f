/* judge.c - the course's grader: grades one exercise, case by case, and alone decides.
 *
 *   judge [--sanitized] RUNNER N    grades exercise N (1 to 6) with RUNNER, the
 *                                   runner program linked with the step to grade
 *
 * The judge holds no student code: it is linked with the library and the
 * course's solutions only. For each case it starts RUNNER (runner.c) as a
 * grandchild, through a supervisor process that leads a process group of its
 * own, so that the student's code cannot stop, signal or outlive the judge's
 * bookkeeping:
 *
 *   judge -> supervisor (new process group) -> runner (student's step)
 *
 * The runner gets descriptor 3 for its answer, a capture pipe for its output
 * (standard output and error: the judge keeps the first 2 KiB and the last
 * 64 KiB, so 2 MB of prints cost nothing), /dev/null as input and no other
 * descriptor; a CPU-time limit, a memory limit (RLIMIT_AS, or, under
 * AddressSanitizer, which reserves terabytes of address space, ASan's own
 * hard_rss_limit_mb and max_allocation_size_mb: --sanitized says which), and
 * ASan's options (leak detection at its exit). At the end of each case the judge kills the whole
 * group (SIGKILL cannot be ignored or blocked), and, being the subreaper of
 * its descendants, every process that left the group. The answer (wire.h)
 * is checked record by record against the judge's own copy of the case;
 * then the judge compares (cases.c) and prints the verdict, short and last.
 *
 * Exit: 0 every case passed, 1 a case failed (or the step is not written
 * yet), 2 bad usage or the grader itself could not run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "runner.h"

enum {
    CASE_CPU_SECONDS = 5,   /* each case runs in well under a second, sanitizers and all */
    CASE_WALL_SECONDS = 10, /* on a machine shared by other work too */
    TOTAL_SECONDS = 45,     /* the exercise as a whole: under the 60 s promised */
    HEAD_BYTES = 2048,      /* of the student's output: its first lines are shown */
    TAIL_BYTES = 65536,     /* its last: a sanitizer's report comes at the end */
    MEMORY_MB = 2048,       /* resident memory, under AddressSanitizer */
    ADDRESS_MB = 8192,      /* address space, without it (threads reserve some each) */
};

/* What failed, as the verdict line names it (CMakeLists.txt reads these
 * lines for JUnit's failure message: plain words, no regex characters). */
enum {
    K_WRONG,
    K_ERROR,
    K_INPUT,
    K_FAULT,
    K_LEAK,
    K_MEMORY,
    K_TIME,
    K_EXIT,
    K_GARBAGE,
    K_STOPPED,
    K_SIGNAL,
    K_STRAYS,
    K_NOT_WRITTEN,
    N_KINDS
};
static const char *const kind_text[N_KINDS] = {
    [K_WRONG] = "a wrong result",
    [K_ERROR] = "the step returned an error",
    [K_INPUT] = "a const input changed",
    [K_FAULT] = "a memory fault",
    [K_LEAK] = "a memory leak",
    [K_MEMORY] = "too much memory",
    [K_TIME] = "out of time",
    [K_EXIT] = "the process ended before it answered",
    [K_GARBAGE] = "an answer that is not the runner's",
    [K_STOPPED] = "a process stopped",
    [K_SIGNAL] = "the process was killed by a signal",
    [K_STRAYS] = "processes left running",
    [K_NOT_WRITTEN] = "not written yet",
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* ---- one case's run ----------------------------------------------------------------- */

typedef struct {
    unsigned char *frame; /* what came on descriptor 3 */
    size_t frame_len;
    int frame_over; /* more than WIRE_MAX_BYTES */
    char head[HEAD_BYTES + 1];
    size_t head_len;
    char tail[TAIL_BYTES + 1]; /* a ring while reading, made linear at the end */
    size_t tail_pos, total;    /* total: bytes the runner printed */
    int status_known, status,
        cpu_ms;     /* the runner's wait status and CPU time, from the supervisor */
    double seconds; /* the case's time limit: 10 s, or what is left of the exercise's */
    int timed_out, stopped_parent, strays;
} run;

static void keep_output(run *r, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r->head_len < HEAD_BYTES) r->head[r->head_len++] = b[i];
        r->tail[r->total++ % TAIL_BYTES] = b[i];
    }
}

/* Reads what is there: 1 some bytes, 0 end of file (or error), -1 none for now. */
static int drain(int fd, run *r, int frame)
{
    char b[16384];
    ssize_t n = read(fd, b, sizeof b);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
    if (n <= 0) return 0;
    if (!frame) {
        keep_output(r, b, (size_t)n);
        return 1;
    }
    unsigned char *f = r->frame_len + (size_t)n > WIRE_MAX_BYTES
                           ? NULL
                           : realloc(r->frame, r->frame_len + (size_t)n);
    if (!f) {
        r->frame_over = 1; /* more than any answer: the rest is not kept */
        return 1;
    }
    memcpy(f + r->frame_len, b, (size_t)n);
    r->frame = f;
    r->frame_len += (size_t)n;
    return 1;
}

/* The runner, in the child of the supervisor: its descriptors, limits and
 * options, then exec. Nothing of the student's runs before this is done. */
static void start_runner(const char *runner, int n, int k, int frame_fd, int out_fd, int sanitized)
{
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 ||
        dup2(frame_fd, RUNNER_ANSWER_FD) < 0)
        _exit(126);
    fcntl(RUNNER_ANSWER_FD, F_SETFD, 0);       /* dup2 onto itself keeps close-on-exec */
    close_range(RUNNER_ANSWER_FD + 1, ~0U, 0); /* every other descriptor the judge had */
    struct rlimit cpu = {CASE_CPU_SECONDS, CASE_CPU_SECONDS + 1}, core = {0, 0};
    struct rlimit mem = {(rlim_t)ADDRESS_MB << 20, (rlim_t)ADDRESS_MB << 20};
    setrlimit(RLIMIT_CPU, &cpu);
    setrlimit(RLIMIT_CORE, &core);
    if (!sanitized) setrlimit(RLIMIT_AS, &mem);
    char asan[256];
    snprintf(asan, sizeof asan,
             "detect_leaks=1:halt_on_error=1:exitcode=66:abort_on_error=0:print_legend=0:"
             "hard_rss_limit_mb=%d:max_allocation_size_mb=%d:allocator_may_return_null=0:"
             "disable_coredump=1",
             MEMORY_MB, MEMORY_MB);
    setenv("ASAN_OPTIONS", asan, 1);
    setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=66", 1);
    char ns[16], ks[16];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(ks, sizeof ks, "%d", k);
    execl(runner, runner, ns, ks, (char *)NULL);
    _exit(127);
}

/* The supervisor: a process group of its own, the runner in it, and the
 * runner's wait status (exit, signal or stop) passed up on status_fd. */
static void supervise(const char *runner, int n, int k, int frame_fd, int out_fd, int status_fd,
                      int sanitized)
{
    setpgid(0, 0);
    pid_t pid = fork();
    if (pid < 0) _exit(125);
    if (pid == 0) start_runner(runner, n, k, frame_fd, out_fd, sanitized);
    close(frame_fd);
    close(out_fd);
    int st[2]; /* the wait status, and the CPU time used in ms */
    struct rusage ru;
    while (wait4(pid, &st[0], WUNTRACED, &ru) < 0)
        if (errno != EINTR) _exit(125);
    st[1] = (int)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                  (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
    if (write(status_fd, st, sizeof st) != (ssize_t)sizeof st) _exit(125);
    _exit(0);
}

/* How many live processes are in group pg or children of ours, `except`
 * aside (read from /proc/PID/stat); kills them when `kill_them`. */
static int strays(pid_t pg, pid_t except, int kill_them)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == except) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t m = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[m] = '\0';
        char *p = strrchr(buf, ')'), state;
        int ppid, pgrp;
        if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3 || state == 'Z') continue;
        if (pgrp == pg || ppid == getpid()) {
            found++;
            if (kill_them) kill(pid, SIGKILL);
        }
    }
    if (d) closedir(d);
    return found;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Runs case k once within `seconds`; everything it started is dead on return. */
static void run_case(const char *runner, int n, int k, double seconds, int sanitized, run *r)
{
    memset(r, 0, sizeof *r);
    r->seconds = seconds;
    int fr[2], out[2], stp[2];
    fflush(stdout);
    if (pipe2(fr, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(stp, O_CLOEXEC)) {
        perror("judge: pipe");
        exit(2);
    }
    pid_t sup = fork();
    if (sup < 0) {
        perror("judge: fork");
        exit(2);
    }
    if (sup == 0) supervise(runner, n, k, fr[1], out[1], stp[1], sanitized);
    setpgid(sup, sup); /* also here: no race with the first kill below */
    close(fr[1]);
    close(out[1]);
    close(stp[1]);
    set_nonblock(fr[0]);
    set_nonblock(out[0]);
    int frame_open = 1, out_open = 1;
    double end = now() + seconds, settle = 0;
    while (frame_open || out_open || !r->status_known) {
        double left = (settle ? settle : end) - now();
        if (left <= 0) {
            r->timed_out = !settle;
            break;
        }
        struct pollfd p[3] = {{fr[0], POLLIN, 0}, {out[0], POLLIN, 0}, {stp[0], POLLIN, 0}};
        p[0].fd = frame_open ? fr[0] : -1;
        p[1].fd = out_open ? out[0] : -1;
        p[2].fd = r->status_known ? -1 : stp[0];
        poll(p, 3, left > 0.05 ? 50 : (int)(left * 1000) + 1);
        if (p[0].revents) frame_open = drain(fr[0], r, 1) != 0;
        if (p[1].revents) out_open = drain(out[0], r, 0) != 0;
        if (p[2].revents) {
            int st[2];
            r->status_known = read(stp[0], st, sizeof st) == (ssize_t)sizeof st;
            r->status = st[0];
            r->cpu_ms = st[1];
            if (!r->status_known) { /* the supervisor died without telling: treat as killed */
                r->status = SIGKILL;
                r->status_known = 1;
            }
            settle = now() + 0.3; /* what the pipes still hold; a child may keep them open */
        }
        siginfo_t si = {0};
        if (waitid(P_PID, sup, &si, WSTOPPED | WNOHANG | WNOWAIT) == 0 && si.si_pid == sup &&
            si.si_code == CLD_STOPPED) {
            r->stopped_parent = 1; /* the student stopped the supervisor: the judge goes on */
            break;
        }
    }
    if (r->status_known && !WIFSTOPPED(r->status)) r->strays = strays(sup, sup, 0);
    kill(-sup, SIGKILL);
    while (frame_open && drain(fr[0], r, 1) > 0) continue; /* what was written before the kill */
    while (out_open && drain(out[0], r, 0) > 0) continue;
    close(fr[0]);
    close(out[0]);
    close(stp[0]);
    while (waitpid(sup, NULL, 0) < 0 && errno == EINTR) continue;
    for (int round = 0; round < 100 && strays(sup, 0, 1); round++) { /* those that left the group */
        while (waitpid(-1, NULL, WNOHANG) > 0) continue;
        usleep(10000);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) continue;
    if (r->total > TAIL_BYTES) { /* the ring made linear: its oldest byte first */
        char *lin = malloc(TAIL_BYTES);
        size_t start = r->total % TAIL_BYTES;
        if (lin) {
            memcpy(lin, r->tail + start, TAIL_BYTES - start);
            memcpy(lin + TAIL_BYTES - start, r->tail, start);
            memcpy(r->tail, lin, TAIL_BYTES);
            free(lin);
        }
    }
    r->tail[r->total < TAIL_BYTES ? r->total : TAIL_BYTES] = '\0';
    r->head[r->head_len] = '\0';
}

/* ---- reading the sanitizers' reports ------------------------------------------------ */

/* The line of text containing `at`, copied into buf, made printable. */
static const char *line_at(const char *text, const char *at, char *buf, size_t len)
{
    const char *a = at, *b = at;
    while (a > text && a[-1] != '\n') a--;
    while (*b && *b != '\n') b++;
    size_t n = 0;
    for (const char *p = a; p < b && n + 1 < len; p++)
        if (*p != '\r') buf[n++] = (*p >= 32 && *p < 127) ? *p : '?';
    buf[n] = '\0';
    while (n && buf[0] == ' ') memmove(buf, buf + 1, n--);
    return buf;
}

/* The first stack frame of the report starting at `from` that is not in the
 * sanitizer's own code or libc: "FUNCTION FILE:LINE". */
static const char *student_frame(const char *from, char *buf, size_t len)
{
    for (const char *p = strstr(from, "    #"); p; p = strstr(p + 1, "    #")) {
        char l[512];
        line_at(from, p + 4, l, sizeof l);
        const char *in = strstr(l, " in ");
        if (!in || strstr(l, "libasan") || strstr(l, "libubsan") || strstr(l, "libc.so") ||
            strstr(l, "libsanitizer") || strstr(l, "interceptor") || strstr(l, "__libc_"))
            continue;
        snprintf(buf, len, "%s", in + 4);
        return buf;
    }
    snprintf(buf, len, "(no frame of your code in the report)");
    return buf;
}

typedef struct {
    int kind;       /* K_FAULT, K_MEMORY, K_LEAK, or -1: no report */
    char what[512]; /* the report's kind of fault */
    char where[512];
    char detail[512];
} report;

static report read_report(const char *text)
{
    report rp = {.kind = -1};
    const char *e;
    char l[512];
    if ((e = strstr(text, "ERROR: LeakSanitizer")) != NULL) {
        rp.kind = K_LEAK;
        const char *s = strstr(e, "SUMMARY:");
        snprintf(rp.what, sizeof rp.what, "%s",
                 s ? line_at(text, s, l, sizeof l) : "LeakSanitizer: memory leaked");
        student_frame(e, rp.where, sizeof rp.where);
    } else if ((e = strstr(text, "ERROR: AddressSanitizer")) != NULL) {
        line_at(text, e, l, sizeof l);
        rp.kind = strstr(l, "rss limit") || strstr(l, "allocation-size-too-big") ||
                          strstr(l, "out of memory") || strstr(l, "requested allocation size")
                      ? K_MEMORY
                      : K_FAULT;
        char *on = strstr(
            l, " on "); /* "==PID==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x.." */
        if (on) *on = '\0';
        snprintf(rp.what, sizeof rp.what, "%s", strstr(l, "ERROR: ") + strlen("ERROR: "));
        const char *acc = strstr(e, "\nREAD of size");
        if (!acc) acc = strstr(e, "\nWRITE of size");
        if (acc) {
            line_at(text, acc + 1, l, sizeof l);
            char *at = strstr(l, " at 0x");
            if (at) *at = '\0';
            snprintf(rp.detail, sizeof rp.detail, "a %.500s", l);
        }
        const char *loc = strstr(e, "is located ");
        if (loc) {
            line_at(text, loc, l,
                    sizeof l); /* "0x.. is located 0 bytes to the right of 864-byte region [..)" */
            char *range = strstr(l, " ["), *is = strstr(l, "is located ");
            if (range) *range = '\0';
            size_t have = strlen(rp.detail);
            snprintf(rp.detail + have, sizeof rp.detail - have, "%sthe address is %.200s",
                     have ? "; " : "", is ? is + strlen("is located ") : l);
        }
        student_frame(e, rp.where, sizeof rp.where);
    } else if ((e = strstr(text, "runtime error:")) != NULL) {
        rp.kind = K_FAULT;
        line_at(text, e, l, sizeof l);
        snprintf(rp.what, sizeof rp.what, "UndefinedBehaviorSanitizer: %s",
                 strstr(l, "runtime error:") + strlen("runtime error: "));
        char *colon = strstr(l, ": runtime error");
        if (colon) *colon = '\0';
        snprintf(rp.where, sizeof rp.where, "%s", l);
    }
    return rp;
}

/* ---- the verdict of one case ---------------------------------------------------------- */

static jmp_buf check_failed;
static void need_failed(void) { longjmp(check_failed, 1); }

/* What a signal that ended the runner says (the CPU-time limit's are told apart before). */
static void say_signal(int sig)
{
    const char *w = sig == SIGSEGV   ? ": a segmentation fault, a read or write outside memory"
                    : sig == SIGBUS  ? ": a bus error, a read or write outside memory"
                    : sig == SIGFPE  ? ": an arithmetic fault (an integer divided by zero?)"
                    : sig == SIGABRT ? ": it aborted (abort() or a failed assert)"
                    : sig == SIGKILL ? ": out of memory, or your code sent it"
                                     : "";
    printf("    its process was killed by signal %d (%s)%s\n", sig, strsignal(sig), w);
}

typedef struct {
    int faults;           /* sanitizer reports printed in full so far */
    char last_where[512]; /* where the last one was */
    int last_case;
} seen;

/* Prints what went wrong in case k (under its "case k" line) and returns the
 * kind, or -1 for a pass. */
static int judge_case(int n, int k, const grade_case *c, run *r, seen *sn)
{
    report rp = read_report(r->tail);
    if (r->stopped_parent) {
        printf("    your code stopped the grader's process (SIGSTOP to its parent): the case is "
               "over\n");
        return K_STOPPED;
    }
    if (r->timed_out) {
        printf("    it did not finish in %.1f s%s: an endless loop, or a wait that never ends?\n",
               r->seconds,
               r->seconds < CASE_WALL_SECONDS ? " (what was left of the exercise's time)" : "");
        return K_TIME;
    }
    if (r->status_known && WIFSTOPPED(r->status)) {
        printf("    your function's process stopped itself (signal %d, %s)\n", WSTOPSIG(r->status),
               strsignal(WSTOPSIG(r->status)));
        return K_STOPPED;
    }
    if (rp.kind == K_FAULT || rp.kind == K_MEMORY || rp.kind == K_LEAK) {
        if (sn->faults && strcmp(sn->last_where, rp.where) == 0) {
            printf("    %s again, as in case %d\n",
                   rp.kind == K_LEAK ? "the same leak" : "the same fault", sn->last_case);
        } else {
            printf("    %s: %s\n", kind_text[rp.kind], rp.what);
            printf("    in your code: %s\n", rp.where);
            if (rp.detail[0]) printf("    %s\n", rp.detail);
            sn->faults++;
            snprintf(sn->last_where, sizeof sn->last_where, "%s", rp.where);
            sn->last_case = k;
        }
        return rp.kind;
    }
    if (r->status_known && WIFSIGNALED(r->status) && r->cpu_ms >= CASE_CPU_SECONDS * 1000) {
        printf("    it used more than its %d s of CPU time: an endless loop?\n", CASE_CPU_SECONDS);
        return K_TIME;
    }
    if (r->status_known && WIFSIGNALED(r->status)) {
        say_signal(WTERMSIG(r->status));
        return K_SIGNAL;
    }
    int code = r->status_known && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
    if (r->frame_len == 0 || r->frame_over) {
        if (code == RUNNER_NOT_SENT)
            printf("    your function's process could not send its answer for case %d: its "
                   "descriptors were closed or replaced by your code\n",
                   k);
        else if (r->frame_over)
            printf("    your function's process sent more than %u bytes for case %d\n",
                   WIRE_MAX_BYTES, k);
        else
            printf("    your function's process exited (status %d) before returning case %d "
                   "(exit() or _exit() in your code?)\n",
                   code, k);
        return K_EXIT;
    }
    case_state s;
    case_setup(&s, c);
    case_want(&s);
    wire w;
    wire_open(&w, r->frame, r->frame_len, n, k);
    int complete = case_io(&s, &w);
    int verdict = -1;
    if (complete && !wire_close(&w)) {
        printf("    what came back for case %d is not the runner's answer (%s): did your code "
               "write to a descriptor it does not own?\n",
               k, w.why);
        verdict = K_GARBAGE;
    } else if (code != 0) {
        printf("    your function's process exited with status %d after answering\n", code);
        verdict = K_EXIT;
    } else if (r->strays) {
        printf("    your code left %d process%s running after the case (they were killed)\n",
               r->strays, r->strays > 1 ? "es" : "");
        verdict = K_STRAYS;
    } else if (s.differs) {
        printf("    %s\n", s.differs);
        verdict = K_WRONG;
    } else if (w.changed[0]) {
        printf("    %s\n", w.changed);
        verdict = K_INPUT;
    } else {
        case_need_failed = need_failed;
        if (setjmp(check_failed) == 0) {
            int v = case_check(&s);
            verdict = v == CASE_PASS          ? -1
                      : v == CASE_ERROR       ? K_ERROR
                      : v == CASE_NOT_WRITTEN ? K_NOT_WRITTEN
                                              : K_WRONG;
        } else {
            verdict = K_WRONG; /* the library refused what the step left: need() said why */
        }
        case_need_failed = NULL;
    }
    case_free(&s);
    return verdict;
}

/* The student's own output, its first lines: it may explain a failure. */
static void show_output(const run *r)
{
    if (!r->total) return;
    printf("    your code printed %zu bytes; the first lines:\n", r->total);
    const char *p = r->head;
    for (int line = 0; line < 5 && *p; line++) {
        char l[128];
        size_t m = 0;
        for (; *p && *p != '\n'; p++)
            if (m + 1 < sizeof l) l[m++] = *p >= 32 && *p < 127 ? *p : '?';
        l[m] = '\0';
        wire_defang(l);
        if (*p) p++;
        printf("      | %s\n", l);
    }
}

/* 1 when this program is built with AddressSanitizer: so is every runner of
 * its build (the asan preset's flags are the whole build's), whatever the
 * command line says */
#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif
#ifndef BUILT_WITH_ASAN
#define BUILT_WITH_ASAN 0
#endif

int main(int argc, char **argv)
{
    int flag = argc > 1 && strcmp(argv[1], "--sanitized") == 0;
    int sanitized = flag || BUILT_WITH_ASAN;
    int n = argc == 3 + flag ? atoi(argv[2 + flag]) : 0, count = 0;
    const char *runner = argc == 3 + flag ? argv[1 + flag] : NULL;
    const grade_case *c = n >= 1 && n <= N_EXERCISES ? exercise_cases(n, &count) : NULL;
    if (!c || access(runner, X_OK) != 0) {
        fprintf(stderr,
                "usage: %s [--sanitized] RUNNER N   grades exercise N (1 to %d) with "
                "RUNNER, the runner built on that exercise\n",
                argv[0], N_EXERCISES);
        return 2;
    }
    for (int fd = open("/dev/null", O_RDWR); fd >= 0 && fd <= 2; fd = open("/dev/null", O_RDWR))
        continue;                     /* 0, 1 and 2 open: no pipe of ours may take their numbers */
    prctl(PR_SET_CHILD_SUBREAPER, 1); /* what the runner's children leave behind comes to us */
    signal(SIGPIPE, SIG_IGN);
    const exercise *e = &exercises[n - 1];
    printf("Exercise %d: %s, in lessons/exercises/%s\n", n, e->title, e->file);
    double start = now();
    int passed = 0, not_written = 0, ran = 0, first = -1, first_kind = -1, first_unwritten = -1;
    seen sn = {0};
    for (int k = 1; k <= count; k++) {
        double left = TOTAL_SECONDS - (now() - start);
        if (left <= 1) break;
        printf("  case %d, %s:\n", k, c[k - 1].name);
        run r;
        run_case(runner, n, k, left < CASE_WALL_SECONDS ? left : CASE_WALL_SECONDS, sanitized, &r);
        int kind = judge_case(n, k, &c[k - 1], &r, &sn);
        ran++;
        if (kind >= 0 && kind != K_NOT_WRITTEN && first < 0 && sn.faults == 0 && kind != K_STRAYS)
            show_output(&r);
        free(r.frame);
        printf("  -> %s\n", kind < 0 ? "ok" : kind == K_NOT_WRITTEN ? "not written yet" : "FAIL");
        passed += kind < 0;
        not_written += kind == K_NOT_WRITTEN;
        if (kind == K_NOT_WRITTEN && first_unwritten < 0) first_unwritten = k;
        if (kind >= 0 && kind != K_NOT_WRITTEN && first < 0) {
            first = k;
            first_kind = kind;
        }
        if (kind == K_TIME || kind == K_STOPPED) break; /* the rest would wait as long */
    }
    if (not_written == count) {
        printf("FAIL exercise %d: not implemented yet; write it in lessons/exercises/%s\n", n,
               e->file);
        return 1;
    }
    if (first < 0 && not_written) { /* some cases written, the others not yet */
        first = first_unwritten;
        first_kind = K_NOT_WRITTEN;
    }
    if (passed == count) {
        printf("PASS exercise %d: %d of %d cases\n", n, passed, count);
        return 0;
    }
    if (first < 0) { /* the exercise's time was spent before its last case */
        first = ran + 1;
        first_kind = K_TIME;
    }
    printf("FAIL exercise %d, case %d, %s: %s\n", n, first, c[first - 1].name,
           kind_text[first_kind]);
    printf("%d of %d cases passed%s; hint: %s\n", passed, count,
           ran < count ? " (the rest not run)" : "", e->hint);
    return 1;
}

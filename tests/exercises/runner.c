/* runner.c - runs one case of an exercise on the student's step, and only that.
 *
 *   runner N K     case K of exercise N; the answer goes to descriptor 3
 *
 * Linked with the student's file for step N (and the course's solutions for
 * the other steps). It decides nothing: it builds the case's inputs from the
 * case's seed, calls the step, and writes what came back (wire.h) for the
 * judge, which started it with its limits, its descriptors and its
 * sanitizer options, compares and gives the verdict. Everything it
 * allocated is freed before it returns, so LeakSanitizer's report at exit
 * is the student's leaks only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "runner.h"

/* LeakSanitizer's entry point when the runner is built with it (the student's
 * file is), else NULL. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* Overwrites the stack below main's frame, where the step's frames were: a
 * pointer to a leaked block left there would count as reachable, and the
 * leak would go unreported (seen: 1 MB leaked per call passed, at random). */
__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char junk[1 << 16];
    memset((char *)junk, 0, sizeof junk);
}

int main(int argc, char **argv)
{
    int n = argc == 3 ? atoi(argv[1]) : 0, k = argc == 3 ? atoi(argv[2]) : 0, count = 0;
    const grade_case *c = n >= 1 && n <= N_EXERCISES ? exercise_cases(n, &count) : NULL;
    if (!c || k < 1 || k > count) {
        fprintf(stderr, "usage: %s N K   runs case K of exercise N (for the grader)\n", argv[0]);
        return 2;
    }
    case_state s;
    case_setup(&s, &c[k - 1]);
    case_call(&s);
    wire w;
    wire_start(&w, n, k);
    case_io(&s, &w);
    int sent = wire_send(&w, RUNNER_ANSWER_FD);
    wire_free(&w);
    case_free(&s);
    if (__lsan_do_leak_check) { /* now, with the stack clean, rather than at exit */
        scrub_stack();
        __lsan_do_leak_check();
    }
    return sent ? 0 : RUNNER_NOT_SENT;
}

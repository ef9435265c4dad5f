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

#include "cases.h"
#include "runner.h"

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
    return sent ? 0 : RUNNER_NOT_SENT;
}

/* cases.h - the graded cases of the six exercises, seen from both sides.
 *
 * A case is built the same way in the runner (linked with the student's
 * step) and in the judge (linked with none): case_setup makes its inputs from
 * the case's seed. Only the runner calls case_call (the student's step), only
 * the judge calls case_want (what the answer must be) and case_check (the
 * comparison and the messages). case_io moves the answer across (wire.h).
 */
#ifndef CASES_H
#define CASES_H

#include <stdint.h>

#include "rv_net.h"
#include "rv_reparam.h"
#include "wire.h"

typedef enum { SUM, FUSE, PAD, IDENTITY, WANTS, FOLD, SWITCH, SWITCH_ERROR } case_family;

typedef struct {
    int ex;           /* the exercise, 1 to 6 */
    const char *name; /* the property it checks (the verdict quotes it: no regex characters) */
    case_family family;
    int p[6]; /* the family's parameters (cases.c says which) */
    uint64_t seed;
} grade_case;

typedef struct {
    const char *title, *file, *hint;
} exercise;

#define N_EXERCISES 6
extern const exercise exercises[N_EXERCISES];
/* The cases of exercise n (1 to 6), *count of them. */
const grade_case *exercise_cases(int n, int *count);

/* A case's values: inputs, outputs, what the steps returned. */
typedef struct {
    const grade_case *c;
    rv_rng rng;
    rv_tensor t[8];
    rv_bn bn;
    rv_block_spec spec, got_spec; /* got_spec: the runner's, as the judge received it */
    rv_block block;
    rv_net net, fast;
    int have_block, have_net, have_fast;
    rv_status st[4];
    char msg[4][WIRE_MSG + 1];
    int yes[4];
    const char *differs; /* judge: the answer's structure is not the case's (and why) */
} case_state;

/* Verdicts of a case's check. */
enum { CASE_PASS, CASE_WRONG, CASE_ERROR, CASE_NOT_WRITTEN };

void case_setup(case_state *s, const grade_case *c);
void case_call(case_state *s);
void case_want(case_state *s);
/* 1 when the whole sequence was moved; 0 when the judge stopped reading at
 * s->differs (the rest of the frame then follows another structure). */
int case_io(case_state *s, wire *w);
int case_check(case_state *s);
void case_free(case_state *s);

/* Where a setting-up call of the grader's own fails: the runner stops, the
 * judge fails the case (set by the judge; NULL: exit). */
extern void (*case_need_failed)(void);

#endif

/* rv_lesson.h - what every lesson prints: its step's algebra first, the two
 * forms measured side by side, the last line PASS or FAIL.
 *
 *   rv_lesson_begin   "Lesson NN: ...", the algebra with every symbol defined,
 *                     the device
 *   rv_lesson_compare both forms timed by turns (rv_measure_pair) and shown
 *                     as one table: time, and memory as activations kept
 *                     plus the scratch one call allocates
 *   rv_lesson_end     "PASS: <what holds> on <device>", or FAIL with the
 *                     first error kept; returns the exit code
 *   rv_lesson_check_block, rv_lesson_time_block
 *                     a block's two forms (rv_block_pair) compared, timed
 *   rv_lesson_check_nets, rv_lesson_time_nets
 *                     two networks compared; their forwards timed, each
 *                     through its plan
 */
#ifndef RV_LESSON_H
#define RV_LESSON_H

#include "rv_block.h"
#include "rv_measure.h"
#include "rv_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prints the title line, the algebra (lines separated by '\n', printed
 * indented) and the device line. */
void rv_lesson_begin(const char *title, const char *algebra, rv_device dev);

/* "Do the two forms agree?" and what agreeing means, in words: a is the
 * checked form's value (a_is, e.g. "the fused conv's"), r the reference's
 * (r_is), the bounds those of RV_TOL_FP32 (src/base/rv_check.h). */
void rv_lesson_agree_heading(const char *a_is, const char *r_is);

/* One of the two forms a lesson compares: its name in the table, its
 * function over preallocated buffers, and the bytes of the activation
 * buffers it keeps between calls (0 when it allocates them as it runs). */
typedef struct {
    const char *name;
    rv_fn fn;
    void *ctx;
    size_t activations;
} rv_lesson_form;

/* Times forms[0] (the multi-branch or reference form) and forms[1] (the
 * fused one) by turns and prints the table under a heading that names
 * `what` (e.g. "8 -> 8 channels, stride 1"), then how much faster the fused
 * form runs and how much memory it needs. `legend` says what the memory
 * columns count; NULL gives the usual one. out may be NULL. On an error
 * nothing is printed and the error is kept for rv_lesson_end. */
rv_status rv_lesson_compare(rv_device dev, const char *what, const rv_lesson_form forms[2],
                            int warmup, int repeat, const char *legend, rv_form_result out[2]);

/* The table alone, for results measured otherwise. */
void rv_lesson_print_forms(const char *what, const rv_lesson_form forms[2],
                           const rv_form_result r[2], int warmup, int repeat, const char *legend);

/* Builds spec's block in both forms (rv_block_pair: seeded, an n x C x s x s
 * input), runs both and prints rv_expect_close's line (RV_TOL_FP32) under
 * `what`; 1 when they agree. An error is printed and kept for rv_lesson_end. */
int rv_lesson_check_block(const char *what, rv_block_spec spec, rv_device dev, int n, int s,
                          uint64_t seed);
/* rv_lesson_compare of spec's block: "train-time (B branches)" against
 * "deploy-time (1 conv)" under "<name>, C -> O channels, stride s, <input>",
 * the middles of 1x1-then-k x k branches counted as activations (the legend
 * then says so). An error is kept for rv_lesson_end, nothing printed. */
void rv_lesson_time_block(const char *name, rv_block_spec spec, rv_device dev, int n, int s,
                          uint64_t seed, int warmup, int repeat);

/* Runs net a and the reference net r on x (rv_net_forward) and prints
 * rv_expect_close's line (RV_TOL_NET: a network's rounding adds up) under
 * `what`; 1 when they agree. An error is printed and kept for rv_lesson_end. */
int rv_lesson_check_nets(const char *what, const rv_net *a, const rv_net *r, const rv_tensor *x);

/* Plans nets[0] and nets[1] on x (rv_plan_build_counted), times their
 * forwards by turns (rv_measure_pair) and, once measured, prints intro (NULL:
 * nothing) and rv_lesson_print_forms's table under `what`, the forms named
 * names[]: activations the buffers a plan keeps for the blocks' outputs,
 * scratch the rest of the plan and what a forward adds. An error is kept for
 * rv_lesson_end, nothing printed. */
void rv_lesson_time_nets(const char *what, const rv_net *const nets[2], const char *const names[2],
                         const rv_tensor *x, rv_device dev, int warmup, int repeat,
                         const char *intro, const char *legend);

/* The last line: "FAIL: <first kept error>" when one was kept, else
 * "PASS: <holds> on <dev>" or "FAIL: <fails> on <dev>". Returns the exit
 * code: 0 for PASS, 1 for FAIL or when the output could not be written
 * (rv_results_end). */
int rv_lesson_end(int pass, rv_device dev, const char *holds, const char *fails);

/* A lesson's first error, kept for the FAIL line it ends with:
 * rv_lesson_keep_error() keeps rv_last_error() unless an error is kept
 * already, and returns rv_last_error(); rv_lesson_error() is the kept one
 * ("" while none). */
const char *rv_lesson_keep_error(void);
const char *rv_lesson_error(void);

#ifdef __cplusplus
}
#endif
#endif

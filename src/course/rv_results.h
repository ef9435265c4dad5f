/* rv_results.h - standard output carries a program's results, so a result
 * that cannot be written is an error, not a silent exit 0.
 *
 *   rv_results_begin  first thing in main: refuses to start (exit 1, with a
 *                     message on stderr) when standard output is closed, and
 *                     puts /dev/null on a closed stdin or stderr, so that no
 *                     file or pipe the program opens takes descriptor 0, 1
 *                     or 2 (lesson 07's pipe once took 1 and swallowed the
 *                     lesson's FAIL line)
 *   rv_results_end    last: flushes standard output; a write that failed
 *                     there or before (a full disk, > /dev/full) is exit 1
 *                     with a message on stderr
 */
#ifndef RV_RESULTS_H
#define RV_RESULTS_H

#ifdef __cplusplus
extern "C" {
#endif

/* -1 to go on, or the exit code (1). prog names the program in messages. */
int rv_results_begin(const char *prog);
/* rc, the program's exit code, or 1 (when rc was 0) if its results could
 * not all be written. */
int rv_results_end(int rc);

#ifdef __cplusplus
}
#endif
#endif

/* runner.h - what the runner (runner.c) and the judge (judge.c) agree on besides the answer. */
#ifndef RUNNER_H
#define RUNNER_H

#define RUNNER_ANSWER_FD 3 /* where the runner writes its answer (wire.h) */
#define RUNNER_NOT_SENT 3  /* its exit status when that descriptor would not take it */

#endif

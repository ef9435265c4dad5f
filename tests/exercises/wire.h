/* wire.h - a case's answer, from the runner (the student's process) to the judge.
 *
 * The runner computes one case with the student's step and sends back what
 * the step returned and wrote: each status with its message, each output
 * tensor, and each input tensor as it is after the call. The judge reads the
 * same sequence with the same code (cases.c calls one io function per case,
 * writing in the runner, reading in the judge), so the two sides cannot
 * disagree about the order. The judge trusts nothing in it: a record of the
 * wrong kind, a size past the limits, bytes left over or missing make the
 * whole answer "not the runner's", never a pass.
 *
 * Records: 'S' status (int32 code, uint16 length, message), 'T' tensor
 * (int32 ndim, -1 for none; int64 dims; float32 data), 'B' bytes (uint32
 * length, bytes); the frame opens with "RVG1", the exercise and the case, and
 * ends with 'E'. Native byte order: both ends are programs of one build.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>

#include "rv_tensor.h"

#define WIRE_MAX_BYTES (64u << 20) /* no case's answer comes near: the largest is ~40 KB */
#define WIRE_MSG 240               /* a status's message is cut there */

typedef struct {
    int writing;          /* 1 in the runner, 0 in the judge */
    unsigned char *buf;   /* the frame: built by the runner, received by the judge */
    size_t len, cap, pos; /* pos: the judge's read position */
    int garbage;          /* judge: the frame does not follow the case's sequence */
    char why[160];        /* judge: what was wrong with it, first thing only */
    char changed[320];    /* judge: the first input found changed ("" if none) */
} wire;

/* The runner's frame for case k of exercise n; wire_send writes it to fd. */
void wire_start(wire *w, int n, int k);
int wire_send(wire *w, int fd);
/* The judge's view of a received frame (buf, len: what the pipe gave). */
void wire_open(wire *w, unsigned char *buf, size_t len, int n, int k);
/* Judge: 1 when the frame ended exactly where the case's sequence did. */
int wire_close(wire *w);
void wire_free(wire *w);

/* Student text made unable to pass for a verdict line: "FAIL exercise"
 * becomes "FAIL_exercise" (CTest's failure expressions match the judge's
 * lines only). */
void wire_defang(char *s);

/* A status with the library's last message (runner), or read into *st and
 * msg (judge: the message made printable, cut at WIRE_MSG). */
void wire_status(wire *w, rv_status *st, char msg[WIRE_MSG + 1]);
void wire_int(wire *w, int *v);
void wire_bytes(wire *w, void *p, size_t n);
/* An output: sent (runner); received into t (judge), re-allocated when the
 * student's shape is not t's, so the check sees the shape the student left. */
void wire_output(wire *w, rv_tensor *t);
/* An input as it is after the call: sent (runner); compared bit for bit with
 * the judge's own copy, the first difference kept in w->changed (judge). */
void wire_input(wire *w, const rv_tensor *t, const char *name);

#endif

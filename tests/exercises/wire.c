/* wire.c - a case's answer as bytes: written by the runner, checked by the judge (wire.h). */
#include "wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_NUMEL = 1 << 24 }; /* a received tensor above this is garbage, not a result */

static void put(wire *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n) cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b) {
            fprintf(stderr, "runner: out of memory for the answer\n");
            exit(1);
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void bad(wire *w, const char *why)
{
    if (!w->garbage) snprintf(w->why, sizeof w->why, "%s", why);
    w->garbage = 1;
}

/* Judge: the next n bytes, or NULL (and the frame marked garbage). */
static const unsigned char *take(wire *w, size_t n, const char *what)
{
    if (w->garbage) return NULL;
    if (w->len - w->pos < n) {
        char why[96];
        snprintf(why, sizeof why, "it stops short, inside %s", what);
        bad(w, why);
        return NULL;
    }
    const unsigned char *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

static int tag(wire *w, char t)
{
    if (w->writing) {
        put(w, &t, 1);
        return 1;
    }
    const unsigned char *p = take(w, 1, "a record's kind");
    if (p && *p != (unsigned char)t) {
        char why[96];
        snprintf(why, sizeof why, "a record of kind %d where '%c' belongs", *p, t);
        bad(w, why);
        return 0;
    }
    return p != NULL;
}

void wire_start(wire *w, int n, int k)
{
    *w = (wire){.writing = 1};
    int32_t head[2] = {n, k};
    put(w, "RVG1", 4);
    put(w, head, sizeof head);
}

int wire_send(wire *w, int fd)
{
    tag(w, 'E');
    for (size_t off = 0; off < w->len;) {
        ssize_t m = write(fd, w->buf + off, w->len - off);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) return 0;
        off += (size_t)m;
    }
    return 1;
}

void wire_open(wire *w, unsigned char *buf, size_t len, int n, int k)
{
    *w = (wire){.buf = buf, .len = len};
    const unsigned char *p = take(w, 12, "its header");
    int32_t head[2];
    if (p) memcpy(head, p + 4, sizeof head);
    if (p && (memcmp(p, "RVG1", 4) != 0 || head[0] != n || head[1] != k))
        bad(w, "its header is not the runner's for this case");
}

int wire_close(wire *w)
{
    if (tag(w, 'E') && w->pos != w->len) bad(w, "bytes follow its end");
    return !w->garbage;
}

void wire_free(wire *w)
{
    free(w->buf);
    w->buf = NULL;
}

void wire_status(wire *w, rv_status *st, char msg[WIRE_MSG + 1])
{
    if (!tag(w, 'S')) return;
    if (w->writing) {
        const char *m = *st == RV_OK ? "" : rv_last_error();
        int32_t code = *st;
        uint16_t n = (uint16_t)strnlen(m, WIRE_MSG);
        put(w, &code, sizeof code);
        put(w, &n, sizeof n);
        put(w, m, n);
        return;
    }
    const unsigned char *p = take(w, 6, "a status");
    if (!p) return;
    int32_t code;
    uint16_t n;
    memcpy(&code, p, 4);
    memcpy(&n, p + 4, 2);
    if (n > WIRE_MSG) {
        bad(w, "a status message too long");
        return;
    }
    const unsigned char *m = take(w, n, "a status message");
    if (!m) return;
    for (uint16_t i = 0; i < n; i++) /* printable only: it is printed under the judge's lines */
        msg[i] = m[i] >= 32 && m[i] < 127 ? (char)m[i] : '?';
    msg[n] = '\0';
    wire_defang(msg);
    *st = (rv_status)code;
}

void wire_defang(char *s)
{
    for (char *p = s; (p = strstr(p, "FAIL exercise")) != NULL; p++) p[4] = '_';
}

void wire_int(wire *w, int *v)
{
    int32_t x = *v;
    wire_bytes(w, &x, sizeof x);
    *v = x;
}

void wire_bytes(wire *w, void *p, size_t n)
{
    if (!tag(w, 'B')) return;
    uint32_t len = (uint32_t)n;
    if (w->writing) {
        put(w, &len, sizeof len);
        put(w, p, n);
        return;
    }
    const unsigned char *q = take(w, 4, "a size");
    if (!q) return;
    memcpy(&len, q, 4);
    if (len != n) {
        bad(w, "a record of the wrong size");
        return;
    }
    if ((q = take(w, n, "a record"))) memcpy(p, q, n);
}

static void put_tensor(wire *w, const rv_tensor *t)
{
    int32_t nd = t->data ? t->ndim : -1;
    put(w, &nd, sizeof nd);
    if (nd < 0) return;
    put(w, t->dim, (size_t)nd * sizeof t->dim[0]);
    put(w, t->data, rv_tensor_bytes(t));
}

/* Judge: the next tensor's shape into *shape (ndim -1: none) and its data. */
static const float *get_tensor(wire *w, rv_tensor *shape)
{
    *shape = (rv_tensor){.ndim = -1};
    const unsigned char *p = take(w, 4, "a tensor");
    if (!p) return NULL;
    int32_t nd;
    memcpy(&nd, p, 4);
    if (nd == -1) return NULL;
    if (nd < 1 || nd > RV_MAX_DIMS) {
        bad(w, "a tensor of impossible rank");
        return NULL;
    }
    if (!(p = take(w, (size_t)nd * 8, "a tensor's shape"))) return NULL;
    shape->ndim = nd;
    memcpy(shape->dim, p, (size_t)nd * 8);
    int64_t numel = 1;
    for (int d = 0; d < nd; d++) {
        if (shape->dim[d] < 1 || shape->dim[d] > MAX_NUMEL) {
            bad(w, "a tensor's size out of range");
            return NULL;
        }
        numel *= shape->dim[d];
        if (numel > MAX_NUMEL) {
            bad(w, "a tensor's size out of range");
            return NULL;
        }
    }
    return (const float *)(const void *)take(w, (size_t)numel * sizeof(float), "a tensor's values");
}

/* A tensor record: sent (runner: returns 0), or read (judge: returns 1 with
 * *v its values, NULL for none, and *shape its shape). */
static int tensor_record(wire *w, const rv_tensor *t, rv_tensor *shape, const float **v)
{
    if (!tag(w, 'T')) return 0;
    if (w->writing) {
        put_tensor(w, t);
        return 0;
    }
    *v = get_tensor(w, shape);
    return !w->garbage;
}

void wire_output(wire *w, rv_tensor *t)
{
    rv_tensor shape;
    const float *v;
    if (!tensor_record(w, t, &shape, &v)) return;
    if (!v) { /* the student left no tensor there */
        rv_tensor_free(t);
        return;
    }
    if (!rv_tensor_same_shape(&shape, t)) {
        rv_tensor_free(t);
        if (rv_tensor_alloc(t, RV_CPU, shape.ndim, shape.dim, "received") != RV_OK) {
            bad(w, "a tensor too large to hold");
            return;
        }
    }
    memcpy(t->data, v, rv_tensor_bytes(t));
}

void wire_input(wire *w, const rv_tensor *t, const char *name)
{
    rv_tensor shape;
    const float *v;
    if (!tensor_record(w, t, &shape, &v) || w->changed[0]) return;
    char s[64];
    if (!v || !rv_tensor_same_shape(&shape, t)) {
        snprintf(w->changed, sizeof w->changed, "its input %s is a const input, but it %s", name,
                 v ? "has another shape now" : "is gone");
        return;
    }
    int64_t n = rv_tensor_numel(t), diff = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&v[i], &t->data[i], sizeof(float)) != 0) {
            if (first < 0) first = i;
            diff++;
        }
    float now = 0.0f; /* v is the wire's: not aligned for a float */
    if (diff) memcpy(&now, &v[first], sizeof now);
    if (diff)
        snprintf(w->changed, sizeof w->changed,
                 "its input %s %s is a const input, but %lld of %lld values changed; first at "
                 "flat index %lld: was %.7g, now %.7g",
                 name, rv_tensor_shape_str(t, s, sizeof s), (long long)diff, (long long)n,
                 (long long)first, t->data[first], now);
}

/* npy.c - NumPy .npy reader and writer (see rv_npy.h).
 *
 * The header is parsed as the Python literal it is, strictly: a dict with
 * exactly the keys 'descr' (a string), 'fortran_order' (True/False) and
 * 'shape' (a tuple of non-negative integers), nothing else.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rv_file.h"
#include "rv_magic.h"
#include "rv_npy.h"

#define NPY_MAX_HEADER 10000
static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

typedef struct {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++;
}

static int eat(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...") into buf; 0 if there is none. */
static int read_string(cursor *c, char *buf, size_t len)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 < len) buf[n++] = *c->p;
        c->p++;
    }
    buf[n] = '\0';
    if (c->p >= c->end) return 0;
    c->p++;
    return 1;
}

static int read_word(cursor *c, const char *word)
{
    skip_space(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || strncmp(c->p, word, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* (d0, d1, ...) with an optional trailing comma; at most 8 dims read. A
 * sign is read too, so that a negative dimension gets its own message. */
static int read_shape(cursor *c, int64_t *dim, int *ndim)
{
    *ndim = 0;
    if (!eat(c, '(')) return 0;
    for (;;) {
        if (eat(c, ')')) return 1;
        skip_space(c);
        int neg = c->p < c->end && *c->p == '-';
        c->p += neg;
        if (c->p >= c->end || !isdigit((unsigned char)*c->p) || *ndim >= 8) return 0;
        int64_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            if (v > (INT64_MAX - 9) / 10) return 0;
            v = v * 10 + (*c->p++ - '0');
        }
        dim[(*ndim)++] = neg ? -v : v;
        if (!eat(c, ',')) return eat(c, ')');
    }
}

static rv_status parse_header(const char *path, const char *h, size_t len, int64_t *dim, int *ndim)
{
    cursor c = {h, h + len};
    char key[32], descr[32];
    int fortran = 0, have_descr = 0, have_fortran = 0, have_shape = 0;
    if (!eat(&c, '{')) return rv_error(RV_EFORMAT, "%s: the header is not a dict", path);
    while (!eat(&c, '}')) {
        if (!read_string(&c, key, sizeof key) || !eat(&c, ':'))
            return rv_error(RV_EFORMAT, "%s: malformed header dict", path);
        int *seen = strcmp(key, "descr") == 0           ? &have_descr
                    : strcmp(key, "fortran_order") == 0 ? &have_fortran
                    : strcmp(key, "shape") == 0         ? &have_shape
                                                        : NULL;
        /* Python would keep the last of two equal keys; a file that says two
         * things is refused rather than guessed at. */
        if (seen && *seen)
            return rv_error(RV_EFORMAT, "%s: header key '%s' appears twice", path, key);
        if (seen == &have_descr) {
            *seen = read_string(&c, descr, sizeof descr);
        } else if (seen == &have_fortran) {
            fortran = read_word(&c, "True");
            *seen = fortran || read_word(&c, "False");
        } else if (seen == &have_shape) {
            *seen = read_shape(&c, dim, ndim);
        }
        if (!seen || !*seen)
            return rv_error(RV_EFORMAT, "%s: header key '%s' is unknown or its value malformed",
                            path, key);
        if (!eat(&c, ',') && (skip_space(&c), c.p < c.end && *c.p != '}'))
            return rv_error(RV_EFORMAT, "%s: malformed header dict", path);
    }
    skip_space(&c); /* the padding: spaces and a final newline */
    if (c.p != c.end)
        return rv_error(RV_EFORMAT, "%s: text after the header dict, at header byte %zu", path,
                        (size_t)(c.p - h));
    if (!have_descr || !have_fortran || !have_shape)
        return rv_error(RV_EFORMAT, "%s: the header lacks descr, fortran_order or shape", path);
    if (strcmp(descr, "<f4") != 0)
        return rv_error(RV_EFORMAT, "%s: dtype '%s' is not supported (need '<f4', float32)", path,
                        descr);
    if (fortran)
        return rv_error(RV_EFORMAT, "%s: Fortran order is not supported (save a C-order array)",
                        path);
    if (*ndim < 1 || *ndim > RV_MAX_DIMS)
        return rv_error(RV_EFORMAT, "%s: rank %d is not supported (need 1 to %d)", path, *ndim,
                        RV_MAX_DIMS);
    for (int i = 0; i < *ndim; i++)
        if (dim[i] <= 0)
            return rv_error(RV_EFORMAT, "%s: dimension %d is %lld (must be positive)", path, i,
                            (long long)dim[i]);
    return RV_OK;
}

/* The preamble and the header are checked, and the shape against the
 * file's size, before the tensor is allocated or its data read: a file that
 * is not a .npy one is refused from its first bytes, however large. */
static rv_status parse(const rv_source *src, rv_tensor *out)
{
    const char *path = src->name;
    const uint64_t size = src->size;
    unsigned char d[RV_FILE_KIND_BYTES];
    size_t len = size < sizeof d ? (size_t)size : sizeof d;
    rv_status st = rv_source_read(src, 0, d, len);
    if (st != RV_OK) return st;
    size_t hlen = 0, start = 0;
    int has_magic = len >= sizeof magic && memcmp(d, magic, sizeof magic) == 0;
    const char *kind = has_magic ? NULL : rv_file_kind(d, len, size);
    if (kind)
        st = rv_error(RV_EFORMAT, "%s: not a .npy file: it is %s", path, kind);
    else if (!has_magic)
        st = rv_error(RV_EFORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    else if (len < 10)
        st = rv_error(RV_EFORMAT, "%s: the file ends inside its preamble", path);
    else if (d[6] < 1 || d[6] > 3 || d[7] != 0) /* numpy itself knows 1.0, 2.0, 3.0 only */
        st = rv_error(RV_EFORMAT, "%s: .npy version %d.%d is not supported", path, d[6], d[7]);
    else if (d[6] == 1)
        hlen = d[8] | (size_t)d[9] << 8, start = 10;
    else if (len < 12)
        st = rv_error(RV_EFORMAT, "%s: the file ends inside its version %d.0 preamble", path, d[6]);
    else
        hlen = d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16 | (size_t)d[11] << 24, start = 12;
    if (st == RV_OK && hlen > size - start)
        st = rv_error(RV_EFORMAT, "%s: the header (%zu bytes) runs past the end of the file", path,
                      hlen);
    /* numpy's own np.load refuses a header over 10000 bytes (max_header_size) */
    if (st == RV_OK && hlen > NPY_MAX_HEADER)
        st = rv_error(RV_EFORMAT,
                      "%s: the header is %zu bytes, more than the %d a float32 "
                      "array's needs",
                      path, hlen, NPY_MAX_HEADER);
    char header[NPY_MAX_HEADER];
    int64_t dim[8];
    int ndim = 0;
    if (st == RV_OK) st = rv_source_read(src, start, header, hlen);
    if (st == RV_OK) st = parse_header(path, header, hlen, dim, &ndim);
    if (st == RV_OK) {
        uint64_t have = size - start - hlen, numel = 1;
        for (int i = 0; i < ndim; i++)
            numel = numel > UINT64_MAX / (uint64_t)dim[i] ? UINT64_MAX : numel * (uint64_t)dim[i];
        if (numel > have / 4 || numel * 4 != have)
            st = rv_error(RV_EFORMAT, "%s: the shape needs %llu bytes of data, the file holds %llu",
                          path, numel > UINT64_MAX / 4 ? UINT64_MAX : (unsigned long long)numel * 4,
                          (unsigned long long)have);
    }
    if (st == RV_OK) st = rv_tensor_alloc(out, RV_CPU, ndim, dim, path);
    if (st == RV_OK) st = rv_source_read(src, start + hlen, out->data, rv_tensor_bytes(out));
    if (st != RV_OK) rv_tensor_free(out);
    return st;
}

rv_status rv_npy_read(const char *path, rv_tensor *out)
{
    memset(out, 0, sizeof *out);
    rv_source src;
    rv_status st = rv_source_open(&src, path);
    if (st != RV_OK) return st;
    st = parse(&src, out);
    rv_source_close(&src);
    return st;
}

rv_status rv_npy_parse(const unsigned char *d, size_t len, const char *path, rv_tensor *out)
{
    memset(out, 0, sizeof *out);
    rv_source src;
    rv_source_memory(&src, d, len, path);
    return parse(&src, out);
}

rv_status rv_npy_write(const char *path, const rv_tensor *t)
{
    /* A zeroed or freed tensor would make a rank-0 file that no reader here takes. */
    if (!t->data || t->ndim < 1 || t->ndim > RV_MAX_DIMS)
        return rv_error(RV_EINVAL, "%s: nothing to write: the tensor is empty (rank %d)", path,
                        t->ndim);
    rv_tensor h = *t;
    rv_status st = t->device == RV_CPU ? RV_OK : rv_tensor_clone(&h, t, RV_CPU, path);
    if (st != RV_OK) return st;
    char header[256], shape[160] = "";
    size_t used = 0;
    for (int i = 0; i < t->ndim; i++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%lld,%s", (long long)t->dim[i],
                                 i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) shape[strlen(shape) - 1] = '\0'; /* (5,) keeps its comma, (2, 3) does not */
    int n = snprintf(header, sizeof header,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    /* pad with spaces so the data starts at a multiple of 64 bytes, end with \n */
    size_t total = ((size_t)n + 10 + 1 + 63) / 64 * 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t hlen = total - 10;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    memset(header + n, ' ', hlen - 1 - (size_t)n);
    header[hlen - 1] = '\n';
    rv_atomic_file af;
    st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, pre, sizeof pre);
    if (st == RV_OK) st = rv_atomic_write(&af, header, hlen);
    if (st == RV_OK) st = rv_atomic_write(&af, h.data, rv_tensor_bytes(&h));
    if (st == RV_OK) st = rv_atomic_commit(&af);
    if (t->device != RV_CPU) rv_tensor_free(&h);
    return st;
}

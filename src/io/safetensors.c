/* safetensors.c - safetensors reader and writer (see rv_safetensors.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "rv_file.h"
#include "rv_magic.h"
#include "rv_safetensors.h"

/* Where one entry's bytes lie in the data buffer; name points into the JSON. */
typedef struct {
    uint64_t begin, end;
    const char *name;
} span;

/* By begin, then end: a zero-size tensor at the offset where another begins
 * ([8, 8] and [8, 16]) must sort first, or it would look like an overlap. */
static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return (x->begin > y->begin) - (x->begin < y->begin);
    return (x->end > y->end) - (x->end < y->end);
}

static int cmp_span_name(const void *a, const void *b)
{
    return strcmp(((const span *)a)->name, ((const span *)b)->name);
}

/* A JSON number that is a whole count: non-negative, integral and at most
 * 2^53, the largest range in which doubles (cJSON's only numbers) are exact. */
static int as_count(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return 0;
    *out = (uint64_t)v->valuedouble;
    return 1;
}

/* Bytes per element of a dtype we accept: F32 is read, integers skipped. */
static int dtype_size(const char *dtype, int *is_f32)
{
    static const struct {
        const char *name;
        int size;
    } known[] = {{"F32", 4}, {"I64", 8}, {"U64", 8}, {"I32", 4}, {"U32", 4},
                 {"I16", 2}, {"U16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
    *is_f32 = strcmp(dtype, "F32") == 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(dtype, known[i].name) == 0) return known[i].size;
    return 0;
}

/* Checks one tensor entry; on success fills shape, ndim, the byte span and
 * whether it is F32. */
static rv_status check_entry(const char *path, const cJSON *e, uint64_t data_len, int64_t *dim,
                             int *ndim, span *sp, int *is_f32)
{
    const char *name = e->string;
    sp->name = name;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) ||
        cJSON_GetArraySize(off) != 2)
        return rv_error(RV_EFORMAT, "%s: tensor '%s' needs dtype, shape and data_offsets", path,
                        name);
    int size = dtype_size(dt->valuestring, is_f32);
    if (!size)
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s' has dtype %s; only F32 is supported (and "
                        "integer tensors, which are skipped)",
                        path, name, dt->valuestring);
    *ndim = cJSON_GetArraySize(sh);
    if (*ndim > 8) return rv_error(RV_EFORMAT, "%s: tensor '%s' has rank %d", path, name, *ndim);
    uint64_t bytes = (uint64_t)size;
    const cJSON *d;
    int i = 0;
    cJSON_ArrayForEach(d, sh)
    {
        uint64_t v;
        if (!as_count(d, &v))
            return rv_error(RV_EFORMAT, "%s: tensor '%s' has a malformed shape", path, name);
        dim[i++] = (int64_t)v;
        bytes = v && bytes > UINT64_MAX / v ? UINT64_MAX : bytes * v;
    }
    if (!as_count(cJSON_GetArrayItem(off, 0), &sp->begin) ||
        !as_count(cJSON_GetArrayItem(off, 1), &sp->end))
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s': data_offsets must be two non-negative integers", path,
                        name);
    if (sp->end < sp->begin)
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", path,
                        name, (unsigned long long)sp->begin, (unsigned long long)sp->end);
    if (sp->end > data_len)
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] lie outside the %llu-byte "
                        "data buffer",
                        path, name, (unsigned long long)sp->begin, (unsigned long long)sp->end,
                        (unsigned long long)data_len);
    if (sp->end - sp->begin != bytes)
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s': data_offsets span %llu bytes, its shape "
                        "and dtype need %llu",
                        path, name, (unsigned long long)(sp->end - sp->begin),
                        (unsigned long long)bytes);
    if (*is_f32 && (*ndim < 1 || *ndim > RV_MAX_DIMS || bytes == 0))
        return rv_error(RV_EFORMAT,
                        "%s: tensor '%s': rank %d or an empty shape is not supported "
                        "(need rank 1 to %d)",
                        path, name, *ndim, RV_MAX_DIMS);
    return RV_OK;
}

/* Names are unique: sorted, a repeat is next to its twin (n log n, where
 * comparing every pair would let a 100 MB header of tiny entries take hours). */
static rv_status check_unique(const char *path, span *spans, int n)
{
    qsort(spans, (size_t)n, sizeof *spans, cmp_span_name);
    for (int i = 1; i < n; i++)
        if (strcmp(spans[i - 1].name, spans[i].name) == 0)
            return rv_error(RV_EFORMAT, "%s: tensor '%s' appears twice", path, spans[i].name);
    return RV_OK;
}

/* The tensors must tile the data buffer exactly (the spec: no holes, no
 * overlaps). After sorting, each span begins where the previous one ended. */
static rv_status check_coverage(const char *path, span *spans, int n, uint64_t data_len)
{
    qsort(spans, (size_t)n, sizeof *spans, cmp_span);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (spans[i].begin < at)
            return rv_error(RV_EFORMAT,
                            "%s: overlapping tensors '%s' and '%s' in the data buffer ('%s' "
                            "begins at byte %llu, '%s' ends at %llu)",
                            path, spans[i - 1].name, spans[i].name, spans[i].name,
                            (unsigned long long)spans[i].begin, spans[i - 1].name,
                            (unsigned long long)at);
        if (spans[i].begin > at)
            return rv_error(RV_EFORMAT,
                            "%s: a gap in the data buffer: bytes %llu to %llu, before tensor "
                            "'%s', belong to no tensor",
                            path, (unsigned long long)at, (unsigned long long)spans[i].begin,
                            spans[i].name);
        at = spans[i].end;
    }
    if (at != data_len)
        return rv_error(RV_EFORMAT,
                        "%s: the last %llu bytes of the data buffer belong to no tensor", path,
                        (unsigned long long)(data_len - at));
    return RV_OK;
}

/* __metadata__ maps strings to strings (the spec); nothing here reads it. */
static rv_status check_metadata(const char *path, const cJSON *m)
{
    if (!cJSON_IsObject(m))
        return rv_error(RV_EFORMAT, "%s: __metadata__ is not a JSON object", path);
    const cJSON *v;
    cJSON_ArrayForEach(v, m)
    {
        if (!cJSON_IsString(v))
            return rv_error(RV_EFORMAT, "%s: __metadata__ entry '%s' is not a string", path,
                            v->string);
    }
    return RV_OK;
}

/* The header as a JSON object. The spec wants '{' first and allows only
 * whitespace (the padding to 8 bytes) after the object; cJSON alone would
 * accept leading spaces and ignore anything after the object. */
static rv_status parse_header(const char *path, const char *h, uint64_t hlen, cJSON **root)
{
    const char *end = h;
    *root = NULL;
    if (!hlen || h[0] != '{')
        return rv_error(RV_EFORMAT, "%s: the header is not a JSON object (it must begin with '{')",
                        path);
    *root = cJSON_ParseWithLengthOpts(h, (size_t)hlen, &end, 0);
    if (!*root)
        return rv_error(RV_EFORMAT,
                        "%s: the header is not valid JSON (error at header byte %zu of %llu)", path,
                        (size_t)(end - h), (unsigned long long)hlen);
    while (end < h + hlen && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end == h + hlen) return RV_OK;
    cJSON_Delete(*root);
    *root = NULL;
    return rv_error(RV_EFORMAT, "%s: the header has text after its JSON object, at header byte %zu",
                    path, (size_t)(end - h));
}

/* An F32 entry of the header: a tensor allocated for it, its bytes read
 * from the data buffer (which begins at byte `data` of the file). */
static rv_status read_tensor(const rv_source *src, uint64_t data, const cJSON *e, rv_named *t)
{
    int64_t dim[8];
    int ndim = 0, is_f32 = 0;
    span sp;
    /* checked already: this only fetches the shape and the span again */
    rv_status st = check_entry(src->name, e, src->size - data, dim, &ndim, &sp, &is_f32);
    snprintf(t->name, sizeof t->name, "%s", e->string);
    if (st == RV_OK) st = rv_tensor_alloc(&t->t, RV_CPU, ndim, dim, e->string);
    if (st == RV_OK) st = rv_source_read(src, data + sp.begin, t->t.data, rv_tensor_bytes(&t->t));
    if (st != RV_OK) rv_tensor_free(&t->t); /* freeing a tensor never allocated is fine */
    return st;
}

/* The whole header is checked against the file's size (every entry, the
 * names unique, the spans tiling the data buffer) before any tensor is
 * allocated or any of its bytes read: what the header promises is then at
 * most what the file holds, and a file that is not a safetensors one is
 * refused from its first bytes, however large it is. */
static rv_status parse(const rv_source *src, rv_named **out, int *n, int *skipped)
{
    const char *path = src->name;
    const uint64_t size = src->size;
    *out = NULL;
    *n = 0;
    if (skipped) *skipped = 0;
    unsigned char d[RV_FILE_KIND_BYTES];
    size_t len = size < sizeof d ? (size_t)size : sizeof d;
    rv_status st = rv_source_read(src, 0, d, len);
    if (st != RV_OK) return st;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0 && len >= 8; i--) hlen = hlen << 8 | d[i];
    /* A file that does not open like one is named, if its kind is known,
     * rather than described by a header length read from the wrong place. */
    const char *kind = NULL;
    if (size < 9 || hlen > RV_SAFETENSORS_MAX_HEADER || hlen > size - 8 || d[8] != '{')
        kind = rv_file_kind(d, len, size);
    if (kind) return rv_error(RV_EFORMAT, "%s: not a safetensors file: it is %s", path, kind);
    if (size < 8)
        return rv_error(RV_EFORMAT,
                        "%s: too short for a safetensors file (%llu bytes; its header length "
                        "alone takes 8)",
                        path, (unsigned long long)size);
    if (hlen > RV_SAFETENSORS_MAX_HEADER)
        return rv_error(RV_EFORMAT,
                        "%s: not a safetensors file: its first 8 bytes, read as the header "
                        "length, say %llu bytes, over the 100 MB limit",
                        path, (unsigned long long)hlen);
    if (hlen > size - 8)
        return rv_error(RV_EFORMAT,
                        "%s: the header (%llu bytes) runs past the end of the file (%llu "
                        "bytes): the file is cut short, or not a safetensors file",
                        path, (unsigned long long)hlen, (unsigned long long)size);
    char *h = malloc(hlen ? (size_t)hlen : 1); /* bookkeeping, not a tensor */
    if (!h)
        return rv_error(RV_ENOMEM, "%s: no memory for its %llu-byte header", path,
                        (unsigned long long)hlen);
    cJSON *root = NULL;
    st = rv_source_read(src, 8, h, (size_t)hlen);
    if (st == RV_OK) st = parse_header(path, h, hlen, &root);
    free(h);
    if (st != RV_OK) return st;
    uint64_t data_len = size - 8 - hlen;
    int count = cJSON_GetArraySize(root), used = 0, f32 = 0;
    span *spans = calloc((size_t)count + 1, sizeof *spans);
    if (!spans) st = rv_error(RV_ENOMEM, "%s: no memory", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        if (st != RV_OK) break;
        if (strcmp(e->string, "__metadata__") == 0) {
            st = check_metadata(path, e);
            continue;
        }
        int64_t dim[8];
        int ndim = 0, is_f32 = 0;
        st = check_entry(path, e, data_len, dim, &ndim, &spans[used], &is_f32);
        if (st == RV_OK && strlen(e->string) >= sizeof(*out)[0].name)
            st = rv_error(RV_EFORMAT, "%s: tensor name '%.40s...' is too long", path, e->string);
        if (st != RV_OK) break;
        used++;
        f32 += is_f32;
        if (!is_f32) { /* only BN's step counter may be an integer: it is skipped */
            static const char counter[] = "num_batches_tracked";
            size_t ln = strlen(e->string), lc = sizeof counter - 1;
            if (ln < lc || strcmp(e->string + ln - lc, counter) != 0)
                st = rv_error(RV_EFORMAT,
                              "%s: tensor '%s' has dtype %s; tensors must be F32 (only a "
                              "BN's num_batches_tracked may be an integer)",
                              path, e->string,
                              cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype")));
            else if (skipped)
                (*skipped)++;
        }
    }
    if (st == RV_OK) st = check_unique(path, spans, used);
    if (st == RV_OK) st = check_coverage(path, spans, used, data_len);
    if (st == RV_OK && f32 == 0) st = rv_error(RV_EFORMAT, "%s: no F32 tensors", path);
    free(spans);
    if (st == RV_OK && !(*out = calloc((size_t)f32, sizeof **out)))
        st = rv_error(RV_ENOMEM, "%s: no memory", path);
    cJSON_ArrayForEach(e, root)
    {
        if (st != RV_OK) break;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        if (strcmp(e->string, "__metadata__") == 0 || strcmp(dt->valuestring, "F32") != 0) continue;
        st = read_tensor(src, 8 + hlen, e, &(*out)[*n]);
        if (st == RV_OK) (*n)++;
    }
    cJSON_Delete(root);
    return st;
}

rv_status rv_safetensors_parse(const unsigned char *d, size_t len, const char *name, rv_named **out,
                               int *n, int *skipped)
{
    rv_source src;
    rv_source_memory(&src, d, len, name);
    rv_status st = parse(&src, out, n, skipped);
    if (st != RV_OK) {
        rv_named_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return st;
}

rv_status rv_safetensors_read(const char *path, rv_named **out, int *n, int *skipped)
{
    *out = NULL;
    *n = 0;
    rv_source src;
    rv_status st = rv_source_open(&src, path);
    if (st != RV_OK) return st;
    st = parse(&src, out, n, skipped);
    rv_source_close(&src);
    if (st != RV_OK) {
        rv_named_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* The JSON header for ts, padded with spaces to a multiple of 8 bytes. */
static char *build_header(const rv_named *ts, int n, size_t *len)
{
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", "pt");
    cJSON_AddItemToObject(root, "__metadata__", meta);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *off = cJSON_CreateArray();
        cJSON_AddStringToObject(e, "dtype", "F32");
        for (int k = 0; k < ts[i].t.ndim; k++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ts[i].t.dim[k]));
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
        at += rv_tensor_bytes(&ts[i].t);
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
        cJSON_AddItemToObject(e, "data_offsets", off);
        cJSON_AddItemToObject(root, ts[i].name, e);
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return NULL;
    size_t raw = strlen(json);
    *len = (raw + 7) / 8 * 8;
    char *padded = realloc(json, *len + 1);
    if (!padded) {
        free(json);
        return NULL;
    }
    memset(padded + raw, ' ', *len - raw);
    padded[*len] = '\0';
    return padded;
}

/* Nothing the reader would refuse is written: no tensors, an empty tensor,
 * an empty, reserved or repeated name. (Comparing every pair is fine here:
 * these are a program's own few hundred tensors, not a file's.) */
static rv_status check_writable(const char *path, const rv_named *ts, int n)
{
    if (n < 1) return rv_error(RV_EINVAL, "%s: no tensors to write", path);
    for (int i = 0; i < n; i++) {
        const char *name = ts[i].name;
        if (!name[0] || strcmp(name, "__metadata__") == 0)
            return rv_error(RV_EINVAL, "%s: '%s' cannot name a tensor", path, name);
        if (!ts[i].t.data || ts[i].t.ndim < 1 || ts[i].t.ndim > RV_MAX_DIMS)
            return rv_error(RV_EINVAL, "%s: tensor '%s' is empty (rank %d)", path, name,
                            ts[i].t.ndim);
        for (int k = 0; k < i; k++)
            if (strcmp(ts[k].name, name) == 0)
                return rv_error(RV_EINVAL, "%s: tensor '%s' appears twice", path, name);
    }
    return RV_OK;
}

rv_status rv_safetensors_write(const char *path, const rv_named *ts, int n)
{
    rv_status st = check_writable(path, ts, n);
    if (st != RV_OK) return st;
    size_t hlen = 0;
    char *header = build_header(ts, n, &hlen);
    if (!header) return rv_error(RV_ENOMEM, "%s: cannot build the header", path);
    unsigned char pre[8];
    for (int i = 0; i < 8; i++) pre[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    rv_atomic_file af;
    st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, pre, sizeof pre);
    if (st == RV_OK) st = rv_atomic_write(&af, header, hlen);
    for (int i = 0; i < n && st == RV_OK; i++) {
        rv_tensor h = ts[i].t;
        if (h.device != RV_CPU) st = rv_tensor_clone(&h, &ts[i].t, RV_CPU, ts[i].name);
        if (st == RV_OK) st = rv_atomic_write(&af, h.data, rv_tensor_bytes(&h));
        if (ts[i].t.device != RV_CPU) rv_tensor_free(&h);
    }
    if (st == RV_OK)
        st = rv_atomic_commit(&af);
    else if (af.f)
        rv_atomic_abort(&af);
    free(header);
    return st;
}

/* idx.c - gzip-compressed IDX files, read strictly with zlib (see rv_idx.h).
 *
 * The whole compressed file is read (at most RV_IDX_MAX_FILE_BYTES), then
 * inflated in three pulls: the 4-byte magic, the dimensions, and, only
 * once the size they promise has passed every check, the items into their
 * own allocation. After the items the gzip stream must end: its CRC-32 and
 * length are checked by zlib there, and nothing may follow it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rv_file.h"
#include "rv_idx.h"
#include "rv_magic.h"

/* deflate's largest expansion: 258 bytes from a 2-bit code, about 1032:1
 * (zlib's FAQ, "maximum compression ratio") */
#define DEFLATE_MAX_RATIO 1032

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Inflates exactly n bytes of IDX content into buf; `at` is how many came
 * before (for messages). A stream that ends first is an IDX file shorter
 * than its header says. */
static rv_status pull(z_stream *z, unsigned char *buf, size_t n, uint64_t at, uint64_t total,
                      const char *name)
{
    z->next_out = buf;
    while (n) {
        uInt chunk = n > (UINT_MAX >> 1) ? (UINT_MAX >> 1) : (uInt)n;
        z->avail_out = chunk;
        int zr = inflate(z, Z_NO_FLUSH);
        size_t got = chunk - z->avail_out;
        n -= got;
        at += got;
        if (zr == Z_STREAM_END && n)
            return rv_error(RV_EFORMAT,
                            "%s: the IDX data end after %llu bytes, the header promises %llu", name,
                            (unsigned long long)at, (unsigned long long)total);
        if (zr == Z_DATA_ERROR)
            return rv_error(RV_EFORMAT, "%s: corrupt gzip data (%s)", name,
                            z->msg ? z->msg : "zlib found an error");
        if (zr == Z_MEM_ERROR) return rv_error(RV_ENOMEM, "%s: zlib ran out of memory", name);
        if (zr == Z_BUF_ERROR || (zr == Z_OK && !got && !z->avail_in))
            return rv_error(RV_EFORMAT, "%s: truncated: the file ends inside its gzip data", name);
    }
    return RV_OK;
}

/* After the items: the stream ends here (zlib checks the CRC-32 and the
 * length in the trailer), and the file with it. */
static rv_status expect_end(z_stream *z, uint64_t total, const char *name)
{
    unsigned char extra;
    z->next_out = &extra;
    z->avail_out = 1;
    int zr = inflate(z, Z_FINISH);
    if (z->avail_out == 0)
        return rv_error(RV_EFORMAT, "%s: the data go on past the %llu bytes the IDX header gives",
                        name, (unsigned long long)total);
    if (zr == Z_DATA_ERROR)
        return rv_error(RV_EFORMAT, "%s: corrupt gzip data (%s)", name,
                        z->msg ? z->msg : "zlib found an error");
    if (zr != Z_STREAM_END)
        return rv_error(RV_EFORMAT, "%s: truncated: the file ends inside its gzip data", name);
    if (z->avail_in)
        return rv_error(RV_EFORMAT, "%s: %u bytes follow the end of the gzip data", name,
                        z->avail_in);
    return RV_OK;
}

/* Not gzip: say what it is, an uncompressed IDX file included. */
static rv_status not_gzip(const unsigned char *d, size_t len, const char *name)
{
    if (len >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0x08)
        return rv_error(RV_EFORMAT,
                        "%s: an uncompressed IDX file: this reader takes the gzip-compressed "
                        "ones (.gz), as Debian ships them",
                        name);
    const char *kind = rv_file_kind(d, len, len);
    if (kind)
        return rv_error(RV_EFORMAT, "%s: not a gzip-compressed IDX file: it is %s", name, kind);
    return rv_error(RV_EFORMAT, "%s: not a gzip-compressed IDX file (no gzip magic 1f 8b)", name);
}

static rv_status parse(z_stream *z, const unsigned char *gz, size_t len, const char *name,
                       rv_idx *out)
{
    /* the trailer's last 4 bytes: the uncompressed size mod 2^32, little-endian */
    uint32_t isize = (uint32_t)gz[len - 4] | (uint32_t)gz[len - 3] << 8 |
                     (uint32_t)gz[len - 2] << 16 | (uint32_t)gz[len - 1] << 24;
    unsigned char head[16];
    rv_status st = pull(z, head, 4, 0, 4, name);
    if (st != RV_OK) return st;
    uint32_t magic = be32(head);
    if (magic != RV_IDX_MAGIC_LABELS && magic != RV_IDX_MAGIC_IMAGES)
        return rv_error(RV_EFORMAT,
                        "%s: IDX magic 0x%08x: expected 0x%08x (labels) or 0x%08x (images), "
                        "unsigned bytes",
                        name, magic, RV_IDX_MAGIC_LABELS, RV_IDX_MAGIC_IMAGES);
    int ndim = head[3];
    uint64_t header = 4 + 4 * (uint64_t)ndim;
    st = pull(z, head + 4, 4 * (size_t)ndim, 4, header, name);
    if (st != RV_OK) return st;
    uint64_t items = 1;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = be32(head + 4 + 4 * i);
        if (d == 0) return rv_error(RV_EFORMAT, "%s: IDX dimension %d is 0", name, i);
        out->dim[i] = d;
        items = items > RV_IDX_MAX_BYTES ? items : items * d; /* stops growing past the cap */
    }
    uint64_t total = header + items;
    if (items > RV_IDX_MAX_BYTES)
        return rv_error(RV_EFORMAT,
                        "%s: the IDX header promises more than %llu bytes of items, more than "
                        "this reader takes",
                        name, (unsigned long long)RV_IDX_MAX_BYTES);
    if (total > (uint64_t)len * DEFLATE_MAX_RATIO)
        return rv_error(RV_EFORMAT,
                        "%s: the IDX header promises %llu bytes, more than %zu compressed "
                        "bytes can hold (a forged or truncated file)",
                        name, (unsigned long long)total, len);
    if ((uint32_t)total != isize)
        return rv_error(RV_EFORMAT,
                        "%s: the IDX header promises %llu bytes, the gzip trailer records %u "
                        "(a truncated or altered file)",
                        name, (unsigned long long)total, isize);
    /* File bytes are not tensors: plain malloc, outside the tracking allocator. */
    out->data = malloc(items);
    if (!out->data)
        return rv_error(RV_ENOMEM, "%s: cannot hold %llu bytes of items", name,
                        (unsigned long long)items);
    out->ndim = ndim;
    st = pull(z, out->data, items, header, total, name);
    if (st == RV_OK) st = expect_end(z, total, name);
    return st;
}

rv_status rv_idx_parse(const unsigned char *gz, size_t len, const char *name, rv_idx *out)
{
    memset(out, 0, sizeof *out);
    if (len < 2 || gz[0] != 0x1f || gz[1] != 0x8b) return not_gzip(gz, len, name);
    if (len < 18) /* 10-byte header and 8-byte trailer, the least a gzip file has */
        return rv_error(RV_EFORMAT, "%s: truncated: %zu bytes, less than any gzip file", name, len);
    if (len > UINT_MAX) /* zlib counts its input in uInt */
        return rv_error(RV_EFORMAT, "%s: %zu bytes, more than this reader takes", name, len);
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 16 + MAX_WBITS: a gzip wrapper (header, CRC-32, ISIZE), not zlib's */
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return rv_error(RV_ENOMEM, "%s: zlib could not start", name);
    z.next_in = (unsigned char *)gz; /* zlib's API is not const; it only reads */
    z.avail_in = (uInt)len;
    rv_status st = parse(&z, gz, len, name, out);
    inflateEnd(&z);
    if (st != RV_OK) rv_idx_free(out);
    return st;
}

rv_status rv_idx_read(const char *path, rv_idx *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *d = NULL;
    size_t len = 0;
    rv_status st = rv_read_file(path, RV_IDX_MAX_FILE_BYTES, &d, &len);
    if (st == RV_OK) st = rv_idx_parse(d, len, path, out);
    free(d);
    return st;
}

void rv_idx_free(rv_idx *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}

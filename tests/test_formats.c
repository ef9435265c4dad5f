/* test_formats.c - .npy and safetensors: round trips and every kind of bad file.
 *
 * Files are made byte by byte in a fresh temporary directory: a missing,
 * empty, truncated or malformed file, a header that lies about its size or
 * offsets, unsupported dtypes and orders, overlapping or gapped tensors,
 * duplicate names, an unwritable output path, a file of another kind (a .npy
 * for a safetensors, a torch.save archive, an image). Each must be refused with the
 * right status and a message naming the file (and the tensor), and a failed
 * write must leave nothing behind: no output, no temporary, and an existing
 * file of that name untouched.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "rv_npy.h"
#include "rv_safetensors.h"
#include "rv_test.h"

static char dir[64];

static const char *path_of(const char *name)
{
    static char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");
    CHECK(f != NULL, "cannot create %s", name);
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

/* The directory holds exactly `expect` entries (no temporaries left). */
static void expect_entries(int expect)
{
    int n = count_entries();
    CHECK(n == expect, "%d files in the test directory, expected %d", n, expect);
}

static void expect_error(const char *what, rv_status got, rv_status want, const char *text)
{
    printf("%-44s -> %s\n", what, got == RV_OK ? "accepted" : rv_last_error());
    CHECK(got == want, "%s: status %d, expected %d", what, got, want);
    CHECK(got == RV_OK || (text && strstr(rv_last_error(), text)), "%s: message lacks '%s'", what,
          text ? text : "(nothing: the file is fine)");
}

/* An .npy file of version major.minor from a header dict and n zero data
 * bytes (the header length is 2 bytes in version 1, 4 bytes in 2 and 3). */
static void npy_file_v(const char *name, int major, int minor, const char *dict, size_t data_bytes)
{
    unsigned char buf[512] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, (unsigned char)minor};
    size_t hlen = strlen(dict), start = major == 1 ? 10 : 12;
    buf[8] = (unsigned char)hlen;
    memcpy(buf + start, dict, hlen);
    write_bytes(name, buf, start + hlen + data_bytes);
}

static void npy_file(const char *name, const char *dict, size_t data_bytes)
{
    npy_file_v(name, 1, 0, dict, data_bytes);
}

static void test_npy(void)
{
    rv_rng rng = rv_rng_seed(1);
    for (int rank = 1; rank <= 4; rank++) {
        int64_t dim[4] = {3, 5, 2, 7};
        rv_tensor t, back;
        CHECK_OK(rv_tensor_alloc(&t, RV_CPU, rank, dim, "t"));
        rv_tensor_fill_uniform(&t, &rng, -1, 1);
        CHECK_OK(rv_npy_write(path_of("t.npy"), &t));
        CHECK_OK(rv_npy_read(path_of("t.npy"), &back));
        char what[32];
        snprintf(what, sizeof what, "npy round trip, rank %d", rank);
        CHECK_CLOSE(what, &back, &t, RV_TOL_EXACT);
        rv_tensor_free(&t);
        rv_tensor_free(&back);
    }
    rv_tensor t;
    expect_error("npy: missing file", rv_npy_read(path_of("none.npy"), &t), RV_EIO, "none.npy");
    write_bytes("empty.npy", "", 0);
    expect_error("npy: empty file", rv_npy_read(path_of("empty.npy"), &t), RV_EFORMAT, "empty");
    write_bytes("text.npy", "hello world, not numpy", 22);
    expect_error("npy: text", rv_npy_read(path_of("text.npy"), &t), RV_EFORMAT,
                 "text.npy: not a .npy file: it is a text file");
    write_bytes("bin.npy", "\x01\x02\x03\x00 binary, of no known kind", 29);
    expect_error("npy: no magic", rv_npy_read(path_of("bin.npy"), &t), RV_EFORMAT, "magic");
    npy_file("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
    expect_error("npy: float64", rv_npy_read(path_of("f8.npy"), &t), RV_EFORMAT, "'<f8'");
    npy_file("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8);
    expect_error("npy: big-endian", rv_npy_read(path_of("big.npy"), &t), RV_EFORMAT, "'>f4'");
    npy_file("fo.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    expect_error("npy: Fortran order", rv_npy_read(path_of("fo.npy"), &t), RV_EFORMAT, "Fortran");
    npy_file("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20);
    expect_error("npy: truncated data", rv_npy_read(path_of("short.npy"), &t), RV_EFORMAT,
                 "24 bytes");
    npy_file("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28);
    expect_error("npy: trailing bytes", rv_npy_read(path_of("long.npy"), &t), RV_EFORMAT,
                 "holds 28");
    npy_file("r5.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 2), }", 8);
    expect_error("npy: rank 5", rv_npy_read(path_of("r5.npy"), &t), RV_EFORMAT, "rank 5");
    npy_file("r0.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4);
    expect_error("npy: rank 0", rv_npy_read(path_of("r0.npy"), &t), RV_EFORMAT, "rank 0");
    npy_file("key.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8);
    expect_error("npy: unknown key", rv_npy_read(path_of("key.npy"), &t), RV_EFORMAT, "'x'");
    npy_file("dict.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", 8);
    expect_error("npy: cut header dict", rv_npy_read(path_of("dict.npy"), &t), RV_EFORMAT,
                 "dict.npy");
    unsigned char lie[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{', '}'};
    write_bytes("lie.npy", lie, sizeof lie);
    expect_error("npy: header longer than the file", rv_npy_read(path_of("lie.npy"), &t),
                 RV_EFORMAT, "past the end");
    rv_tensor one;
    CHECK_OK(rv_tensor_alloc1(&one, RV_CPU, 4, "one"));
    rv_tensor_fill(&one, 1.0f);
    expect_error("npy: unwritable output", rv_npy_write("/nonexistent-dir/x.npy", &one), RV_EIO,
                 "/nonexistent-dir/x.npy: cannot write: No such file");
    rv_tensor_free(&one);
}

/* The header dict's grammar and the preamble, beyond the plain bad files.
 * NPY_DICT is numpy's own header for a C-order array of that dtype and shape. */
#define NPY_DICT(descr, shape)                                                                     \
    "{'descr': '" descr "', 'fortran_order': False, 'shape': " shape ", }"
static void test_npy_header(void)
{
    static const struct {
        const char *what;
        int major, minor;
        const char *dict;
        size_t data_bytes;
        const char *text; /* NULL: the file is fine */
    } cases[] = {
        {"version 2.0", 2, 0, NPY_DICT("<f4", "(2,)"), 8, NULL},
        {"version 3.0", 3, 0, NPY_DICT("<f4", "(2,)"), 8, NULL},
        {"version 4.0", 4, 0, NPY_DICT("<f4", "(2,)"), 8, "version 4.0"},
        {"version 1.1", 1, 1, NPY_DICT("<f4", "(2,)"), 8, "version 1.1"},
        {"a key twice", 1, 0,
         "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
         "'descr' appears twice"},
        {"text after the dict", 1, 0, NPY_DICT("<f4", "(2,)") " x", 8, "text after"},
        {"negative dimension", 1, 0, NPY_DICT("<f4", "(-2,)"), 8, "dimension 0 is -2"},
        {"zero dimension", 1, 0, NPY_DICT("<f4", "(3, 0)"), 0, "dimension 1 is 0"},
        {"int32", 1, 0, NPY_DICT("<i4", "(2,)"), 8, "dtype '<i4' is not supported"},
        {"no fortran_order", 1, 0, "{'descr': '<f4', 'shape': (2,), }", 8, "lacks"},
    };
    rv_tensor t;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[80];
        snprintf(what, sizeof what, "npy: %s", cases[i].what);
        npy_file_v("h.npy", cases[i].major, cases[i].minor, cases[i].dict, cases[i].data_bytes);
        expect_error(what, rv_npy_read(path_of("h.npy"), &t), cases[i].text ? RV_EFORMAT : RV_OK,
                     cases[i].text);
        CHECK(cases[i].text ? t.data == NULL && t.ndim == 0 : t.ndim == 1 && t.dim[0] == 2,
              "%s: the tensor read is wrong", what);
        rv_tensor_free(&t);
    }
    unsigned char v2cut[11] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 60, 0, 0};
    write_bytes("v2cut.npy", v2cut, sizeof v2cut);
    expect_error("npy: cut inside the 2.0 preamble", rv_npy_read(path_of("v2cut.npy"), &t),
                 RV_EFORMAT, "preamble");
    expect_error("npy: a directory", rv_npy_read(dir, &t), RV_EIO, "not a regular file");
}

/* A failed write leaves nothing new in the directory, and an existing file
 * of the same name is either replaced whole or not touched. */
static void test_npy_writes(void)
{
    rv_tensor a, b, back, empty = {0};
    int64_t dim[3] = {3, 1, 5};
    CHECK_OK(rv_tensor_alloc(&a, RV_CPU, 3, dim, "a"));
    CHECK_OK(rv_tensor_alloc(&b, RV_CPU, 3, dim, "b"));
    rv_tensor_fill(&a, 1.0f);
    rv_tensor_fill(&b, 2.0f);
    int before = count_entries();
    CHECK_OK(rv_npy_write(path_of("over.npy"), &a));
    CHECK_OK(rv_npy_write(path_of("over.npy"), &b));
    CHECK_OK(rv_npy_read(path_of("over.npy"), &back));
    CHECK_CLOSE("npy: an existing file replaced", &back, &b, RV_TOL_EXACT);
    rv_tensor_free(&back);
    expect_entries(before + 1);
    expect_error("npy: an empty tensor", rv_npy_write(path_of("empty.out.npy"), &empty), RV_EINVAL,
                 "empty.out.npy");
    expect_entries(before + 1);
    /* A directory where the output goes is refused before anything is
     * written: no temporary, and the directory stays as it was. */
    CHECK(mkdir(path_of("busy"), 0700) == 0, "cannot make %s", path_of("busy"));
    write_bytes("busy/keep", "k", 1);
    expect_error("npy: the output is a directory", rv_npy_write(path_of("busy"), &a), RV_EIO,
                 "busy");
    expect_entries(before + 2);
    rv_tensor_free(&a);
    rv_tensor_free(&b);
}

/* A safetensors file from a JSON header and n zero data bytes. */
static void st_file(const char *name, const char *json, size_t data_bytes, uint64_t claimed_len)
{
    size_t hlen = strlen(json);
    unsigned char *buf = calloc(1, 8 + hlen + data_bytes);
    uint64_t n = claimed_len ? claimed_len : hlen;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, json, hlen);
    write_bytes(name, buf, 8 + hlen + data_bytes);
    free(buf);
}

static rv_status st_read(const char *name)
{
    rv_named *ts;
    int n, skipped;
    rv_status st = rv_safetensors_read(path_of(name), &ts, &n, &skipped);
    rv_named_free(ts, n);
    return st;
}

static void test_safetensors(void)
{
    rv_rng rng = rv_rng_seed(2);
    rv_named ts[3] = {{.name = "a.weight"}, {.name = "b"}, {.name = "c.running_var"}};
    int64_t dims[3][4] = {{4, 3, 3, 3}, {5}, {2, 7}};
    int ranks[3] = {4, 1, 2};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(rv_tensor_alloc(&ts[i].t, RV_CPU, ranks[i], dims[i], ts[i].name));
        rv_tensor_fill_uniform(&ts[i].t, &rng, -1, 1);
    }
    CHECK_OK(rv_safetensors_write(path_of("w.safetensors"), ts, 3));
    rv_named *back;
    int n, skipped;
    CHECK_OK(rv_safetensors_read(path_of("w.safetensors"), &back, &n, &skipped));
    CHECK(n == 3 && skipped == 0, "read %d tensors, skipped %d", n, skipped);
    for (int i = 0; i < n && n == 3; i++) {
        CHECK(strcmp(back[i].name, ts[i].name) == 0, "tensor %d is '%s'", i, back[i].name);
        CHECK_CLOSE(ts[i].name, &back[i].t, &ts[i].t, RV_TOL_EXACT);
    }
    rv_named_free(back, n);
    for (int i = 0; i < 3; i++) rv_tensor_free(&ts[i].t);

    st_file("int.safetensors",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}",
            16, 0);
    CHECK_OK(rv_safetensors_read(path_of("int.safetensors"), &back, &n, &skipped));
    CHECK(n == 1 && skipped == 1, "int64 tensor: read %d, skipped %d", n, skipped);
    rv_named_free(back, n);

    expect_error("st: missing file", st_read("none.safetensors"), RV_EIO, "none.safetensors");
    write_bytes("empty.safetensors", "", 0);
    expect_error("st: empty file", st_read("empty.safetensors"), RV_EFORMAT, "empty");
    write_bytes("short.safetensors", "\x10\0\0", 3);
    expect_error("st: shorter than the length", st_read("short.safetensors"), RV_EFORMAT,
                 "too short");
    st_file("lie.safetensors", "{}", 0, 1000);
    expect_error("st: header length beyond the file", st_read("lie.safetensors"), RV_EFORMAT,
                 "runs past the end of the file");
    st_file("json.safetensors", "{\"w\": {\"dtype\": ", 0, 0);
    expect_error("st: malformed JSON", st_read("json.safetensors"), RV_EFORMAT, "not valid JSON");
    st_file("f16.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
            4, 0);
    expect_error("st: F16", st_read("f16.safetensors"), RV_EFORMAT, "'w' has dtype F16");
    st_file("out.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            4, 0);
    expect_error("st: offsets past the data", st_read("out.safetensors"), RV_EFORMAT, "outside");
    st_file("size.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8, 0);
    expect_error("st: offsets disagree with shape", st_read("size.safetensors"), RV_EFORMAT,
                 "need 12");
    st_file("overlap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12, 0);
    expect_error("st: overlapping tensors", st_read("overlap.safetensors"), RV_EFORMAT,
                 "overlapping");
    st_file("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12, 0);
    expect_error("st: a gap in the data", st_read("gap.safetensors"), RV_EFORMAT, "gap");
    st_file("dup.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8, 0);
    expect_error("st: duplicate name", st_read("dup.safetensors"), RV_EFORMAT, "twice");
    st_file("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, 0);
    expect_error("st: missing shape", st_read("noshape.safetensors"), RV_EFORMAT, "'w' needs");

    rv_named one = {.name = "x"};
    CHECK_OK(rv_tensor_alloc1(&one.t, RV_CPU, 2, "x"));
    rv_tensor_fill(&one.t, 0.0f);
    int before = count_entries();
    expect_error("st: unwritable output",
                 rv_safetensors_write("/nonexistent-dir/w.safetensors", &one, 1), RV_EIO,
                 "/nonexistent-dir/w.safetensors");
    expect_entries(before);
    rv_tensor_free(&one.t);
}

/* The JSON header's rules, beyond the plain bad files. The F32 entry "w"
 * ([2] at bytes 0..8) starts most of them. */
#define ST_W "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"
static void test_safetensors_header(void)
{
    static const struct {
        const char *what, *json;
        size_t data_bytes;
        const char *text; /* NULL: the file is fine */
    } cases[] = {
        {"padded with spaces", "{" ST_W "}    ", 8, NULL},
        {"metadata", "{\"__metadata__\":{\"format\":\"pt\"}," ST_W "}", 8, NULL},
        {"an empty tensor where another begins",
         "{" ST_W ",\"z.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[0,"
         "0]}}",
         8, NULL},
        {"not an object", "[1, 2]", 0, "must begin with '{'"},
        {"text after the object", "{" ST_W "} x", 8, "text after its JSON object"},
        {"missing dtype", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w' needs"},
        {"missing data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'w' needs"},
        {"BF16", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
         "'w' has dtype BF16"},
        {"F64", "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         "'w' has dtype F64"},
        {"end before begin", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
         "'w': data_offsets [8, 0] end before"},
        {"a fractional offset",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 8,
         "'w': data_offsets must be two non-negative integers"},
        {"a negative dimension",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
         "'w' has a malformed shape"},
        {"F32 of rank 5",
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
         "'w': rank 5"},
        {"unindexed bytes at the end", "{" ST_W "}", 12, "last 4 bytes"},
        {"two integer tensors of one name",
         "{" ST_W ",\"n.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,"
         "16]},\"n.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]}"
         "}",
         24, "'n.num_batches_tracked' appears twice"},
        {"an I32 weight", "{\"w\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "'w' has dtype I32"},
        {"a gap named",
         "{" ST_W ",\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16,
         "bytes 8 to 12, before tensor 'v'"},
        {"metadata not a string", "{\"__metadata__\":{\"epoch\":3}," ST_W "}", 8,
         "__metadata__ entry 'epoch'"},
        {"only integer tensors",
         "{\"n.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8,
         "no F32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[80];
        snprintf(what, sizeof what, "st: %s", cases[i].what);
        st_file("h.safetensors", cases[i].json, cases[i].data_bytes, 0);
        expect_error(what, st_read("h.safetensors"), cases[i].text ? RV_EFORMAT : RV_OK,
                     cases[i].text);
    }
    st_file("absurd.safetensors", "{}", 0, (uint64_t)200 << 20);
    expect_error("st: a 200 MB header length", st_read("absurd.safetensors"), RV_EFORMAT,
                 "over the 100 MB limit");
    expect_error("st: a directory", st_read("."), RV_EIO, "not a regular file");
}

/* Each reader handed a file of another kind names that kind (rv_magic.h)
 * instead of reading a header length or a dict from the wrong bytes; a
 * valid safetensors file whose header length happens to open like another
 * kind's magic (0x8b1f = 35615 bytes: gzip's) is still read, and still named
 * a safetensors file by the .npy reader. */
/* a string literal as .bytes and its .len, its zero bytes included */
#define BYTES(s) s, .len = sizeof(s) - 1
static void test_wrong_kind(void)
{
    static const struct {
        const char *name, *bytes;
        size_t len;
        const char *kind;
    } files[] = {
        {.name = "a.npy",
         .bytes = BYTES("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'"),
         .kind = "a NumPy .npy array"},
        {.name = "a.pt",
         .bytes = BYTES("PK\x03\x04\x00\x00\x08\x00\x00\x00"
                        "archive/data.pkl"),
         .kind = "a zip archive"},
        {.name = "b.pt",
         .bytes = BYTES("\x80\x02\x8a\x0alz\xfc\x9c\x46\xf9\x20\x6a\xa8"),
         .kind = "a Python pickle"},
        {.name = "a.h5",
         .bytes = BYTES("\x89HDF\r\n\x1a\n\x00\x00\x00\x00"),
         .kind = "an HDF5 file"},
        {.name = "cat.png",
         .bytes = BYTES("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
         .kind = "a PNG image"},
        {.name = "cat.jpg",
         .bytes = BYTES("\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
         .kind = "a JPEG image"},
        {.name = "w.gz",
         .bytes = BYTES("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
         .kind = "a gzip-compressed file"},
        {.name = "w.csv", .bytes = BYTES("0.5,0.25,1.0\n0.75,1.5,2.0\n"), .kind = "a text file"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char what[80], text[256];
        write_bytes(files[i].name, files[i].bytes, files[i].len);
        snprintf(what, sizeof what, "st: %s given to the safetensors reader", files[i].name);
        snprintf(text, sizeof text, "%s: not a safetensors file: it is %s", path_of(files[i].name),
                 files[i].kind);
        expect_error(what, st_read(files[i].name), RV_EFORMAT, text);
        if (i == 0) continue; /* a cut .npy is the npy reader's own error */
        rv_tensor t;
        snprintf(what, sizeof what, "npy: %s given to the .npy reader", files[i].name);
        snprintf(text, sizeof text, "%s: not a .npy file: it is %s", path_of(files[i].name),
                 files[i].kind);
        expect_error(what, rv_npy_read(path_of(files[i].name), &t), RV_EFORMAT, text);
    }
    rv_named one = {.name = "x"};
    rv_tensor t;
    CHECK_OK(rv_tensor_alloc1(&one.t, RV_CPU, 2, "x"));
    rv_tensor_fill(&one.t, 0.0f);
    CHECK_OK(rv_safetensors_write(path_of("w.safetensors"), &one, 1));
    expect_error("npy: a safetensors file given to the .npy reader",
                 rv_npy_read(path_of("w.safetensors"), &t), RV_EFORMAT,
                 "not a .npy file: it is a safetensors file");
    rv_tensor_free(&one.t);
    /* {"x": ...} padded with spaces to 35615 bytes: the header length opens with 1f 8b */
    size_t hlen = 0x8b1f;
    char *json = malloc(hlen + 1);
    CHECK(json != NULL, "no memory for the header");
    if (!json) return;
    int n = snprintf(json, hlen + 1,
                     "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
    memset(json + n, ' ', hlen - (size_t)n);
    json[hlen] = '\0';
    st_file("gz.safetensors", json, 8, 0);
    free(json);
    expect_error("st: a header length that opens like gzip", st_read("gz.safetensors"), RV_OK,
                 NULL);
    expect_error("npy: a header length that opens like gzip",
                 rv_npy_read(path_of("gz.safetensors"), &t), RV_EFORMAT,
                 "it is a safetensors file");
}

/* What the writer makes: the header padded to 8 bytes, the data right after
 * it; what it refuses leaves nothing behind, and an existing file untouched. */
static void test_safetensors_writes(void)
{
    rv_named ts[2] = {{.name = "x"}, {.name = "y"}};
    int64_t dim[4] = {1, 3, 1, 3};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(rv_tensor_alloc(&ts[i].t, RV_CPU, 4 - 3 * i, dim, ts[i].name));
        rv_tensor_fill(&ts[i].t, (float)i);
    }
    int before = count_entries();
    CHECK_OK(rv_safetensors_write(path_of("pad.safetensors"), ts, 2));
    unsigned char raw[512];
    FILE *f = fopen(path_of("pad.safetensors"), "rb");
    size_t len = f ? fread(raw, 1, sizeof raw, f) : 0;
    if (f) fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0 && len >= 8; i--) hlen = hlen << 8 | raw[i];
    CHECK(len >= 8 && hlen % 8 == 0 && len == 8 + hlen + (9 + 1) * sizeof(float),
          "header of %llu bytes in a %zu-byte file: not padded to 8, or the data misplaced",
          (unsigned long long)hlen, len);

    strcpy(ts[1].name, "x");
    expect_error("st: writing one name twice",
                 rv_safetensors_write(path_of("pad.safetensors"), ts, 2), RV_EINVAL,
                 "'x' appears twice");
    strcpy(ts[1].name, "__metadata__");
    expect_error("st: a tensor named __metadata__",
                 rv_safetensors_write(path_of("meta.safetensors"), ts, 2), RV_EINVAL,
                 "'__metadata__' cannot name a tensor");
    strcpy(ts[1].name, "y");
    rv_named empty = {.name = "e"};
    expect_error("st: an empty tensor", rv_safetensors_write(path_of("e.safetensors"), &empty, 1),
                 RV_EINVAL, "'e' is empty");
    CHECK(mkdir(path_of("busy.safetensors"), 0700) == 0, "cannot make a directory");
    write_bytes("busy.safetensors/keep", "k", 1);
    expect_error("st: the output is a directory",
                 rv_safetensors_write(path_of("busy.safetensors"), ts, 2), RV_EIO,
                 "busy.safetensors");
    expect_entries(before + 2);
    rv_named *back;
    int n, skipped;
    CHECK_OK(rv_safetensors_read(path_of("pad.safetensors"), &back, &n, &skipped));
    CHECK(n == 2 && strcmp(back[1].name, "y") == 0, "refused writes changed pad.safetensors");
    rv_named_free(back, n);
    for (int i = 0; i < 2; i++) rv_tensor_free(&ts[i].t);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_formats: .npy and safetensors files", &dev);
    if (rc >= 0) return rc;
    snprintf(dir, sizeof dir, "/tmp/rv_formats_XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL: cannot make a temporary directory\n");
        return 1;
    }
    test_npy();
    test_npy_header();
    test_npy_writes();
    test_safetensors();
    test_safetensors_header();
    test_safetensors_writes();
    test_wrong_kind();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
    return rv_test_finish("test_formats");
}

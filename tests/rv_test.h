/* rv_test.h - the few lines every test program shares.
 *
 * A test takes --device cpu|cuda (CTest registers one per device), prints one
 * line per check and exits 0 when all passed, 1 otherwise; a missing device
 * exits 2 with the text CTest reports as "skipped".
 */
#ifndef RV_TEST_H
#define RV_TEST_H

#include <math.h>
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"

/* Returns -1 to go on, or the exit code. */
static inline int rv_test_init(int argc, char **argv, const char *usage, rv_device *dev)
{
    const char *device = "cpu";
    rv_opt opts[] = {{"device", RV_OPT_STR, &device, "cpu or cuda"}};
    int rc = rv_parse_args(argc, argv, usage, opts, 1);
    return rc >= 0 ? rc : rv_cli_device(argv[0], device, dev);
}

/* rv_test_init for a test that also has a --dump DIR mode, writing the
 * tensors a PyTorch check reads: returns -1 to run the tests, or the exit
 * code, after dump(dir, device) when --dump was given (0 when it wrote
 * everything, 1 with the error on stderr). */
static inline int rv_test_init_dump(int argc, char **argv, const char *usage, rv_device *dev,
                                    rv_status (*dump)(const char *dir, rv_device dev))
{
    const char *device = "cpu", *dir = NULL;
    rv_opt opts[] = {
        {"device", RV_OPT_STR, &device, "cpu or cuda"},
        {"dump", RV_OPT_STR, &dir, "write the tensors the PyTorch check reads (.npy) into DIR"}};
    int rc = rv_parse_args(argc, argv, usage, opts, 2);
    if (rc < 0) rc = rv_cli_device(argv[0], device, dev);
    if (rc >= 0 || !dir) return rc;
    rv_status st = dump(dir, *dev);
    if (st != RV_OK) fprintf(stderr, "%s: --dump %s: %s\n", argv[0], dir, rv_last_error());
    return st == RV_OK ? 0 : 1;
}

/* rv_test_init_dump for a test of code that runs on the CPU only (`what`
 * names it): another device is exit 2, saying so. */
static inline int rv_test_init_dump_cpu(int argc, char **argv, const char *usage, const char *what,
                                        rv_status (*dump)(const char *dir, rv_device dev))
{
    rv_device dev = RV_CPU;
    int rc = rv_test_init_dump(argc, argv, usage, &dev, dump);
    if (rc < 0 && dev != RV_CPU) {
        fprintf(stderr, "%s: %s runs on the CPU only\n", argv[0], what);
        return 2;
    }
    return rc;
}

/* Counts failed checks; CHECK_OK also prints the error of a failed call. */
static int rv_test_failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            rv_test_failures++;                                                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)
#define CHECK_OK(call) CHECK((call) == RV_OK, "%s: %s", #call, rv_last_error())
#define CHECK_CLOSE(what, a, ref, tol) CHECK(rv_expect_close(stdout, what, a, ref, tol), "%s", what)

/* t := NaN everywhere, on any device: an output element an op leaves
 * unwritten then fails every comparison. */
static inline rv_status rv_test_fill_nan(rv_tensor *t)
{
    rv_tensor h;
    rv_status st = rv_tensor_alloc(&h, RV_CPU, t->ndim, t->dim, "NaN fill");
    if (st == RV_OK) st = rv_tensor_fill(&h, NAN);
    if (st == RV_OK) st = rv_tensor_copy(t, &h);
    rv_tensor_free(&h);
    return st;
}

static inline int rv_test_finish(const char *name)
{
    printf("%s %s: %d failed check(s)\n", rv_test_failures ? "FAIL" : "PASS", name,
           rv_test_failures);
    return rv_test_failures ? 1 : 0;
}

#endif

/* test_machine.c - the name benchmark results are filed under
 * (rv_machine.h): model names as /proc/cpuinfo and CUDA give them, slugged
 * by the rule every benchmark script shares, and this machine's own name. */
#include <string.h>
#include <unistd.h>

#include "rv_machine.h"
#include "rv_test.h"

static void test_slugs(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {.in = "Intel(R) Xeon(R) Processor 2c", .out = "intel-xeon-2c"},
        {.in = "AMD EPYC 2c avx2", .out = "amd-epyc-2c-avx2"},
        {.in = "AMD EPYC 7B13 64-Core Processor 2c avx2", .out = "amd-epyc-7b13-64-core-2c-avx2"},
        {.in = "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz 12c",
         .out = "intel-core-i7-8700-3-20ghz-12c"},
        {.in = "NVIDIA H100 80GB HBM3 ", .out = "h100-80gb-hbm3"},
        {.in = "--weird__name--", .out = "weird-name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        rv_machine_slug(cases[i].in, out, sizeof out);
        CHECK(strcmp(out, cases[i].out) == 0, "\"%s\" -> \"%s\", expected \"%s\"", cases[i].in, out,
              cases[i].out);
        printf("\"%s\" -> %s\n", cases[i].in, out);
    }
    char short_out[6]; /* cut to 5 characters, then no dash left at the end */
    rv_machine_slug("AMD EPYC", short_out, sizeof short_out);
    CHECK(strcmp(short_out, "amd-e") == 0, "cut short: \"%s\"", short_out);
    rv_machine_slug("AMD EPYC", short_out, 5);
    CHECK(strcmp(short_out, "amd") == 0, "cut before a dash: \"%s\"", short_out);
}

/* This CPU's name: a slug, ending in its core count (and "-avx2" or not). */
static void test_this_machine(void)
{
    char name[64], cores[32], avx2[40];
    rv_machine_name(RV_CPU, name, sizeof name);
    snprintf(cores, sizeof cores, "-%dc", (int)sysconf(_SC_NPROCESSORS_ONLN));
    snprintf(avx2, sizeof avx2, "%s-avx2", cores);
    size_t n = strlen(name), lc = strlen(cores), la = strlen(avx2);
    int ends = (n > lc && strcmp(name + n - lc, cores) == 0) ||
               (n > la && strcmp(name + n - la, avx2) == 0);
    int slug = n > 0 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
    CHECK(ends && slug, "this CPU's name \"%s\" is not a slug ending in %s or %s", name, cores,
          avx2);
    printf("this CPU: %s\n", name);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_machine: the results folder's name", &dev);
    if (rc >= 0) return rc;
    test_slugs();
    test_this_machine();
    return rv_test_finish("test_machine");
}

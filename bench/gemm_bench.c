/* gemm_bench.c - our packed-weights product (src/ops/rv_gemm.h) against
 * OpenBLAS's cblas_sgemm, on one thread, on the products RepVGG-A0 runs.
 *
 * Each row is one product C (M x N) = A (M x K) B (K x N) as a layer of A0 at
 * batch 1 and 224x224 runs it: A the layer's weights (M output channels), B
 * its im2col columns or one Winograd plane of V (N positions or tiles). Ours
 * has A packed once, beforehand, as the network packs it when it plans a
 * layer; OpenBLAS packs both operands on every call, as it must. Then a
 * sweep of narrow products (N = 1 to 8 columns) for each of our kernels this
 * CPU runs: the tails of a block. Every result is checked against OpenBLAS's
 * (RV_TOL_FP32) before it is timed; the exit status is 1 if one disagrees.
 *
 * Timing: per product, calls repeated for about 20 ms, best of 5 such runs
 * (the fastest is the one least disturbed on a shared machine), as GFLOP/s
 * (2 M N K per call, G = 10^9). One thread on purpose: the network's threads
 * split the rows of these products, each thread running exactly this.
 *
 * Run: rv_gemm_bench [--quick]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_cpu.h"
#include "rv_gemm.h"
#include "rv_ops.h"
#include "rv_report.h"
#include "rv_timing.h"

typedef struct {
    const char *what;
    int64_t M, K, N;
} product;

/* RepVGG-A0's products at batch 1, 224x224 (K = 9 C for a 3x3 conv as im2col;
 * Winograd F(4x4): 16, 49 and 196 tiles of 4x4 at 14x14, 28x28 and 56x56) */
static const product a0[] = {
    {"stem, 3 -> 48, stride 2, im2col", 48, 27, 112 * 112},
    {"48 -> 48, stride 2, im2col", 48, 432, 56 * 56},
    {"48 -> 48 at 56x56, Winograd plane", 48, 48, 196},
    {"48 -> 96, stride 2, im2col", 96, 432, 28 * 28},
    {"96 -> 96 at 28x28, Winograd plane", 96, 96, 49},
    {"96 -> 192, stride 2, im2col", 192, 864, 14 * 14},
    {"192 -> 192 at 14x14, Winograd plane", 192, 192, 16},
    {"192 -> 1280, stride 2, im2col", 1280, 1728, 7 * 7},
};

typedef struct {
    int64_t M, K, N;
    const float *a, *packed, *b;
    float *c;
    const rv_gemm_kernel *ours; /* NULL: OpenBLAS */
} call;

static void run(const call *p)
{
    if (p->ours)
        rv_gemm_rows(p->ours, p->packed, p->K, 0, p->M, p->b, p->N, p->N, p->c, p->N, 0, NULL, 0);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->M, (int)p->N, (int)p->K,
                    1.0f, p->a, (int)p->K, p->b, (int)p->N, 0.0f, p->c, (int)p->N);
}

/* GFLOP/s of the best of `runs` runs of about `ms` each */
static double gflops(const call *p, int runs, double ms)
{
    run(p); /* warm-up: caches, and the first call's set-up */
    double t0 = rv_now_ms();
    int64_t reps = 0;
    while (rv_now_ms() - t0 < 2.0) {
        run(p);
        reps++;
    }
    reps = (int64_t)(reps * ms / (rv_now_ms() - t0)) + 1;
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double s = rv_now_ms();
        for (int64_t i = 0; i < reps; i++) run(p);
        double t = (rv_now_ms() - s) / (double)reps;
        if (t < best) best = t;
    }
    return 2.0 * (double)(p->M * p->N * p->K) / (best * 1e6);
}

/* Times one product with our kernel and OpenBLAS's; prints a row; 0 when
 * they disagree (or memory ran out). */
static int measure(const rv_gemm_kernel *k, const char *what, int64_t M, int64_t K, int64_t N,
                   int quick, rv_rng *rng)
{
    rv_tensor a, b, mine, ref, packed;
    int64_t da[2] = {M, K}, db[2] = {K, N}, dc[2] = {M, N};
    int ok = rv_tensor_alloc(&a, RV_CPU, 2, da, "A") == RV_OK &&
             rv_tensor_alloc(&b, RV_CPU, 2, db, "B") == RV_OK &&
             rv_tensor_alloc(&mine, RV_CPU, 2, dc, "C, ours") == RV_OK &&
             rv_tensor_alloc(&ref, RV_CPU, 2, dc, "C, OpenBLAS") == RV_OK &&
             rv_tensor_alloc1(&packed, RV_CPU, rv_gemm_packed_floats(M, K), "packed A") == RV_OK;
    if (ok) {
        rv_tensor_fill_uniform(&a, rng, -1, 1);
        rv_tensor_fill_uniform(&b, rng, -1, 1);
        rv_gemm_pack(a.data, K, 1, M, K, packed.data);
        call ours = {M, K, N, a.data, packed.data, b.data, mine.data, k};
        call blas = {M, K, N, a.data, packed.data, b.data, ref.data, NULL};
        run(&ours);
        run(&blas);
        rv_cmp cmp = rv_compare(mine.data, ref.data, M * N, RV_TOL_FP32);
        if (!cmp.pass) {
            rv_cmp_print(stderr, what, &cmp, RV_TOL_FP32, mine.data, ref.data);
            ok = 0;
        } else {
            int runs = quick ? 1 : 5;
            double ms = quick ? 0.5 : 20.0, g_ours = gflops(&ours, runs, ms),
                   g_blas = gflops(&blas, runs, ms);
            printf("  %-40s %5lld %5lld %6lld %8.1f %8.1f %7.2fx\n", what, (long long)M,
                   (long long)K, (long long)N, g_ours, g_blas, g_ours / g_blas);
        }
    } else {
        fprintf(stderr, "rv_gemm_bench: %s\n", rv_last_error());
    }
    rv_tensor *all[5] = {&a, &b, &mine, &ref, &packed};
    for (int i = 0; i < 5; i++) rv_tensor_free(all[i]);
    return ok;
}

static void header(void)
{
    printf("  %-40s %5s %5s %6s %8s %8s %8s\n", "product", "M", "K", "N", "ours", "OpenBLAS",
           "ratio");
}

int main(int argc, char **argv)
{
    int quick = 0;
    rv_opt opts[] = {{"quick", RV_OPT_FLAG, &quick, "tiny timings (tests the program)"}};
    int rc = rv_parse_args(argc, argv,
                           "rv_gemm_bench: our packed-weights product against OpenBLAS's sgemm, "
                           "one thread, on RepVGG-A0's products and on narrow ones",
                           opts, 1);
    if (rc >= 0) return rc;
    rv_cpu_threads_init(); /* OpenBLAS at one thread, its kernel note */
    const rv_gemm_kernel *best;
    rv_gemm_kernel_for(RV_GEMM_AUTO, &best);
    if (!best) {
        printf("rv_gemm_bench: this CPU runs neither of our kernels (AVX-512, AVX2 + FMA): every "
               "product goes through OpenBLAS\n");
        return 77;
    }
    char cpu[160], date[32];
    rv_device_describe(RV_CPU, cpu, sizeof cpu);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    printf("Our packed-weights product against OpenBLAS, one thread, GFLOP/s (2 M N K per call,\n"
           "G = 10^9; best of %d runs of about %s ms); ratio: ours over OpenBLAS.%s\n"
           "CPU: %s; %s; OpenBLAS: %s, %s kernels\n\n",
           quick ? 1 : 5, quick ? "0.5" : "20",
           quick ? "\n--quick: runs too short for the figures to mean anything" : "", cpu, date,
           openblas_get_config(), openblas_get_corename());
    rv_rng rng = rv_rng_seed(1);
    int ok = 1;
    rv_busy_probe probe; /* best-of runs: other work's signs over the whole run */
    rv_busy_begin(&probe);
    printf("RepVGG-A0's products at batch 1, 224x224 (C = A B, A: M x K weights, B: K x N):\n");
    header();
    for (size_t i = 0; i < sizeof a0 / sizeof a0[0] && ok; i++)
        ok = measure(best, a0[i].what, a0[i].M, a0[i].K, a0[i].N, quick, &rng);
    static const rv_gemm_choice isas[] = {RV_GEMM_AVX512, RV_GEMM_AVX2};
    for (int i = 0; i < 2 && ok; i++) {
        const rv_gemm_kernel *k;
        if (rv_gemm_kernel_for(isas[i], &k) != RV_OK) continue; /* not on this CPU */
        printf("\nNarrow products through the %s kernel (M = K = 192):\n", rv_gemm_kernel_name(k));
        header();
        for (int64_t n = 1; n <= 8 && ok; n++) {
            char what[64];
            snprintf(what, sizeof what, "%lld column%s", (long long)n, n > 1 ? "s" : "");
            ok = measure(k, what, 192, 192, n, quick, &rng);
        }
    }
    rv_busy seen = {0};
    rv_busy_end(&probe, &seen);
    rv_print_busy(stdout, "", &seen);
    return ok ? 0 : 1;
}
